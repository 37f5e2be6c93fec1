"""Shadow checks in the background, the per-route report (agreement interval, flags) and the CLI around it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from satisfice.clients.scripted_server import Received, ScriptedServer, Step
from satisfice.gateway.loop.shadow import normalize
from satisfice.gateway.observability.report import flag_for, gateway_report
from satisfice.store import Store

from .conftest import base_config, chat, make_gateway, running, shadow_rows, spend_rows


def shadow_cfg(url: str, threshold: float = 0.9, **shadow: Any) -> dict[str, Any]:
    return base_config(url, routes={"sentiment": {
        "chain": ["small", "big"], "verifiers": ["non_empty"],
        "shadow": {"share": 1.0, "reference": "big", "threshold": threshold, **shadow}}})


def answers(small: list[str], big: str = "positive") -> Any:
    queue = list(small)

    def script(received: Received) -> str | Step:
        return queue.pop(0) if received.body["model"] == "small-wire" else big

    return script


def test_normalize() -> None:
    assert normalize("  Positive.\n") == normalize("positive") == "positive"
    assert normalize("a  b") == "a b"


def test_flag_rule() -> None:
    assert flag_for(0.5, 0.7, 0.9) == "below"
    assert flag_for(0.85, 0.95, 0.9) == "watch"
    assert flag_for(0.95, 0.99, 0.9) is None
    assert flag_for(None, None, 0.9) is None


async def test_shadow_checks_are_stored_and_reported(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(answers(["Positive."] * 6 + ["negative"] * 6))
    gw = make_gateway(store, shadow_cfg(upstream.base_url, threshold=0.9), rng=lambda: 0.0)
    async with running(gw) as client:
        for _ in range(12):
            resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
            assert resp.json()["choices"][0]["message"]["content"] in ("Positive.", "negative")
    rows = shadow_rows(store)
    assert len(rows) == 12
    assert sorted(r.agreement for r in rows) == [0.0] * 6 + [1.0] * 6
    assert all(r.method == "normalized" and r.reference_model == "big" and r.served_model == "small"
               and r.threshold == 0.9 and r.cost_usd > 0 for r in rows)
    assert len(spend_rows(store)) == 12  # shadow calls are not client requests
    report = gateway_report(store)
    (route,) = report.routes
    assert route.route == "task/sentiment" and route.requests == 12 and route.shadow_scored == 12
    assert route.agreement == pytest.approx(0.5)
    assert route.agreement_low is not None and route.agreement_high is not None
    assert route.agreement_low < 0.5 < route.agreement_high < 0.9
    assert route.flag == "below"  # even the upper bound is under 0.9
    assert route.reference_cost_usd is not None and route.savings_usd == pytest.approx(
        route.reference_cost_usd - route.spend_usd)
    assert route.savings_usd > 0  # small is 10x cheaper than big
    assert route.escalation_rate == 0 and route.error_rate == 0


async def test_shadow_skips_answers_from_the_reference_and_respects_share(store: Store,
                                                                          upstream: ScriptedServer) -> None:
    upstream.set_script(answers(["", "ok", "ok"]))
    draws = iter([0.0, 0.99])  # share 0.5: the second eligible request is not sampled
    gw = make_gateway(store, shadow_cfg(upstream.base_url, share=0.5), rng=lambda: next(draws))
    async with running(gw) as client:
        for _ in range(3):
            await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    # request 1 escalated to big (the reference): not shadowed; request 2 sampled; request 3 not sampled
    assert len(shadow_rows(store)) == 1
    report = gateway_report(store).routes[0]
    assert report.escalated == 1 and report.escalation_rate == pytest.approx(1 / 3)


async def test_shadow_failure_is_recorded_not_raised(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(lambda r: "ok" if r.body["model"] == "small-wire" else Step.error(500, "ref down"))
    gw = make_gateway(store, shadow_cfg(upstream.base_url), rng=lambda: 0.0)
    async with running(gw) as client:
        assert (await client.post("/v1/chat/completions", json=chat("task/sentiment"))).status_code == 200
    (row,) = shadow_rows(store)
    assert row.agreement is None and "ref down" in (row.error or "")
    assert gateway_report(store).routes[0].flag is None


PREFIX_SCORER = """
from satisfice.core import Score


def score(sample, completion, length):
    return Score(1.0 if completion.text.lower().startswith(str(sample.target)[:length]) else 0.0)
