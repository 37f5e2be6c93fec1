"""`satisfice select` end to end through the Typer app: JSON shape, thresholds, adaptive extras, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from satisfice.cli import app

runner = CliRunner()


@pytest.fixture
def outcomes(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 600
    models = {"tiny": (0.55, 0.00001), "small": (0.7, 0.00005), "good": (0.96, 0.0002), "best": (0.98, 0.002)}
    header = ["sample_id", "prompt"]
    for m in models:
        header += [m, f"{m}|total_cost", f"{m}|model_response"]
    lines = [",".join(header)]
    draws = {m: rng.random(n) < p for m, (p, _) in models.items()}
    for i in range(n):
        row = [f"s{i}", f"question {i}"]
        for m, (_, cost) in models.items():
            score = "" if (m == "small" and i % 10 == 0) else str(int(draws[m][i]))
            row += [score, f"{cost:.6f}", "answer"]
        lines.append(",".join(row))
    path = tmp_path / "outcomes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["select", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_json_shape_and_decisions(outcomes: Path) -> None:
    doc = run_json("--outcomes", str(outcomes), "--threshold", "0.9")
    assert set(doc) == {"threshold", "confidence", "models", "recommended"}
    assert doc["threshold"] == 0.9 and doc["confidence"] == 0.95
    rows = {m["model"]: m for m in doc["models"]}
    assert list(rows) == ["tiny", "small", "good", "best"]
    for row in rows.values():
        assert set(row) == {"model", "n", "n_missing", "accuracy", "ci_low", "ci_high", "cost_per_request",
                            "decision"}
    assert rows["small"]["n"] == 540 and rows["small"]["n_missing"] == 60
    assert rows["tiny"]["decision"] == "fail" and rows["good"]["decision"] == "pass"
    assert rows["good"]["cost_per_request"] == pytest.approx(0.0002)
    assert rows["good"]["ci_low"] <= rows["good"]["accuracy"] <= rows["good"]["ci_high"]
    assert doc["recommended"] == "good"


@pytest.mark.parametrize(
    ("threshold", "extra", "confidence"),
    [("90%", [], 0.95), ("accuracy >= 0.90 at 99% confidence", [], 0.99),
     ("accuracy >= 90%", ["--confidence", "90%"], 0.9), ("0.9", ["--confidence", "0.8"], 0.8)],
)
def test_threshold_forms(outcomes: Path, threshold: str, extra: list[str], confidence: float) -> None:
    doc = run_json("--outcomes", str(outcomes), "--threshold", threshold, *extra)
    assert doc["threshold"] == pytest.approx(0.9) and doc["confidence"] == pytest.approx(confidence)


def test_adaptive_json_adds_spend_and_items_used(outcomes: Path) -> None:
    doc = run_json("--outcomes", str(outcomes), "--threshold", "0.9", "--adaptive", "--seed", "3")
    assert doc["recommended"] == "good"
    assert 0 < doc["eval_spend"] < doc["exhaustive_spend"]
    expected_full = 600 * (0.00001 + 0.0002 + 0.002) + 540 * 0.00005
    assert doc["exhaustive_spend"] == pytest.approx(expected_full)
    rows = {m["model"]: m for m in doc["models"]}
    assert rows["best"]["items_used"] == 0 and rows["good"]["items_used"] > 0
    assert set(rows["good"]) >= {"items_used", "decision", "ci_low"}
    full = run_json("--outcomes", str(outcomes), "--threshold", "0.9", "--adaptive", "--full-report")
    assert all(m["items_used"] > 0 for m in full["models"])


def test_table_output_and_sentence(outcomes: Path) -> None:
    result = runner.invoke(app, ["select", "--outcomes", str(outcomes), "--threshold", "90%",
                                 "--requests-per-day", "1000"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "good clears 90% at 95% confidence on 600 items (accuracy " in text
    assert "; it costs $73.00/year at 1,000 requests/day against $730/year for best. Why good: the cheapest passing " \
        "model by cost per request." in text
    adaptive = runner.invoke(app, ["select", "--outcomes", str(outcomes), "--threshold", "90%", "--adaptive"],
                             env={"COLUMNS": "160"})
    assert adaptive.exit_code == 0 and "Evaluation spend" in adaptive.stdout


def test_non_inferiority_option(outcomes: Path) -> None:
    doc = run_json("--outcomes", str(outcomes), "--threshold", "0.5", "--non-inferior-to", "best",
                   "--margin", "0.05")
    rows = {m["model"]: m["decision"] for m in doc["models"]}
    assert rows["tiny"] == "fail" and rows["best"] == "pass"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--threshold", "1.5"], "threshold"), (["--threshold", "accuracy <= 0.9"], "threshold"),
     (["--threshold", "0.9", "--confidence", "1"], "confidence"),
     (["--threshold", "0.9", "--full-report"], "--adaptive"),
     (["--threshold", "0.9", "--margin", "0.1"], "--non-inferior-to"),
     (["--threshold", "0.9", "--non-inferior-to", "nobody", "--margin", "0.1"], "nobody")],
)
def test_user_errors_are_one_clear_line(outcomes: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["select", "--outcomes", str(outcomes), *args, "--json"])
    assert result.exit_code != 0 and result.stdout == ""
    assert message in str(result.exception)


def test_malformed_outcomes_name_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("m,m|total_cost\n1,0.1\n2,0.1\n", encoding="utf-8")
    result = runner.invoke(app, ["select", "--outcomes", str(path), "--threshold", "0.9", "--json"])
    assert result.exit_code != 0 and result.stdout == ""
    assert f"{path}, line 3, field 'm'" in str(result.exception)
