"""Guarded experiments: the sequential rule's error rate and power (simulated), and promotion in real gateways.

Stated figures (checked here): with bar 0.8 and confidence 0.95, a challenger that is always right is promoted
within 40 scored requests; with bar 0.9, one right 98% of the time within 400 in every run of a simulation.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from sqlalchemy import select

from satisfice.clients.scripted_server import Received, ScriptedServer, ScriptedServerThread, Step
from satisfice.errors import ConfigError
from satisfice.gateway.loop.sequential import decide, judge
from satisfice.gateway.routes.config import parse_config
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewayLedger
from satisfice.store.schema_outcomes import GatewayExperiment

from .conftest import base_config, chat, make_gateway, running, spend_rows
from .test_ledger_procs import Fleet


def first_promotion(p: float, bar: float, alpha: float, rng: np.random.Generator, *, horizon: int = 1000,
                    every: int = 5) -> int | None:
    """Scored requests until the rule promotes (None: stopped or never), looking every ``every`` scores."""
    draws = (rng.random(horizon) < p).astype(float)
    for n in range(every, horizon + 1, every):
        decision, _ = decide(draws[:n], bar, alpha, horizon)
        if decision == "promote":
            return n
        if decision == "stop":
            return None
    return None


def test_a_challenger_below_the_bar_is_promoted_within_the_error_rate() -> None:
    rng = np.random.default_rng(7)
    promoted = sum(first_promotion(0.88, 0.9, 0.05, rng, every=10) is not None for _ in range(200))
    assert promoted <= 10  # 5% of 200; the rule is conservative, so it is usually 0
    at_the_bar = sum(first_promotion(0.9, 0.9, 0.05, rng, every=25) is not None for _ in range(100))
    assert at_the_bar <= 5


def test_a_challenger_above_the_bar_is_promoted_within_the_stated_number() -> None:
    rng = np.random.default_rng(11)
    times = [first_promotion(0.98, 0.9, 0.05, rng) for _ in range(50)]
    assert all(t is not None and t <= 400 for t in times), times
    assert first_promotion(1.0, 0.8, 0.05, rng, every=1) is not None
    assert (first_promotion(1.0, 0.8, 0.05, rng, every=1) or 0) <= 40


def test_the_interval_and_the_stop_rule() -> None:
    verdict = judge([1.0] * 30 + [0.0] * 30, 0.9, 0.05, 1000)
    assert verdict.decision == "stop" and verdict.ci_low <= 0.5 <= verdict.ci_high and verdict.ci_high < 0.9
    assert judge([], 0.9, 0.05, 1000).decision == "continue"
    assert judge([1.0, 0.0] * 5, 0.5, 0.05, 10).decision == "stop"  # undecided at the horizon


def yes_with(p: float, seed: int = 1) -> Any:
    rng = random.Random(seed)

    def script(received: Received) -> str | Step:
        if received.body["model"] == "small-wire":
            return "yes" if rng.random() < p else "no"
        return "yes"

    return script


def experiment_cfg(url: str, *, share: float = 0.5, **extra: Any) -> dict[str, Any]:
    exp = {"challengers": ["small"], "bar": 0.8, "confidence": 0.95, "max_share": share, "evidence": ["verifier"],
           "check_s": 0.05}
    return base_config(url, routes={"yes": {"chain": ["big"], "verifiers": [{"regex": "yes"}],
                                            "experiment": exp}}, **extra)


def experiments(store: Store) -> list[GatewayExperiment]:
    with store.session() as s:
        return list(s.scalars(select(GatewayExperiment)))


async def test_a_good_cheaper_challenger_is_promoted_and_survives_a_restart(store: Store,
                                                                            upstream: ScriptedServer) -> None:
    upstream.set_script(yes_with(1.0))
    gw = make_gateway(store, experiment_cfg(upstream.base_url))
    async with running(gw) as client:
        sent = 0
        while experiments(store)[0].state != "promoted" and sent < 200:
            resp = await client.post("/v1/chat/completions", json=chat("task/yes"))
            assert resp.status_code == 200 and resp.json()["choices"][0]["message"]["content"] == "yes"
            sent += 1
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.2)
        after = await client.post("/v1/chat/completions", json=chat("task/yes"))
    row = experiments(store)[0]
    assert row.state == "promoted" and row.scored <= 40 and row.ci_low >= 0.8 and row.incumbent == "big"
    assert after.headers["x-satisfice-model"] == "small"
    explored = sum(1 for r in spend_rows(store) if "small" in r.models_tried)
    assert row.requests >= row.scored and explored <= 0.5 * sent + 1 + 1  # +1: the request after promotion
    again = make_gateway(store, experiment_cfg(upstream.base_url))
    async with running(again) as client:
        first = await client.post("/v1/chat/completions", json=chat("task/yes"))
    assert first.headers["x-satisfice-model"] == "small"


async def test_a_poor_challenger_is_stopped_and_never_serves_a_bad_answer(store: Store,
                                                                          upstream: ScriptedServer) -> None:
    upstream.set_script(yes_with(0.3))
    gw = make_gateway(store, experiment_cfg(upstream.base_url, share=0.3))
    models = []
    async with running(gw) as client:
        for n in range(1, 121):
            resp = await client.post("/v1/chat/completions", json=chat("task/yes"))
            assert resp.json()["choices"][0]["message"]["content"] == "yes"  # the verifier guards it
            models.append(resp.json()["model"])
            explored = sum(1 for r in upstream.requests if r["model"] == "small-wire")
            assert explored <= 0.3 * n + 1
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.2)
    row = experiments(store)[0]
    assert row.state == "stopped" and row.ci_high < 0.8 and "below" in row.reason


async def test_exploration_is_charged_to_the_key_within_its_budget(store: Store, upstream: ScriptedServer,
                                                                   new_key: Any) -> None:
    upstream.set_script(yes_with(1.0))
    key = new_key(budget_usd=0.0008, period="total")
    gw = make_gateway(store, experiment_cfg(upstream.base_url, auth=True))
    statuses = []
    async with running(gw, key) as client:
        for _ in range(60):
            resp = await client.post("/v1/chat/completions", json=chat("task/yes", max_tokens=5))
            statuses.append(resp.status_code)
    rows = [r for r in spend_rows(store) if r.key_id is not None]
    assert 429 in statuses and any("small" in r.models_tried for r in rows)
    with store.session() as s:
        spent = sum(r.spent_usd for r in s.scalars(select(GatewayLedger)))
    assert abs(spent - sum(r.cost_usd for r in rows)) < 1e-12 and spent <= 0.0008 + 1e-12


def test_two_processes_both_serve_the_promoted_challenger(tmp_path: Path, store: Store, db_url: str) -> None:
    with ScriptedServerThread(default="yes") as upstream:
        upstream.set_script(yes_with(1.0))
        fleet = Fleet(tmp_path, db_url, experiment_cfg(upstream.base_url, share=0.5))
        try:
            one, two = fleet.start(), fleet.start()
            body = chat("task/yes")
            with httpx.Client(timeout=10) as client:
                for _ in range(200):
                    client.post(f"{one}/v1/chat/completions", json=body)
                    if experiments(store)[0].state == "promoted":
                        break
                time.sleep(0.5)  # both instances sync every 0.05 s
                served_by = [client.post(f"{url}/v1/chat/completions", json=body).headers["x-satisfice-model"]
                             for url in (one, two, two, one)]
        finally:
            fleet.stop()
    assert experiments(store)[0].state == "promoted"
    assert served_by == ["small"] * 4


async def test_nothing_is_promoted_on_evidence_that_has_not_arrived(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(yes_with(1.0))
    cfg = experiment_cfg(upstream.base_url)
    cfg["routes"]["yes"]["experiment"]["evidence"] = ["feedback"]  # nobody sends any
    gw = make_gateway(store, cfg)
    async with running(gw) as client:
        for _ in range(80):
            await client.post("/v1/chat/completions", json=chat("task/yes"))
        await asyncio.sleep(0.15)
    row = experiments(store)[0]
    assert row.state == "running" and row.requests == 40 and row.scored == 0 and row.accuracy is None


def test_config_names_a_challenger_that_is_not_served() -> None:
    cfg = experiment_cfg("http://127.0.0.1:9/v1")
    cfg["routes"]["yes"]["experiment"]["challengers"] = ["ghost"]
    with pytest.raises(ConfigError, match="challenger 'ghost' is not served"):
        parse_config(yaml.safe_dump(cfg))
    cfg = experiment_cfg("http://127.0.0.1:9/v1")
    cfg["routes"]["yes"]["experiment"]["max_share"] = 1.5
    with pytest.raises(ConfigError, match="max_share"):
        parse_config(yaml.safe_dump(cfg))
