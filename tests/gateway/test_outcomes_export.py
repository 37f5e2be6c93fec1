"""Production outcomes exported as the wide CSV that `select --outcomes` reads, and `gateway experiments`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from satisfice.clients.scripted_server import Received, ScriptedServer, Step
from satisfice.errors import ConfigError
from satisfice.evals.outcomes import load_outcomes
from satisfice.store import Store

from .conftest import base_config, chat, make_gateway, running


def cli(db: str, *args: str) -> Any:
    from satisfice.cli import app as cli_app

    return CliRunner().invoke(cli_app, ["--db", db, *args], catch_exceptions=False)


def script(received: Received) -> str | Step:
    text = received.body["messages"][-1]["content"]
    if received.body["model"] == "small-wire":
        return "positive" if "easy" in text else "unsure"
    return "positive"


async def test_export_reads_back_as_recorded_outcomes(store: Store, upstream: ScriptedServer, db_url: str,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    upstream.set_script(script)
    routes = {"sentiment": {"chain": ["small", "big"], "verifiers": [{"regex": "positive|negative"}],
                            "log_content": True, "feedback": {"labels": {"good": 1, "bad": 0}}},
              "quiet": {"chain": ["small", "big"], "verifiers": ["non_empty"]}}
    gw = make_gateway(store, base_config(upstream.base_url, routes=routes))
    async with running(gw) as client:
        easy = await client.post("/v1/chat/completions", json=chat("task/sentiment", text="an easy one"))
        hard = await client.post("/v1/chat/completions", json=chat("task/sentiment", text="a hard one"))
        await client.post("/v1/chat/completions", json=chat("task/quiet", text="not kept"))
        fb = await client.post("/v1/feedback", json={"request_id": easy.headers["x-satisfice-request-id"],
                                                     "score": "bad"})
    assert fb.status_code == 200
    out = tmp_path / "outcomes.csv"
    done = cli(db_url, "outcomes", "export", "--route", "sentiment", "--csv", "--out", str(out))
    assert done.exit_code == 0, done.output
    table = load_outcomes(out)
    assert sorted(table.models) == ["big", "small"]
    ids = table.item_ids
    easy_at, hard_at = ids.index(easy.headers["x-satisfice-request-id"]), ids.index(hard.headers[
        "x-satisfice-request-id"])
    assert table.scores["small"][easy_at] == 0.0  # the client's feedback outranks the verifier's pass
    assert table.scores["small"][hard_at] == 0.0 and table.scores["big"][hard_at] == 1.0
    assert str(table.scores["big"][easy_at]) == "nan"  # big never saw the easy one: a missing outcome
    costs = table.costs["small"]
    assert costs is not None and costs[easy_at] > 0 and costs[hard_at] > 0
    assert table.extra["prompt"][easy_at] == "user: an easy one"
    assert table.extra["big|model_response"][hard_at] == "positive"
    chosen = cli(db_url, "select", "--outcomes", str(out), "--threshold", "0.5", "--json")
    assert chosen.exit_code == 0, chosen.output
    assert "small" in chosen.output and "big" in chosen.output  # select decides on production data
    as_json = json.loads(cli(db_url, "outcomes", "export", "--route", "task/sentiment", "--json").output)
    assert as_json["route"] == "task/sentiment" and len(as_json["rows"]) == 2
    assert "sample_id" in as_json["columns"]
    both = cli(db_url, "outcomes", "export", "--route", "sentiment", "--csv", "--json")
    assert both.exit_code != 0


async def test_gateway_experiments_json(store: Store, upstream: ScriptedServer, db_url: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    upstream.set_script(lambda r: "yes")
    exp = {"challengers": ["small", "big"], "bar": 0.8, "max_share": 0.5, "evidence": ["verifier"], "check_s": 0.05}
    routes = {"yes": {"chain": ["big"], "verifiers": [{"regex": "yes"}], "experiment": exp}}
    gw = make_gateway(store, base_config(upstream.base_url, routes=routes))
    async with running(gw) as client:
        for _ in range(10):
            await client.post("/v1/chat/completions", json=chat("task/yes"))
    doc = json.loads(cli(db_url, "gateway", "experiments", "--json").output)
    (route,) = doc["experiments"]
    assert {k: route[k] for k in ("route", "incumbent", "bar", "confidence")} == {
        "route": "task/yes", "incumbent": "big", "bar": 0.8, "confidence": 0.95}
    by_model = {c["model"]: c for c in route["challengers"]}
    assert by_model["big"]["state"] == "stopped" and by_model["big"]["requests"] == 0
    small = by_model["small"]
    assert small["state"] == "running" and small["requests"] == 5 and small["scored"] == 5
    assert small["accuracy"] == 1.0 and 0 <= small["ci_low"] <= small["ci_high"] <= 1 and small["spend_usd"] > 0
    assert set(small) >= {"model", "requests", "scored", "accuracy", "ci_low", "ci_high", "spend_usd", "state"}
    table = cli(db_url, "gateway", "experiments")
    assert table.exit_code == 0 and "task/yes" in table.output


async def test_route_train_from_store_learns_from_production_outcomes(store: Store, upstream: ScriptedServer,
                                                                      db_url: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`route train --from-store` trains on what the gateway recorded (here: small always fails its check)."""
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    upstream.set_script(lambda r: "unsure" if r.body["model"] == "small-wire" else "positive")
    routes = {"sentiment": {"chain": ["small", "big"], "verifiers": [{"regex": "positive|negative"}],
                            "log_content": True}}
    gw = make_gateway(store, base_config(upstream.base_url, routes=routes))
    async with running(gw) as client:
        for i in range(60):
            answer = await client.post("/v1/chat/completions", json=chat("task/sentiment", text=f"review {i}"))
            assert answer.status_code == 200
    out = tmp_path / "router"
    done = cli(db_url, "route", "train", "--from-store", "--route", "sentiment", "--bar", "0.8", "--out", str(out),
               "--json")
    assert done.exit_code == 0, done.output
    doc = json.loads(done.output)
    assert doc["per_task_model"] == "big" and doc["out"] == str(out) and (out / "manifest.json").exists()
    with pytest.raises(ConfigError, match="--route"):  # the CLI's main prints it as one line, exit 1
        cli(db_url, "route", "train", "--from-store", "--bar", "0.8")
    with pytest.raises(ConfigError, match="no recorded outcomes"):
        cli(db_url, "route", "train", "--from-store", "--route", "other", "--bar", "0.8")
    with pytest.raises(ConfigError, match="one of the two"):
        cli(db_url, "route", "train", str(tmp_path / "x.csv"), "--from-store", "--route", "sentiment", "--bar", "0.8")
