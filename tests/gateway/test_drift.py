"""Drift alarms: a route whose served answers are surely below its bar raises an alarm (metric, store, report)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from satisfice.clients.scripted_server import Received, ScriptedServer, Step
from satisfice.store import Store

from .conftest import base_config, chat, make_gateway, running


def script(received: Received) -> str | Step:
    text = received.body["messages"][-1]["content"]
    return "yes" if text == "good" or received.body["model"] == "big" else "no"


async def test_a_route_below_its_bar_raises_the_alarm(store: Store, upstream: ScriptedServer, db_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    upstream.set_script(script)
    drift = {"bar": 0.9, "window": 50, "check_s": 0.05, "evidence": ["verifier"]}
    routes: dict[str, Any] = {
        "bad": {"chain": ["small"], "verifiers": [{"regex": "yes"}], "on_exhausted": "last", "drift": drift},
        "good": {"chain": ["small"], "verifiers": [{"regex": "yes"}], "on_exhausted": "last", "drift": drift},
        "saved": {"chain": ["small", "big"], "verifiers": [{"regex": "yes"}], "drift": drift}}
    gw = make_gateway(store, base_config(upstream.base_url, routes=routes))
    async with running(gw) as client:
        for _ in range(30):
            await client.post("/v1/chat/completions", json=chat("task/bad", text="bad"))
            await client.post("/v1/chat/completions", json=chat("task/good", text="good"))
            await client.post("/v1/chat/completions", json=chat("task/saved", text="bad"))
        await gw.loop.outcomes.flush()
        await asyncio.sleep(0.3)
        metrics = (await client.get("/metrics")).text
    assert 'satisfice_gateway_drift_alarm{route="task/bad"} 1.0' in metrics
    assert 'satisfice_gateway_drift_alarm{route="task/good"} 0.0' in metrics
    # the cascade served big's answers: small's rejected attempts are not the route's accuracy
    assert 'satisfice_gateway_drift_alarm{route="task/saved"} 0.0' in metrics
    from satisfice.cli import app as cli_app

    runner = CliRunner()
    doc = json.loads(runner.invoke(cli_app, ["--db", db_url, "gateway", "report", "--json"]).output)
    alarms = {d["route"]: d["alarm"] for d in doc["drift"]}
    assert alarms == {"task/bad": True, "task/good": False, "task/saved": False}
    bad = next(d for d in doc["drift"] if d["route"] == "task/bad")
    assert bad["scored"] == 30 and bad["accuracy"] == 0.0 and bad["ci_high"] < 0.9
    text = runner.invoke(cli_app, ["--db", db_url, "gateway", "report"]).output
    assert "drift task/bad: DRIFT ALARM" in text
