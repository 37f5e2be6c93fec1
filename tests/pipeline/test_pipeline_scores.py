"""Score sources in the pipeline: models.dev's [[benchmarks]] on a real snapshot, history kept, drift and bad files."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pipeline_helpers import REAL, Clock, Server
from sqlalchemy import func, select
from typer.testing import CliRunner

from satisfice.catalog.repository import load_catalog
from satisfice.cli import app
from satisfice.pipeline import changes, run
from satisfice.store import Store
from satisfice.store.schema import ScoreRecord

SNAPSHOT = REAL["models-dev-scores"]


def _scores(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(ScoreRecord)) or 0)


def test_real_snapshot_adds_observations_with_who_ran_them(store: Store, clock: Clock) -> None:
    report = run(store, {"models-dev-scores": str(SNAPSHOT)}, now=clock)
    (src,) = report["sources"]
    assert src["outcome"] == "ok" and src["new_scores"] > 200 and src["changed_scores"] == 0
    catalog = load_catalog(store)
    glm5 = {o.harness: o for o in catalog.observations("glm-5", "swe-bench-verified")}
    assert glm5["swe-bench"].value == 72.8 and "swebench.com" in glm5["swe-bench"].source
    kimi = catalog.score("kimi-k2.6", "swe-bench-verified")
    assert kimi is not None and (kimi.value, kimi.harness) == (80.2, "vendor")
    assert "huggingface.co/moonshotai/Kimi-K2.6" in kimi.source and "[pipeline models-dev-scores" in kimi.source
    harnesses = {s.harness for s in catalog.scores}
    assert {"vendor", "artificial-analysis", "swe-bench", "aider", "scale"} <= harnesses
    assert all(s.harness and s.source for s in catalog.scores)
    found = changes(store, dt.timedelta(days=1), now=clock.now)
    assert found["counts"]["new_score"] == src["new_scores"]


def _doc() -> dict[str, Any]:
    return json.loads(SNAPSHOT.read_text())


def test_a_changed_figure_is_a_new_observation_beside_the_old(store: Store, server: Server, clock: Clock) -> None:
    doc = _doc()
    url = server.serve("/models.json", doc)
    run(store, {"models-dev-scores": url}, now=clock)
    before = _scores(store)
    changed = copy.deepcopy(doc)
    entry = next(b for b in changed["moonshotai/kimi-k2.6"]["benchmarks"] if b["name"] == "SWE-Bench Verified")
    entry["score"] = 81.0
    server.serve("/models.json", changed)
    clock.tick(days=1)
    report = run(store, {"models-dev-scores": url}, now=clock)
    (src,) = report["sources"]
    assert (src["new_scores"], src["changed_scores"]) == (0, 1)
    assert _scores(store) == before + 1
    values = sorted(o.value for o in load_catalog(store).observations("kimi-k2.6", "swe-bench-verified"))
    assert values == [80.2, 81.0]  # the older observation is kept
    assert load_catalog(store).score("kimi-k2.6", "swe-bench-verified").value == 81.0  # type: ignore[union-attr]
    listed = changes(store, dt.timedelta(hours=1), now=clock.now)["changed_scores"]
    assert listed and "was 80.2" in listed[0]["detail"]


@pytest.mark.parametrize(("body", "message"), [
    ("{\"anthropic/x\": {\"name\": \"X\", \"benchmarks\": [{\"name\": \"GPQA Diamond\", \"score\": 91}", "not valid"),
    ({"anthropic/x": {"name": "X", "evals": [{"name": "GPQA Diamond", "score": 91}]}}, "no benchmark entries"),
    ({"anthropic/x": {"name": "X", "benchmarks": {"GPQA Diamond": 91}}}, "must be a list"),
    ({"anthropic/x": {"name": "X", "benchmarks": [{"name": "GPQA Diamond", "score": 191, "metric": "accuracy"}]}},
     "at most 100"),
    ({"models": [{"id": "anthropic/x"}]}, "expected models.dev models.json"),
])
def test_drift_and_malformed_documents_write_nothing(store: Store, server: Server, clock: Clock, body: Any,
                                                      message: str) -> None:
    url = server.serve("/bad.json", body if isinstance(body, dict) else body)
    report = run(store, {"models-dev-scores": url}, now=clock)
    (src,) = report["sources"]
    assert src["outcome"] == "failed" and message in src["error"], src["error"]
    assert _scores(store) == 0


def test_cli_exit_1_and_nothing_written_for_a_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "models.json"
    bad.write_text(json.dumps({"anthropic/x": {"name": "X", "benchmarks": [{"score": 91}]}}))
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'p.db'}", "pipeline", "run", "--source",
                                      f"models-dev-scores={bad}", "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert "needs a name" in doc["sources"][0]["error"]
    shown = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'p.db'}", "catalog", "show", "x", "--json"])
    assert shown.exit_code == 1  # the model was not written either
