"""Requests per second the self-host bench driver sustains from one core against a server that answers instantly.

Starts ``_sse_upstream.py`` (a fake OpenAI-compatible server streaming a prebuilt answer: 4 text events, usage,
``[DONE]``) on 127.0.0.1, pinned to CPU 1 when there are two CPUs, pins this process to CPU 0, and runs the bench
driver (:func:`satisfice.selfhost.driver.run_level` with the HTTP streamer, SSE parsing and per-token timing
included) at each concurrency for ``--requests`` requests after a warm-up. Prints JSON: requests/s (wall) and
this process's CPU microseconds per request (1e6 / that is the rate one core could drive). On a shared machine
the wall rate depends on how much of its CPU the driver gets; the CPU figure does not.

Run: ``.venv/bin/python benchmarks/selfhost_driver.py [--requests 20000] [--concurrency 1,16,64]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _procs import free_port

from satisfice.clients.http import HttpTransport
from satisfice.selfhost.driver import LoadPlan, parse_levels, run_level
from satisfice.selfhost.http_stream import HttpStreamer


async def measure(base_url: str, concurrency: int, n: int) -> dict[str, Any]:
    transport = HttpTransport(timeout_s=10.0, max_connections=max(64, concurrency))
    streamer = HttpStreamer(base_url, "bench-model", prompt_tokens=512, output_tokens=4, transport=transport)
    try:
        await run_level(streamer, concurrency, LoadPlan(requests=min(n, 2000)))  # warm the pool and the code paths
        cpu, wall = time.process_time(), time.perf_counter()
        samples = await run_level(streamer, concurrency, LoadPlan(requests=n, warmup=False))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await transport.close()
    errors = sum(1 for s in samples if s.error is not None)
    tokens = sum(s.output_tokens for s in samples)
    return {"concurrency": concurrency, "requests": len(samples), "errors": errors, "output_tokens": tokens,
            "requests_per_s": round(len(samples) / wall), "cpu_us_per_request": round(cpu / n * 1e6, 1),
            "requests_per_cpu_s": round(n / cpu) if cpu > 0 else None}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--concurrency", default="1,16,64")
    args = p.parse_args()
    import uvloop

    pin = (os.cpu_count() or 1) >= 2
    port = free_port()
    cmd = [sys.executable, str(Path(__file__).parent / "_sse_upstream.py"), "--port", str(port)]
    server = subprocess.Popen((["taskset", "-c", "1"] if pin else []) + cmd, stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None
        server.stdout.readline()  # READY <port>
        if pin:
            os.sched_setaffinity(0, {0})
        base = f"http://127.0.0.1:{port}/v1"
        levels = [uvloop.run(measure(base, c, args.requests)) for c in parse_levels(args.concurrency)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    best = max(lv["requests_per_s"] for lv in levels)
    per_cpu = min(lv["requests_per_cpu_s"] or 0 for lv in levels)
    print(json.dumps({"levels": levels, "best_requests_per_s": best, "target_requests_per_s": 2000,
                      "meets_target_wall": best >= 2000,
                      "worst_requests_per_cpu_second": per_cpu, "meets_target_cpu": per_cpu >= 2000,
                      "settings": {"requests": args.requests, "pinned_to_one_cpu": pin, "cpus": os.cpu_count()}},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
