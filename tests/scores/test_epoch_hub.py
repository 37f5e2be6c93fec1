"""Epoch AI Benchmarking Hub export: runs with effort suffix, stderr and date; external copies; drift; bad files.

No real ``benchmark_data.zip`` is reachable offline: the rows below are SHAPED after the column names that
several independent public readers of the export use (``Model version``, ``Best score (across scorers)``,
``stderr``, ``Started at``, ``*_external.csv``), with figures made up for the test. See docs/scores.md.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from satisfice.catalog.identity import Identity
from satisfice.catalog.sources.epoch_hub import benchmark_of, parse_epoch_hub, split_effort
from satisfice.cli import app
from satisfice.errors import DataError

RUNS = ("Model version,Best score (across scorers),stderr,Started at,Release date,Organization\n"
        "o3-2025-04-16_high,0.818,0.02,2025-04-20T10:00:00Z,2025-04-16,OpenAI\n"
        "o3-2025-04-16_medium,0.80,0.021,2025-04-21T10:00:00Z,2025-04-16,OpenAI\n"
        "claude-opus-4-7_max,0.93,,2026-04-18T09:00:00Z,2026-04-16,Anthropic\n"
        "no-score-yet,,,2026-05-01T00:00:00Z,,\n")
EXTERNAL = "Model version,Percent correct,Source\nclaude-opus-4-7,85.5,https://aider.chat/docs/leaderboards/\n"
META = "id,Model name,Release date\no3,o3,2025-04-16\n"


def _zip(tmp_path: Path, files: dict[str, str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "benchmark_data.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, body in files.items():
            z.writestr(f"benchmark_data/{name}", body)
    return path


def test_names_and_effort_suffix() -> None:
    assert split_effort("o3-2025-04-16_high") == ("o3-2025-04-16", "high")
    assert split_effort("gpt-6-astra_unknown") == ("gpt-6-astra", "")
    assert split_effort("claude-3-5-sonnet-20241022") == ("claude-3-5-sonnet-20241022", "")
    assert benchmark_of("gpqa_diamond.csv") == ("gpqa-diamond", False)
    assert benchmark_of("aider_polyglot_external.csv") == ("aider-polyglot", True)


def test_zip_runs_and_external(tmp_path: Path) -> None:
    path = _zip(tmp_path, {"gpqa_diamond.csv": RUNS, "aider_polyglot_external.csv": EXTERNAL, "models.csv": META})
    batch = parse_epoch_hub(path, ids=Identity.load().canonical)
    runs = sorted((s.model_id, s.effort, round(s.value, 6), s.stderr, s.date, s.harness)
                  for s in batch.scores if s.benchmark == "gpqa-diamond")
    assert runs == [("claude-opus-4.7", "max", 93.0, None, dt.date(2026, 4, 18), "epoch"),
                    ("o3-2025-04-16", "high", 81.8, 2.0, dt.date(2025, 4, 20), "epoch"),
                    ("o3-2025-04-16", "medium", 80.0, 2.1, dt.date(2025, 4, 21), "epoch")]
    (ext,) = [s for s in batch.scores if s.benchmark == "aider-polyglot"]
    assert (ext.value, ext.harness) == (85.5, "third-party") and "CC BY 4.0" in ext.source


def test_format_drift_and_malformed_files(tmp_path: Path) -> None:
    drift = _zip(tmp_path, {"gpqa_diamond.csv": RUNS.replace("Best score (across scorers)", "score_v2")})
    with pytest.raises(DataError, match="gpqa_diamond.csv.*no score column"):
        parse_epoch_hub(drift)
    bad = tmp_path / "gpqa_diamond.csv"
    bad.write_text(RUNS.replace("0.80,", "eighty,"))
    with pytest.raises(DataError, match="line 3"):
        parse_epoch_hub(bad)
    out_of_range = tmp_path / "x" / "gpqa_diamond.csv"
    out_of_range.parent.mkdir()
    out_of_range.write_text(RUNS.replace("0.818", "81.8"))
    with pytest.raises(DataError, match="outside 0-100"):
        parse_epoch_hub(out_of_range)
    empty = _zip(tmp_path / "x", {"models.csv": META})
    with pytest.raises(DataError, match="has the format changed"):
        parse_epoch_hub(empty)


def test_cli_import_writes_all_or_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = _zip(tmp_path, {"gpqa_diamond.csv": RUNS, "swe_bench_verified.csv": RUNS.replace("0.93", "x")})
    result = runner.invoke(app, ["catalog", "import", str(bad), "--format", "epoch-hub", "--json"])
    assert result.exit_code == 1 and "swe_bench_verified.csv, line 4" in str(result.exception)
    assert runner.invoke(app, ["catalog", "show", "o3-2025-04-16", "--json"]).exit_code == 1  # nothing written
    good = _zip(tmp_path / "x", {"gpqa_diamond.csv": RUNS})
    ok = runner.invoke(app, ["catalog", "import", str(good), "--json"])  # a zip of CSVs is detected
    assert ok.exit_code == 0, ok.output
    shown = json.loads(runner.invoke(app, ["catalog", "show", "o3-2025-04-16", "--json"]).stdout)
    assert {(s["effort"], s["harness"]) for s in shown["scores"]} == {("high", "epoch"), ("medium", "epoch")}
