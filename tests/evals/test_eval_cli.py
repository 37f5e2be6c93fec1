"""`satisfice eval`: JSON shape, HTML report, `eval show`, decisions stored, task file errors in one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from eval_taskfiles import sentiment_script, write_task
from typer.testing import CliRunner

from satisfice.cli import app, main
from satisfice.clients.scripted_server import ScriptedServerThread
from satisfice.evals.cache import ResponseCache
from satisfice.evals.decisions import latest_decision
from satisfice.store import open_store

SELECT_KEYS = {"model", "n", "n_missing", "accuracy", "ci_low", "ci_high", "cost_per_request", "decision"}


@pytest.fixture
def server() -> object:
    with ScriptedServerThread(sentiment_script()) as s:
        yield s


def test_eval_json_html_show_and_decision(tmp_path: Path, server: ScriptedServerThread, db_url: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    db = db_url
    task = write_task(tmp_path / "t", server.base_url, n=30, models=("cheap", "dear"))
    html = tmp_path / "report.html"
    runner = CliRunner()
    res = runner.invoke(app, ["--db", db, "eval", str(task), "--json", "--html", str(html)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert {"threshold", "confidence", "models", "recommended"} <= doc.keys()
    assert doc["threshold"] == 0.5 and doc["confidence"] == 0.95 and doc["task"] == "resume-test"
    cheap, dear = doc["models"]
    assert SELECT_KEYS <= cheap.keys()
    assert {"n_errors", "cost_run", "cost_per_1k", "annual_cost", "latency_p50_s", "latency_p95_s", "tokens_in",
            "tokens_out", "savings_per_year"} <= cheap.keys()
    assert cheap["n"] == 30 and cheap["accuracy"] == pytest.approx(25 / 30) and dear["accuracy"] == 1.0
    assert cheap["decision"] == dear["decision"] == "pass"
    assert doc["recommended"] == "cheap" and doc["baseline"] == "dear"
    assert cheap["annual_cost"] < dear["annual_cost"] and cheap["savings_per_year"] > 0
    assert doc["sentence"].startswith("cheap clears 50% at 95% confidence on 30 items")
    assert doc["calls"] == 60 and doc["cache_hits"] == 0

    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "plotly" in page.lower() and "Pareto set" in page
    assert '"type":"log"' in page and "<script src=" not in page  # JS inline: works offline
    assert "cheap (recommended)" in page

    shown = runner.invoke(app, ["--db", db, "eval", "show", "latest", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["models"] == doc["models"]

    again = runner.invoke(app, ["--db", db, "eval", str(task), "--json", "--model", "cheap"])
    redo = json.loads(again.stdout)
    assert (redo["calls"], redo["cache_hits"], redo["spent_usd"]) == (0, 30, 0.0)

    store = open_store(db)
    try:
        decision = latest_decision(store, "resume-test")
    finally:
        store.close()
    assert decision is not None and decision.passing == ["cheap"] and decision.run_id == redo["run_id"]
    assert decision.candidates["cheap"]["base_url"] == server.base_url


def test_eval_table_is_printed(tmp_path: Path, server: ScriptedServerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    monkeypatch.setenv("COLUMNS", "200")
    task = write_task(tmp_path / "t", server.base_url, n=6)
    res = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'e.db'}", "eval", str(task), "--limit", "4"])
    assert res.exit_code == 0, res.output
    assert "cheap" in res.stdout and "errors are never scored" in res.stdout and "$/year" in res.stdout


def test_bad_task_file_is_one_line_naming_file_line_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    task = write_task(tmp_path / "t", "http://127.0.0.1:9/v1", n=2)
    task.write_text(task.read_text(encoding="utf-8").replace("type: exact", "type: exakt"), encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["satisfice", "--db", f"sqlite:///{tmp_path / 'e.db'}", "eval", str(task)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "task.yaml" in err and "line 9" in err and "scorer.type" in err
    assert not (tmp_path / "e.db").exists()  # bad input changes nothing


def test_show_unknown_or_unfinished_run_is_a_clear_error(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'e.db'}"
    res = CliRunner().invoke(app, ["--db", db, "eval", "show", "42"])
    assert res.exit_code != 0 and "no eval run '42'" in str(res.exception)
    store = open_store(db)
    try:
        run_id = ResponseCache(store).start_run("killed-task", "h", "task.yaml", ["m"])  # as a kill -9 leaves it
    finally:
        store.close()
    res = CliRunner().invoke(app, ["--db", db, "eval", "show", str(run_id)])
    assert "has no results: status running (re-run task.yaml to resume" in str(res.exception)


def test_adaptive_stops_early_and_reports_spend(tmp_path: Path, server: ScriptedServerThread,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    task = write_task(tmp_path / "t", server.base_url, n=200, models=("cheap", "dear"))
    before = len(server.received)
    res = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'e.db'}", "eval", str(task), "--json",
                                   "--adaptive"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    cheap, dear = doc["models"]
    assert doc["method"] == "adaptive" and doc["recommended"] == "cheap" and cheap["decision"] == "pass"
    assert 0 < cheap["items_used"] < 200 and dear["items_used"] == 0  # dearer model never needed
    assert len(server.received) - before == doc["calls"] == cheap["items_used"]
    assert 0 < doc["eval_spend"] < doc["exhaustive_spend"]
    # one account of the pass: the sequential test's, not the fixed-sample bound's next to a confidence sequence
    assert any(n.startswith("adaptive:") for n in doc["notes"]) and not any(n.startswith("pass:") for n in doc["notes"])
    # estimated: cheap's measured cost per item, and cheap's measured tokens at dear's (double) price
    assert doc["exhaustive_spend"] == pytest.approx(200 * 3 * cheap["cost_per_request"], rel=0.05)


def test_max_spend_stop_is_reported(tmp_path: Path, server: ScriptedServerThread,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    task = write_task(tmp_path / "t", server.base_url, n=40, concurrency=1)
    db = f"sqlite:///{tmp_path / 'e.db'}"
    res = CliRunner().invoke(app, ["--db", db, "eval", str(task), "--json", "--max-spend", "0.0002"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["status"] == "stopped_budget" and doc["stopped_by_budget"] is True
    assert 0 < doc["spent_usd"] <= 0.0002 and doc["models"][0]["n_not_run"] == doc["models"][0]["n_missing"] > 0
    text = CliRunner().invoke(app, ["--db", db, "eval", "show", str(doc["run_id"])])
    assert "Stopped by --max-spend $0.0002" in text.stdout
