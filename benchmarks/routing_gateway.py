"""Routing overhead in the gateway: a learned route against a static route to the same model, same upstream.

In process (the gateway as an ASGI app over httpx's ASGITransport, a real scripted upstream on 127.0.0.1, a
SQLite store in a temporary folder). A router is trained on arc_challenge's training outcomes and its policy
set to the logistic-regression router (so every request is featurised and scored); the upstream serves every
model. Requests alternate between ``task/static`` (chain: the per-task model) and ``task/learned`` with real
RouterBench prompts; ``routing_overhead_p50_ms`` is the difference of the two p50 latencies (end to end,
noisy on a shared machine), beside the policy's own cost: ``choose_p50_ms`` times ``Router.choose`` (the
gateway's per-request planning step) for each route.

    .venv/bin/python benchmarks/routing_gateway.py [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import yaml

from satisfice.clients.scripted_server import ScriptedServer
from satisfice.evals.outcomes import load_outcomes
from satisfice.gateway.http.app import Gateway
from satisfice.gateway.routes.config import parse_config
from satisfice.routing import store as router_store
from satisfice.routing.data import from_tables
from satisfice.routing.evaluate import routing_latency_ms
from satisfice.routing.policies import Predictive
from satisfice.routing.train import train
from satisfice.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from routing import DEFAULT_DATA  # noqa: E402


async def measure(n: int) -> dict[str, Any]:
    data = from_tables([load_outcomes(DEFAULT_DATA / "arc_challenge_train_with_responses.csv")])
    trained = train(data, 0.8, 0.95)
    trained = dataclasses.replace(trained, policy=Predictive("logreg", 0.7, trained.per_task.model))
    per_task = trained.models[trained.per_task.model]
    with tempfile.TemporaryDirectory() as tmp:
        router_store.save(trained, Path(tmp) / "router", sources=["arc_challenge"])
        async with ScriptedServer(default="A") as upstream:
            cfg = {"auth": False, "spend_log": {"flush_interval_s": 0.2},
                   "upstreams": [{"name": "a", "base_url": upstream.base_url, "timeout_s": 5.0,
                                  "models": {m: None for m in trained.models},
                                  "prices": {m: {"input_per_m": 1.0, "output_per_m": 2.0} for m in trained.models}}],
                   "routes": {"static": {"chain": [per_task]},
                              "learned": {"policy": "learned", "router": "router"}}}
            store = open_store(f"sqlite:///{tmp}/store.db")
            gw = Gateway(parse_config(yaml.safe_dump(cfg), base_dir=Path(tmp)), store)
            times: dict[str, list[float]] = {"static": [], "learned": []}
            async with gw.running():
                transport = httpx.ASGITransport(app=gw.app)
                async with httpx.AsyncClient(transport=transport, base_url="http://gw", timeout=30) as client:
                    for i in range(n + 20):
                        for route in ("static", "learned"):
                            body = {"model": f"task/{route}",
                                    "messages": [{"role": "user", "content": data.prompts[i % data.n]}]}
                            start = time.perf_counter()
                            resp = await client.post("/v1/chat/completions", json=body)
                            elapsed = (time.perf_counter() - start) * 1000.0
                            resp.raise_for_status()
                            if i >= 20:  # warm-up
                                times[route].append(elapsed)
            choose: dict[str, list[float]] = {"static": [], "learned": []}
            for i in range(n):
                for route in ("static", "learned"):
                    message = {"role": "user", "content": data.prompts[i % data.n]}
                    body = {"model": f"task/{route}", "messages": [message]}
                    start = time.perf_counter()
                    gw.router.choose(body)
                    choose[route].append((time.perf_counter() - start) * 1000.0)
            store.close()
    p50 = {r: float(np.percentile(t, 50)) for r, t in times.items()}
    decide_p50, decide_p95 = routing_latency_ms(trained, data.prompts, limit=n)
    return {"requests_per_route": n, "static_p50_ms": p50["static"], "learned_p50_ms": p50["learned"],
            "routing_overhead_p50_ms": p50["learned"] - p50["static"],
            "static_p95_ms": float(np.percentile(times["static"], 95)),
            "learned_p95_ms": float(np.percentile(times["learned"], 95)),
            "router_decision_p50_ms": decide_p50, "router_decision_p95_ms": decide_p95,
            "choose_p50_ms": {r: float(np.percentile(t, 50)) for r, t in choose.items()},
            "choose_p95_ms": {r: float(np.percentile(t, 95)) for r, t in choose.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    json.dump(asyncio.run(measure(args.requests)), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
