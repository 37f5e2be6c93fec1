"""Hostile connections against a real gateway process: what they cost in memory, and whether real requests go on.

Opens ``--connections`` (default 1,000) client connections that never complete a request, in three kinds: idle
(connect, send nothing), slowloris (a request line, then one header line per second, never the blank line) and
large heads (a header of ``--header-mb`` MB, default 8, streamed as fast as the gateway reads it). Meanwhile a real
client sends one chat completion every ``--interval`` seconds. The gateway's RSS (``/proc/<pid>/status``) is
sampled every 0.1 s.

Usage: ``.venv/bin/python benchmarks/gateway_hostile.py [--connections 1000] [--duration 15] [--header-mb 8]``.
Prints one JSON document: RSS before, peak and added; real requests answered 200 and failed; how the hostile
connections ended. Exit status 1 when a real request failed or the RSS added reached ``--max-added-mb`` (50).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from satisfice.clients.scripted_server import ScriptedServerThread


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _hostile(port: int, kind: str, until: float, header_mb: int, ended: dict[str, int]) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        ended["connect_failed"] = ended.get("connect_failed", 0) + 1
        return
    outcome = "open_at_end"
    try:
        if kind == "slowloris":
            writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
            n = 0
            while time.monotonic() < until:
                await asyncio.sleep(1.0)
                writer.write(b"X-Drip-%d: 1\r\n" % n)
                await writer.drain()
                n += 1
        elif kind == "large":
            writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Big: ")
            chunk = b"a" * 65536
            for _ in range(header_mb * 16):
                if time.monotonic() >= until:
                    break
                writer.write(chunk)
                await writer.drain()
        reply = await asyncio.wait_for(reader.read(200), max(0.01, until - time.monotonic()))
        outcome = "answered_" + reply[9:12].decode() if reply.startswith(b"HTTP/1.1 ") else "closed_by_server"
    except TimeoutError:
        outcome = "open_at_end"
    except (ConnectionError, OSError):
        outcome = "closed_by_server"
    finally:
        writer.close()
    key = f"{kind}:{outcome}"
    ended[key] = ended.get(key, 0) + 1


async def _real(url: str, until: float, interval: float, statuses: list[int]) -> None:
    body = {"model": "small", "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(timeout=10) as client:
        while time.monotonic() < until:
            try:
                statuses.append((await client.post(url + "/v1/chat/completions", json=body)).status_code)
            except httpx.HTTPError:
                statuses.append(-1)
            await asyncio.sleep(interval)


async def _run(args: argparse.Namespace, pid: int, port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:  # warm: the first request loads what it needs
        for _ in range(20):
            await client.post(url + "/v1/chat/completions",
                              json={"model": "small", "messages": [{"role": "user", "content": "hi"}]})
    await asyncio.sleep(0.5)
    before = _rss_mb(pid)
    until = time.monotonic() + args.duration
    ended: dict[str, int] = {}
    statuses: list[int] = []
    kinds = ["idle", "slowloris", "large"]
    tasks = [asyncio.create_task(_hostile(port, kinds[n % 3], until, args.header_mb, ended))
             for n in range(args.connections)]
    real = asyncio.create_task(_real(url, until, args.interval, statuses))
    peak = before
    while time.monotonic() < until:
        peak = max(peak, _rss_mb(pid))
        await asyncio.sleep(0.1)
    await asyncio.gather(*tasks, real)
    after = _rss_mb(pid)
    return {"rss_before_mb": round(before, 1), "rss_peak_mb": round(peak, 1), "rss_after_mb": round(after, 1),
            "rss_added_peak_mb": round(peak - before, 1), "real_ok": statuses.count(200),
            "real_failed": len(statuses) - statuses.count(200), "hostile": dict(sorted(ended.items()))}


def main() -> int:
    """Run the measurement; print one JSON document."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--connections", type=int, default=1000)
    p.add_argument("--duration", type=float, default=15.0, help="seconds of hostile load (default 15)")
    p.add_argument("--header-mb", type=int, default=8)
    p.add_argument("--interval", type=float, default=0.05, help="pause between real requests (default 0.05 s)")
    p.add_argument("--max-added-mb", type=float, default=50.0)
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="satisfice-hostile-") as tmp, \
            ScriptedServerThread(default="hello") as upstream:
        cfg = {"auth": False, "upstreams": [{"name": "a", "base_url": upstream.base_url, "models": {"small": None},
                                             "prices": {"small": {"input_per_m": 1.0, "output_per_m": 2.0}}}]}
        config = Path(tmp) / "gateway.yaml"
        config.write_text(yaml.safe_dump(cfg))
        port = _free_port()
        env = {**os.environ, "SATISFICE_HOME": tmp, "SATISFICE_NO_BUNDLED": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "satisfice", "gateway", "serve", "--config", str(config),
                                 "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            result = asyncio.run(_run(args, proc.pid, port))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    result.update({"connections": args.connections, "duration_s": args.duration, "header_mb": args.header_mb,
                   "file_limit_client": [soft, hard], "loadavg_1m": os.getloadavg()[0]})
    result["ok"] = result["real_failed"] == 0 and result["rss_added_peak_mb"] < args.max_added_mb
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
