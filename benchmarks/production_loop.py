"""The production loop's figures: the experiment's added cost per request, and the promotion rule's error and power.

1. Added cost per request: the three hooks the request path calls (``choose``, ``finished``, ``served``) timed
   in process on a route with an experiment and on the same route without one; p50 and p99 over batches of
   1,000 calls. (A micro-benchmark: ``gateway_overhead.py`` starts several servers and load tools, too heavy
   for a shared machine; this isolates exactly the code an experiment adds to a request.)
2. The sequential rule (``satisfice.gateway.loop.sequential.decide``), simulated: how often a challenger whose true
   accuracy is below the bar, or exactly at it, is ever promoted (looking after every 5 scores, up to the
   horizon), and how many scored requests a good challenger needs.

Usage: ``.venv/bin/python benchmarks/production_loop.py [--calls 200000] [--sims 1000]``. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import yaml

from satisfice.gateway.http.admitted import Admitted
from satisfice.gateway.http.app import Gateway
from satisfice.gateway.loop.sequential import decide
from satisfice.gateway.routes.config import parse_config
from satisfice.gateway.wire.upstream import CHAT
from satisfice.store import Store

PRICES = {"small": {"input_per_m": 0.1, "output_per_m": 0.4}, "big": {"input_per_m": 3.0, "output_per_m": 15.0}}


def _gateway(tmp: str) -> Gateway:
    exp = {"challengers": ["small"], "bar": 0.9, "max_share": 0.1, "evidence": ["feedback", "verifier"]}
    cfg = {"auth": False, "upstreams": [{"name": "u", "base_url": "http://127.0.0.1:9/v1", "models": ["small", "big"]}],
           "prices": PRICES, "ledger": {"durability": "off"},
           "routes": {"plain": {"chain": ["big"]}, "exp": {"chain": ["big"], "experiment": exp}}}
    return Gateway(parse_config(yaml.safe_dump(cfg)), Store(f"sqlite:///{tmp}/bench.db"))


def _hooks(gw: Gateway, route: str, calls: int, batch: int = 1000) -> list[float]:
    """Microseconds per request of the three hooks, one figure per batch."""
    base = gw.router.plans[route]
    payload = {"model": route, "messages": [{"role": "user", "content": "hi"}]}
    out = []
    loop = gw.loop
    for _ in range(calls // batch):
        ctxs = [Admitted(gw.services, base, CHAT, payload, None, None, 10, 0.0) for _ in range(batch)]
        started = time.perf_counter()
        for ctx in ctxs:
            ctx.plan = loop.choose(ctx.plan)
            loop.finished(ctx, ctx.request_id)
            loop.served(ctx, "big", "answer", 0.0)
        out.append((time.perf_counter() - started) / batch * 1e6)
    return out


def overhead(calls: int) -> dict[str, Any]:
    """Added cost of an experiment per request (the hooks with one, minus the hooks without)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        gw = _gateway(tmp)
        _hooks(gw, "task/plain", 10_000)
        _hooks(gw, "task/exp", 10_000)  # warm up
        plain = np.array(_hooks(gw, "task/plain", calls))
        exp = np.array(_hooks(gw, "task/exp", calls))
        explored = gw.loop.experiments.routes["task/exp"].explored
        seen = gw.loop.experiments.routes["task/exp"].seen
    return {"calls": calls, "hooks_without_experiment_us_p50": round(float(np.median(plain)), 3),
            "hooks_with_experiment_us_p50": round(float(np.median(exp)), 3),
            "added_us_p50": round(float(np.median(exp) - np.median(plain)), 3),
            "added_us_p99": round(float(np.percentile(exp, 99) - np.percentile(plain, 50)), 3),
            "explored_share": round(explored / seen, 4)}


def _run(p: float, bar: float, alpha: float, horizon: int, rng: np.random.Generator) -> tuple[str, int]:
    draws = (rng.random(horizon) < p).astype(float)
    for n in range(5, horizon + 1, 5):
        decision, _ = decide(draws[:n], bar, alpha, horizon)
        if decision != "continue":
            return decision, n
    return "continue", horizon


def rule(sims: int, bar: float = 0.9, alpha: float = 0.05, horizon: int = 1000) -> dict[str, Any]:
    """Simulated false-promotion rates and the scored requests a good challenger needs."""
    rng = np.random.default_rng(2026)
    result: dict[str, Any] = {"bar": bar, "alpha": alpha, "horizon": horizon, "sims": sims}
    for p in (0.85, 0.88, 0.9):
        runs = [_run(p, bar, alpha, horizon, rng) for _ in range(sims)]
        result[f"promoted_rate_at_{p}"] = sum(d == "promote" for d, _ in runs) / sims
    for p in (0.95, 0.98, 1.0):
        runs = [_run(p, bar, alpha, horizon, rng) for _ in range(sims)]
        needed = [n for d, n in runs if d == "promote"]
        result[f"promoted_rate_at_{p}"] = len(needed) / sims
        result[f"scored_to_promote_at_{p}_p50"] = float(np.median(needed)) if needed else None
        result[f"scored_to_promote_at_{p}_p95"] = float(np.percentile(needed, 95)) if needed else None
    return result


def main() -> None:
    """Parse options, measure, print one JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--sims", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps({"overhead": overhead(args.calls), "rule": rule(args.sims)}, indent=2))


if __name__ == "__main__":
    main()
