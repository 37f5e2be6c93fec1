"""CPU and wall time of one upstream POST: satisfice's one HTTP client against aiohttp's ClientSession, side by side.

Starts the benchmark's fake upstream (``_upstream.py``) on 127.0.0.1, pinned to CPU 1 when there are two CPUs,
and runs this process on CPU 0; then sends ``--requests`` sequential POSTs on one kept-alive connection with
each client after a warm-up, and prints JSON: microseconds of wall time and of this process's CPU time per
request, for each. ``aiohttp`` is a pooled ``ClientSession`` set up as the transport used to be (the stack
that was replaced); ``satisfice`` is :class:`~satisfice.clients.http.HttpTransport` as every model call uses it;
``pyreqwest`` (a Rust-based client from PyPI) is measured too when it is installed.

Run: ``.venv/bin/python benchmarks/post_client_cpu.py [--requests 5000]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _procs import free_port

from satisfice.clients.http import HttpTransport

BODY = b'{"model":"bench-model","messages":[{"role":"user","content":"Say ok."}],"max_tokens":5}'
HEADERS = {"Authorization": "Bearer sk-bench-0000"}


async def _timed(post: Callable[[], Awaitable[int]], n: int, warmup: int) -> dict[str, Any]:
    for _ in range(warmup):
        await post()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        assert await post() == 200
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"wall_us_per_request": round(wall / n * 1e6, 1), "cpu_us_per_request": round(cpu / n * 1e6, 1)}


async def measure(url: str, client: str, n: int, warmup: int) -> dict[str, Any]:
    if client == "satisfice":
        transport = HttpTransport(timeout_s=10.0)

        async def post() -> int:
            return (await transport.post(url, BODY, HEADERS)).status

        try:
            return await _timed(post, n, warmup)
        finally:
            await transport.close()
    if client == "pyreqwest":
        from pyreqwest.client import ClientBuilder

        async with ClientBuilder().max_connections(256).build() as rq:
            async def post_rq() -> int:
                resp = await rq.post(url).headers({**HEADERS, "Content-Type": "application/json"}).body_bytes(
                    BODY).build().send()
                await resp.bytes()
                return int(resp.status)

            return await _timed(post_rq, n, warmup)
    import aiohttp

    connector = aiohttp.TCPConnector(limit=256, limit_per_host=0, keepalive_timeout=30, ttl_dns_cache=300)
    timeout = aiohttp.ClientTimeout(total=10.0, sock_connect=10.0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     headers={"Content-Type": "application/json"}) as session:
        async def post_aiohttp() -> int:
            async with session.post(url, data=BODY, headers=HEADERS, allow_redirects=False) as resp:
                await resp.read()
                return resp.status

        return await _timed(post_aiohttp, n, warmup)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--warmup", type=int, default=500)
    args = p.parse_args()
    import uvloop

    pin = (os.cpu_count() or 1) >= 2
    port = free_port()
    cmd = [sys.executable, str(Path(__file__).parent / "_upstream.py"), "--port", str(port)]
    upstream = subprocess.Popen((["taskset", "-c", "1"] if pin else []) + cmd, stdout=subprocess.PIPE)
    try:
        assert upstream.stdout is not None
        upstream.stdout.readline()  # READY <port>
        if pin:
            os.sched_setaffinity(0, {0})
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        names = ["aiohttp", "satisfice"] + (["pyreqwest"] if importlib.util.find_spec("pyreqwest") else [])
        report: dict[str, Any] = {name: uvloop.run(measure(url, name, args.requests, args.warmup))
                                  for name in names}
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)
    report["cpu_ratio"] = round(report["aiohttp"]["cpu_us_per_request"]
                                / report["satisfice"]["cpu_us_per_request"], 2)
    report["settings"] = {"requests": args.requests, "warmup": args.warmup, "pinned": pin}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
