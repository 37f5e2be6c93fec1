"""Page latency of `satisfice web` on the bundled catalog + 100,000 gateway spend rows + 50 eval runs.

Seeds a fresh SQLite store (or --db URL), starts `satisfice web` as its own process on 127.0.0.1, requests every
page once (cold: first computation for this catalog content), then --repeat times each, sequentially, and prints
one JSON document: per page p50 / p95 / max in milliseconds and the bytes served. The target is p95 <= 300 ms.
``first_builds`` times, in this process, what the server computes once in a warm-up thread when it starts
(the gateway rollup's full scan, the Insights analyses); pages are timed after that.

    .venv/bin/python benchmarks/web_pages.py [--rows 100000] [--runs 50] [--repeat 40] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.seed import seed_catalog, seed_evals, seed_gateway  # noqa: E402

from satisfice.store import open_store  # noqa: E402

TARGET_P95_MS = 300.0


def _pages(run_id: int) -> dict[str, str]:
    return {
        "insights": "/", "market": "/market", "market mmlu 85": "/market?benchmark=mmlu&threshold=85",
        "catalog": "/catalog", "catalog open, sorted by price": "/catalog?weights=open&sort=price",
        "model": "/catalog/deepseek-r1", "evals": "/evals", "eval run": f"/evals/{run_id}",
        "gateway (30 days)": "/gateway", "gateway (all time)": "/gateway?days=all",
        "gateway (1 day, hourly)": "/gateway?days=1", "gateway one route": "/gateway?days=all&route=task/sentiment",
        "pipeline": "/pipeline", "api insights": "/api/insights", "api gateway": "/api/gateway?days=all",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _first_builds(url: str) -> dict[str, float]:
    """What the server's warm-up thread computes once: the gateway rollup (a full scan) and the Insights analyses."""
    import datetime as dt

    from satisfice.web.gateway_rollup import GatewayRollup
    from satisfice.web.market_pages import insights
    from satisfice.web.params import Params
    from satisfice.web.readonly import CatalogCache, read_only_store

    store = read_only_store(url)
    try:
        start = time.perf_counter()
        GatewayRollup(store).read(dt.datetime.now(dt.UTC).replace(tzinfo=None), lambda r: None)
        rollup_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        insights(CatalogCache(store), Params({}))
        insights_ms = (time.perf_counter() - start) * 1000
    finally:
        store.close()
    return {"gateway_rollup_full_build_ms": round(rollup_ms, 1), "insights_first_compute_ms": round(insights_ms, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="web-bench-"))
    url = args.db or f"sqlite:///{tmp / 'bench.db'}"
    t0 = time.perf_counter()
    store = open_store(url)
    seed_catalog(store, tmp, hostile=False)
    seed_gateway(store, args.rows, hostile=False)
    run_ids = seed_evals(store, args.runs, hostile=False)
    store.close()
    seeded_s = time.perf_counter() - t0
    startup = _first_builds(url)
    port = _free_port()
    env = {**os.environ, "SATISFICE_HOME": str(tmp / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "satisfice", "--db", url, "web", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict[str, float]] = {}
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/static/style.css")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit(f"server did not start: {proc.stderr.read() if proc.stderr else ''}") from None
                    time.sleep(0.2)
            for name, path in _pages(run_ids[len(run_ids) // 2]).items():
                start = time.perf_counter()
                first = client.get(path)
                cold = (time.perf_counter() - start) * 1000
                first.raise_for_status()
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    client.get(path).raise_for_status()
                    times.append((time.perf_counter() - start) * 1000)
                results[name] = {"path": path, "cold_ms": round(cold, 1), "p50_ms": round(statistics.median(times), 1),
                                 "p95_ms": round(_pct(times, 0.95), 1), "max_ms": round(max(times), 1),
                                 "bytes": len(first.content)}
            uncached = []
            for i in range(args.repeat):  # a new bar each time: the market analyses run, nothing is cached
                start = time.perf_counter()
                client.get(f"/market?benchmark=gpqa-diamond&threshold={40 + i * 0.37:.2f}").raise_for_status()
                uncached.append((time.perf_counter() - start) * 1000)
            results["market, a new bar each request (uncached)"] = {
                "path": "/market?benchmark=gpqa-diamond&threshold=<varied>", "p50_ms": round(statistics.median(
                    uncached), 1), "p95_ms": round(_pct(uncached, 0.95), 1), "max_ms": round(max(uncached), 1)}
    finally:
        proc.terminate()
        proc.wait(10)
    worst = max(r["p95_ms"] for r in results.values())
    print(json.dumps({"store": url.split(":", 1)[0], "spend_rows": args.rows, "eval_runs": args.runs,
                      "repeat": args.repeat, "seed_s": round(seeded_s, 1), "first_builds": startup,
                      "target_p95_ms": TARGET_P95_MS,
                      "worst_p95_ms": worst, "all_within_target": worst <= TARGET_P95_MS, "pages": results},
                     indent=2))


if __name__ == "__main__":
    main()
