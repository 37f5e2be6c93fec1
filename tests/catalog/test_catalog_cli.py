from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from satisfice.cli import app
from satisfice.errors import DataError, NotFoundError

runner = CliRunner()


def run_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_import_reports_what_was_added_and_nothing_on_repeat(data: Path) -> None:
    path = str(data / "epoch_snippet.csv")
    first = run_json("catalog", "import", path)
    assert first["format"] == "epoch"
    assert first["read"] == {"models": 6, "offers": 12, "scores": 20}
    assert first["added"]["models"] == 5  # deepseek-r1 is already in the bundled catalog
    assert first["added"]["offers"] == 10  # two davinci rows repeat the price in force
    again = run_json("catalog", "import", path)
    assert again["added"] == {"models": 0, "offers": 0, "scores": 0}


def test_import_with_format_and_as_of(data: Path) -> None:
    out = run_json("catalog", "import", str(data / "litellm_snippet.json"), "--format", "litellm",
                   "--as-of", "2025-03-01")
    assert (out["format"], out["as_of"], out["added"]["offers"]) == ("litellm", "2025-03-01", 7)
    shown = run_json("catalog", "show", "gpt-4o")
    assert {p["provider"] for p in shown["prices"]} == {"openai", "azure"}


def test_bad_file_changes_nothing(tmp_path: Path) -> None:
    before = run_json("catalog", "list")["count"]
    bad = tmp_path / "bad.csv"
    bad.write_text("name,provider,release_date,input_per_m,output_per_m\nNew,p,2024-01-01,1,2\nX,p,2024-01-01,1,abc\n")
    result = runner.invoke(app, ["catalog", "import", str(bad), "--json"])
    assert result.exit_code == 1
    assert isinstance(result.exception, DataError)
    assert (result.exception.line, result.exception.field) == (3, "output_per_m")
    assert result.stdout == ""
    assert run_json("catalog", "list")["count"] == before


def test_list_filters(tmp_path: Path) -> None:
    out = run_json("catalog", "list", "--closed", "--benchmark", "gpqa-diamond", "--min-score", "70")
    assert out["input_share"] == 0.75 and out["blend"] == "3:1 input:output"
    assert out["models"][0]["id"] == "o1" and out["models"][0]["release_date"] == "2024-12-05"
    assert all(m["open_weights"] is False and m["scores"]["gpqa-diamond"] >= 70 for m in out["models"])
    assert out["excluded"]["no_score"] >= 1  # Claude Opus 4.6 has no GPQA score: left out, not failed
    opened = run_json("catalog", "list", "--open", "--benchmark", "GPQA Diamond", "--min-score", "70",
                      "--as-of", "2025-03-01")
    assert [m["id"] for m in opened["models"]] == ["deepseek-r1"]
    assert opened["models"][0]["blended_price"] == pytest.approx(0.75 * 0.55 + 0.25 * 2.19)
    cheap = run_json("catalog", "list", "--max-price", "0.5", "--input-share", "0.5")
    assert cheap["input_share"] == 0.5 and cheap["count"] > 0
    assert all(m["blended_price"] <= 0.5 for m in cheap["models"])
    early = run_json("catalog", "list", "--as-of", "2023-12-31")
    assert {m["id"] for m in early["models"]} == {"gpt-4-0314", "llama-2-70b-chat", "gpt-4-turbo-1106-preview",
                                                   "mixtral-8x7b-instruct"}


def test_list_bad_options() -> None:
    assert runner.invoke(app, ["catalog", "list", "--min-score", "70"]).exit_code == 2
    assert runner.invoke(app, ["catalog", "list", "--benchmark", "nope"]).exit_code == 2
    assert runner.invoke(app, ["catalog", "list", "--as-of", "soon"]).exit_code == 2


def test_show(data: Path) -> None:
    o3 = run_json("catalog", "show", "o3")
    assert o3["model"]["reasoning"] is True
    assert [(p["effective_date"], p["blended_price"]) for p in o3["prices"]] == [("2025-04-16", 17.5),
                                                                                ("2025-06-10", 3.5)]
    assert o3["launch_price"]["blended_price"] == 17.5
    swe = next(s for s in o3["scores"] if s["benchmark"] == "swe-bench-verified")
    assert swe["harness"] == "epoch" and swe["benchmark_name"] == "SWE-bench Verified" and swe["source"]
    assert swe["effort"] == "medium" and swe["default"] is True
    assert set(swe) >= {"benchmark", "value", "harness", "effort", "date", "source"}
    by_name = run_json("catalog", "show", "DeepSeek-R1")
    assert by_name["model"]["id"] == "deepseek-r1"
    run_json("catalog", "import", str(data / "epoch_snippet.csv"))
    mini = run_json("catalog", "show", "o1-mini", "--input-share", "0.5")
    assert [p["blend_note"] for p in mini["prices"]] == ["blended price as given by the source (input share 0.75)"] * 2


def test_show_unknown_model_suggests() -> None:
    result = runner.invoke(app, ["catalog", "show", "deepseek", "--json"])
    assert result.exit_code == 1 and isinstance(result.exception, NotFoundError)
    assert "deepseek-r1" in str(result.exception)
    assert result.stdout == ""


def test_tables_render(data: Path) -> None:
    assert "o1" in runner.invoke(app, ["catalog", "list", "--benchmark", "gpqa-diamond"]).stdout
    assert "epoch" in runner.invoke(app, ["catalog", "show", "o3"]).stdout
    assert "added" in runner.invoke(app, ["catalog", "import", str(data / "native_example.csv")]).stdout


def test_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,release_date\nA,yesterday\n")
    env = {**os.environ, "SATISFICE_NO_BUNDLED": "1"}
    proc = subprocess.run([sys.executable, "-m", "satisfice", "catalog", "import", str(bad)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "line 2" in proc.stderr and "release_date" in proc.stderr and "bad.csv" in proc.stderr


def test_usage_error_without_traceback() -> None:
    proc = subprocess.run([sys.executable, "-m", "satisfice", "catalog", "list", "--as-of", "soon"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "--as-of" in proc.stderr