"""


async def test_shadow_with_task_scorer(store: Store, upstream: ScriptedServer, tmp_path: Path) -> None:
    """The real path: the route's task file names a custom scorer; shadows are scored with it against the reference."""
    (tmp_path / "prefix.py").write_text(PREFIX_SCORER, encoding="utf-8")
    (tmp_path / "data.jsonl").write_text('{"review": "great", "label": "positive"}\n', encoding="utf-8")
    (tmp_path / "task.yaml").write_text(
        "name: sentiment\ndataset:\n  path: data.jsonl\n  fields: {text: review, target: label}\n"
        "prompt:\n  user: 'Review: {{ text }}'\nscorer:\n  type: prefix:score\n  options: {length: 3}\n",
        encoding="utf-8")
    cfg = shadow_cfg(upstream.base_url, compare="scorer")
    cfg["routes"]["sentiment"]["task_file"] = "task.yaml"
    upstream.set_script(answers(["positive!", "negative"]))
    gw = make_gateway(store, cfg, tmp_path, rng=lambda: 0.0)
    async with running(gw) as client:
        for _ in range(2):
            await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    assert sorted(r.agreement for r in shadow_rows(store)) == [0.0, 1.0]
    assert {r.method for r in shadow_rows(store)} == {"scorer"}


def _cli(db: str, *args: str) -> Any:
    from satisfice.cli import app as cli_app

    return CliRunner().invoke(cli_app, ["--db", db, "gateway", *args], catch_exceptions=False)


async def test_cli_keys_report_and_check(store: Store, upstream: ScriptedServer, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    monkeypatch.setenv("COLUMNS", "250")  # rich tables: wide enough not to wrap route names
    created = _cli(store.url, "keys", "create", "--budget-usd", "50", "--period", "month", "--name", "ci", "--json")
    assert created.exit_code == 0, created.output
    new = json.loads(created.stdout)
    assert new["key"].startswith("sk-sat-") and new["budget_usd"] == 50 and new["period"] == "month"
    plain = _cli(store.url, "keys", "create")
    assert plain.exit_code == 0 and plain.stdout.strip().startswith("sk-sat-")
    listed = json.loads(_cli(store.url, "keys", "list", "--json").stdout)
    assert [k["name"] for k in listed["keys"]] == ["ci", ""]
    assert all("key" not in k for k in listed["keys"])
    assert new["key"] not in _cli(store.url, "keys", "list").stdout
    revoked = json.loads(_cli(store.url, "keys", "revoke", new["id"], "--json").stdout)
    assert revoked["revoked_at"] is not None
    assert len(json.loads(_cli(store.url, "keys", "list", "--json").stdout)["keys"]) == 1
    assert len(json.loads(_cli(store.url, "keys", "list", "--all", "--json").stdout)["keys"]) == 2

    upstream.set_script(answers(["positive"]))
    gw = make_gateway(store, shadow_cfg(upstream.base_url), rng=lambda: 0.0)
    async with running(gw) as client:
        await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    report = json.loads(_cli(store.url, "report", "--json", "--since", "1d").stdout)
    assert report["routes"][0]["route"] == "task/sentiment" and report["routes"][0]["requests"] == 1
    assert report["routes"][0]["agreement"] == 1.0 and "upper bound" in report["flag_rule"]
    assert json.loads(_cli(store.url, "report", "--json", "--since", "2999-01-01").stdout)["routes"] == []
    table = _cli(store.url, "report")
    assert table.exit_code == 0 and "task/sentiment" in table.stdout

    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(shadow_cfg(upstream.base_url)))
    checked = json.loads(_cli(store.url, "check", "--config", str(config), "--json").stdout)
    plans = {p["name"]: p for p in checked["plans"]}
    assert [c["model"] for c in plans["task/sentiment"]["chain"]] == ["small", "big"]


def test_cli_config_error_names_file_line_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    config = tmp_path / "gateway.yaml"
    config.write_text("upstreams:\n  - name: a\n    base_url: ftp://x\n")
    done = subprocess.run([sys.executable, "-m", "satisfice", "--db", f"sqlite:///{tmp_path / 'x.db'}", "gateway",
                           "check", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "gateway.yaml, line 3, field 'upstreams[0].base_url'" in done.stderr
    assert "Traceback" not in done.stderr
