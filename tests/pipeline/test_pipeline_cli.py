"""The pipeline and watch commands as a user runs them: JSON documents, exit codes, one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pipeline_helpers import Server, openrouter_doc

from satisfice.cli import main
from satisfice.pipeline.lock import run_lock
from satisfice.store import open_store


def cli(*args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "satisfice", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ})
    if check is not None:
        assert proc.returncode == check, proc.stderr + proc.stdout
    return proc


def test_run_json_status_changes_and_exit_codes(server: Server) -> None:
    good = server.serve("/m", openrouter_doc({"deepseek/deepseek-v4-pro": (0.435, 0.87)}))
    report = json.loads(cli("pipeline", "run", "--source", f"openrouter={good}", "--json").stdout)
    assert report["ok"] and report["sources"][0]["new_offers"] + report["sources"][0]["changed_prices"] >= 1
    failed = cli("pipeline", "run", "-s", f"openrouter={good}", "-s", "models-dev=" + server.url("/missing"),
                 "--json", "--attempts", "1", check=1)
    doc = json.loads(failed.stdout)
    assert doc["failed"] == ["models-dev"] and "HTTP 404" in doc["sources"][1]["error"]
    assert doc["sources"][0]["outcome"] == "same"
    status = json.loads(cli("pipeline", "status", "--json").stdout)
    assert status["last_run"]["status"] == "failed" and status["next_run"] is None
    changes = json.loads(cli("pipeline", "changes", "--since", "1d", "--json").stdout)
    assert set(changes) >= {"new_models", "price_cuts", "price_raises", "scheduled", "watches", "counts"}
    text = cli("pipeline", "status").stdout
    assert "models-dev: failed" in text and "next run: none scheduled" in text


def test_user_mistakes_are_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for args, message in ((["pipeline", "run", "-s", "modelsdev"], "unknown pipeline source 'modelsdev' (known: "),
                          (["pipeline", "run", "-s", "litellm="], "give a URL or a file"),
                          (["pipeline", "changes", "--since", "lately"], "--since 'lately'"),
                          (["pipeline", "schedule", "--every", "6h", "--cron", "0 * * * *"], "exactly one of"),
                          (["market", "watch", "-b", "nope", "-t", "5"], "nope"),
                          (["market", "watch", "-b", "swe-bench-verified", "-t", "500"], "between 0 and 100")):
        monkeypatch.setattr(sys, "argv", ["satisfice", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        err = capsys.readouterr().err
        assert exited.value.code not in (0, None) and message in " ".join(err.split()), (args, err)


def test_missing_file_fails_that_source_only(tmp_path: Path) -> None:
    proc = cli("pipeline", "run", "-s", f"litellm={tmp_path / 'nope.json'}", check=1)
    assert "no such file" in proc.stderr


def test_watch_command(server: Server) -> None:
    out = json.loads(cli("market", "watch", "-b", "gpqa-diamond", "-t", "85", "--json").stdout)
    assert out["watch"]["benchmark"] == "gpqa-diamond" and isinstance(out["satisfied_now"], list)
    listed = json.loads(cli("market", "watch", "--list", "--json").stdout)
    assert [w["id"] for w in listed["watches"]] == [out["watch"]["id"]]


def test_a_second_process_waits_its_turn(server: Server) -> None:
    good = server.serve("/m", openrouter_doc({"deepseek/deepseek-v4-pro": (0.435, 0.87)}))
    store = open_store(f"sqlite:///{Path(os.environ['SATISFICE_HOME']) / 'satisfice.db'}")
    try:
        with run_lock(store, dt.datetime.now(dt.UTC).replace(tzinfo=None)):
            proc = cli("pipeline", "run", "-s", f"openrouter={good}", check=1)
        assert "another pipeline run is in progress" in proc.stderr
        cli("pipeline", "run", "-s", f"openrouter={good}")
    finally:
        store.close()


def test_configured_sources_from_the_environment(server: Server, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    good = server.serve("/m", openrouter_doc({"deepseek/deepseek-v4-pro": (0.435, 0.87)}))
    monkeypatch.setenv("SATISFICE_PIPELINE_SOURCES", f"openrouter={good}")
    monkeypatch.setattr(sys, "argv", ["satisfice", "pipeline", "run", "--json"])
    main()
    doc = json.loads(capsys.readouterr().out)
    assert [s["source"] for s in doc["sources"]] == ["openrouter"] and doc["ok"]


def test_schedule_command_runs_at_start_and_stops_on_ctrl_c(server: Server) -> None:
    good = server.serve("/m", openrouter_doc({"deepseek/deepseek-v4-pro": (0.435, 0.87)}))
    proc = subprocess.Popen([sys.executable, "-m", "satisfice", "pipeline", "schedule", "--every", "6h",
                             "-s", f"openrouter={good}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("pipeline run 1"), first
        assert "openrouter: ok" in proc.stdout.readline()
        store = open_store(f"sqlite:///{Path(os.environ['SATISFICE_HOME']) / 'satisfice.db'}")
        try:
            from satisfice.pipeline import status

            for _ in range(100):  # the next run time is written right after the run
                if status(store)["next_run"]:
                    break
                time.sleep(0.1)
            assert status(store)["schedule"]["every_s"] == 6 * 3600
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 130
            assert status(store)["next_run"] is None
        finally:
            store.close()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_truncated_changes_say_how_many_more(server: Server) -> None:
    models = {f"newlab/model-{i}": (0.1 * (i + 1), 0.2 * (i + 1)) for i in range(5)}
    cli("pipeline", "run", "--source", f"openrouter={server.serve('/m', openrouter_doc(models))}", "--json")
    counts = json.loads(cli("pipeline", "changes", "--since", "1d", "--json").stdout)["counts"]
    assert counts["new_model"] >= 5
    text = " ".join(cli("pipeline", "changes", "--since", "1d", "--limit", "2").stdout.split())
    assert f"and {counts['new_model'] - 2:,} more (--limit {counts['new_model']} shows them all)" in text, text
    full = " ".join(cli("pipeline", "changes", "--since", "1d", "--limit", "100000").stdout.split())
    assert " more" not in full and "e-0" not in full
