"""Gateway memory under stalled uploads: 400 connections each send most of a 1 MB body, then stall.

Starts the fake upstream and satisfice's gateway (as ``gateway_overhead.py`` does: a real ``satisfice gateway
serve`` process, virtual keys on), then: 400 connections *without* a key, and twice 400 connections *with* a
valid key, each sending headers for a 1,000,000-byte body and as much of its first 983,000 bytes as the server
takes within ``--send-s`` seconds, then stalling. The gateway's RSS (``/proc/<pid>/status``) is sampled
meanwhile; then every connection is closed and the RSS read again after ``--settle-s`` seconds.

Prints one JSON document: per phase the RSS before, the peak while stalled, the growth, the RSS after the
connections closed, how many bytes the server accepted and how many connections it answered (401 / 408 / 503)
or closed. Run: ``.venv/bin/python benchmarks/stalled_uploads_memory.py [--connections 400]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _procs import Procs  # noqa: E402
from _targets import start_satisfice, start_upstream  # noqa: E402

DECLARED = 1_000_000
SENT = 983_000


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


async def stall(host: str, port: int, path: str, auth: str | None, payload: memoryview,
                send_s: float) -> tuple[socket.socket | None, int, str]:
    """Open one connection, send headers and up to SENT body bytes for ``send_s``; (socket, bytes sent, state)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            + (f"Authorization: {auth}\r\n" if auth else "") + f"Content-Length: {DECLARED}\r\n\r\n").encode()
    sent = 0
    try:
        await loop.sock_connect(sock, (host, port))
        await loop.sock_sendall(sock, head)
        deadline = loop.time() + send_s
        while sent < SENT and loop.time() < deadline:
            try:
                n = sock.send(payload[sent:sent + 65536])
            except BlockingIOError:
                await asyncio.sleep(0.05)
                continue
            sent += n
        return sock, sent, "stalled"
    except OSError as exc:  # answered and closed by the server
        sock.close()
        return None, sent, type(exc).__name__


def answered(sock: socket.socket) -> str:
    """What the server said on this connection so far (status line), or that it closed it, or nothing yet."""
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return "no answer"
    except OSError as exc:
        return type(exc).__name__
    if not data:
        return "closed"
    return data.split(b"\r\n", 1)[0].decode("latin-1", "replace").split(" ", 2)[1]


async def phase(pid: int, url: str, auth: str | None, n: int, send_s: float, settle_s: float) -> dict[str, Any]:
    host, rest = url.split("://", 1)[1].split("/", 1)
    hostname, port = host.split(":")
    payload = memoryview(b'{"model": "task/bench", "messages": [{"role": "user", "content": "' + b"x" * SENT)
    before = rss_mb(pid)
    peak = before
    tasks = [asyncio.ensure_future(stall(hostname, int(port), "/" + rest, auth, payload, send_s)) for _ in range(n)]
    while not all(t.done() for t in tasks):
        peak = max(peak, rss_mb(pid))
        await asyncio.sleep(0.1)
    results = [t.result() for t in tasks]
    for _ in range(10):
        peak = max(peak, rss_mb(pid))
        await asyncio.sleep(0.1)
    states: dict[str, int] = {}
    for sock, _, state in results:
        key = answered(sock) if sock is not None else state
        states[key] = states.get(key, 0) + 1
    for sock, _, _ in results:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
    await asyncio.sleep(settle_s)
    after = rss_mb(pid)
    return {"connections": n, "rss_before_mb": round(before, 1), "rss_peak_mb": round(peak, 1),
            "growth_mb": round(peak - before, 1), "rss_after_close_mb": round(after, 1),
            "retained_after_close_mb": round(after - before, 1),
            "body_bytes_accepted_mb": round(sum(r[1] for r in results) / 1e6, 1), "answers": states}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--connections", type=int, default=400)
    p.add_argument("--send-s", type=float, default=4.0)
    p.add_argument("--settle-s", type=float, default=3.0)
    args = p.parse_args()
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 4 * args.connections + 256), hard), hard))
    with tempfile.TemporaryDirectory(prefix="satisfice-mem-") as tmp, Procs(Path(tmp)) as procs:
        base = start_upstream(procs, None)
        proc, target = start_satisfice(procs, Path(tmp), None, base, "task/bench")
        pid = proc.popen.pid
        report: dict[str, Any] = {"gateway_pid_rss_at_start_mb": round(rss_mb(pid), 1)}
        started = time.perf_counter()
        report["without_key"] = asyncio.run(phase(pid, target.url, None, args.connections, args.send_s,
                                                  args.settle_s))
        for name in ("with_key", "with_key_again"):  # again: what stays is the allocator's high water, not a leak
            report[name] = asyncio.run(phase(pid, target.url, target.headers["Authorization"], args.connections,
                                             args.send_s, args.settle_s))
        report["seconds"] = round(time.perf_counter() - started, 1)
        report["settings"] = {"declared_body_bytes": DECLARED, "sent_body_bytes": SENT, "send_s": args.send_s,
                              "settle_s": args.settle_s, "cpus": os.cpu_count()}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
