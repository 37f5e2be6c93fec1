"""`satisfice.evaluate`: the library entry point runs a task, stores the run and the decision, returns results."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_taskfiles import sentiment_script, write_task

import satisfice
from satisfice.clients.scripted_server import ScriptedServerThread
from satisfice.errors import ConfigError
from satisfice.evals.decisions import latest_decision
from satisfice.store import open_store


@pytest.fixture
def server() -> object:
    with ScriptedServerThread(sentiment_script()) as s:
        yield s


def test_evaluate_returns_results_and_stores_the_decision(tmp_path: Path, server: ScriptedServerThread,
                                                        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    task = write_task(tmp_path / "t", server.base_url, n=30, models=("cheap", "dear"))
    result = satisfice.evaluate(task, store=db_url)
    assert isinstance(result, satisfice.EvalResult)
    assert [m.model for m in result.models] == ["cheap", "dear"]
    assert result.recommended == "cheap"
    assert result.sentence.startswith("cheap clears 50% at 95% confidence on 30 items")
    decision = latest_decision(open_store(db_url), "resume-test")
    assert decision is not None and decision.passing == ["cheap", "dear"] and decision.recommended == "cheap"
    assert decision.run_id == result.run_id

    only = satisfice.evaluate(task, candidates=["dear"], store=open_store(db_url))
    assert [m.model for m in only.models] == ["dear"] and only.calls == 0  # answers came from the store


def test_evaluate_unknown_candidate_is_a_config_error(tmp_path: Path, server: ScriptedServerThread,
                                                      db_url: str) -> None:
    task = write_task(tmp_path / "t", server.base_url, n=4)
    with pytest.raises(ConfigError, match="'nope' is not a candidate"):
        satisfice.evaluate(task, candidates=["nope"], store=db_url)


def test_an_override_with_one_side_is_refused_not_billed_at_zero() -> None:
    from satisfice.evals.pricing import price_for

    with pytest.raises(ConfigError, match="give both input_per_m and output_per_m"):
        price_for("m", input_per_m=1.0)
    assert price_for("m", input_per_m=1.0, output_per_m=2.0).price is not None
    assert price_for("local/smollm2-135m").source == "machine_time"


def test_an_unpriced_candidate_is_a_warning_not_a_zero(tmp_path: Path, server: ScriptedServerThread, db_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    task = write_task(tmp_path / "t", server.base_url, n=4)
    text = task.read_text(encoding="utf-8")
    task.write_text(text.replace("    input_per_m: 1.0\n    output_per_m: 2.0\n", ""), encoding="utf-8")
    seen: list[str] = []
    result = satisfice.evaluate(task, store=db_url, on_warning=seen.append)
    assert seen == ["no known price for cheap: its cost shows as unknown, never $0; `satisfice pipeline run` "
                    "fetches today's prices into the catalog, or set input_per_m and output_per_m for it"]
    assert result.notes[0] == f"warning: {seen[0]}" and result.models[0].cost_per_request is None
