"""Loading wide (RouterBench) outcome tables: models, missing cells, carried columns, and clear errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from satisfice.errors import DataError
from satisfice.evals.outcomes import OutcomesTable, load_outcomes


def write(tmp_path: Path, text: str, name: str = "out.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (
    "sample_id,prompt,gpt-x,gpt-x|total_cost,gpt-x|model_response,small,small|total_cost,judge-only|model_response,"
    "judge-only\n"
    "a,\"What is 2+2, really?\",1.0,0.002,4,0,0.0001,x,0.5\n"
    "b,q2,0.0,0.002,5,,,y,\n"
    "c,q3,1,0.003,4,1,0.0002,z,NaN\n"
)


def test_loads_models_scores_costs_and_missing(tmp_path: Path) -> None:
    table = load_outcomes(write(tmp_path, GOOD))
    assert table.models == ["gpt-x", "small", "judge-only"]
    assert table.item_ids == ["a", "b", "c"]
    assert table.scores["gpt-x"].tolist() == [1.0, 0.0, 1.0]
    small = table.scores["small"]
    assert small[0] == 0.0 and math.isnan(small[1]) and small[2] == 1.0
    assert table.costs["judge-only"] is None  # model without a cost column: cost unknown, never $0
    assert table.cost_per_item("judge-only") is None
    assert table.cost_per_item("gpt-x") == pytest.approx(0.007 / 3)
    assert table.cost_per_item("small") == pytest.approx(0.00015)  # the missing cost cell is skipped
    assert table.extra["prompt"][0] == "What is 2+2, really?"
    assert "gpt-x|model_response" in table.extra
    assert np.isnan(table.scores["judge-only"][1:]).all()
    assert table.n_items == 3 and table.source == str(tmp_path / "out.csv")


def test_item_ids_fall_back_to_line_numbers_and_blank_rows_are_skipped(tmp_path: Path) -> None:
    table = load_outcomes(write(tmp_path, "m,m|total_cost\n1,0.1\n\n0,0.1\n"))
    assert table.item_ids == ["2", "4"]


def test_explicit_models_without_any_partner_column(tmp_path: Path) -> None:
    table = load_outcomes(write(tmp_path, "id,alpha,beta,beta|total_cost\nx,1,0,0.1\n"), models=["alpha"])
    assert table.models == ["alpha", "beta"] and table.costs["alpha"] is None
    with pytest.raises(DataError, match="gamma"):
        load_outcomes(write(tmp_path, "id,alpha\nx,1\n"), models=["gamma"])


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("m,m|total_cost\n1,0.1\nyes,0.1\n", 3, "m", "not a number"),
        ("m,m|total_cost\n1,0.1\n1.5,0.1\n", 3, "m", "outside [0, 1]"),
        ("m,m|total_cost\n-0.1,0.1\n", 2, "m", "outside [0, 1]"),
        ("m,m|total_cost\n1,-0.5\n", 2, "m|total_cost", "negative"),
        ("m,m|total_cost\n1,cheap\n", 2, "m|total_cost", "not a number"),
        ("m,m|total_cost\n1,inf\n", 2, "m|total_cost", "not finite"),
        ("m,m|total_cost\n1,0.1\n1\n", 3, None, "expected 2 cells"),
        ("m,m|total_cost,m\n1,0.1,1\n", 1, "m", "duplicate column"),
        ("x|total_cost\n0.1\n", 1, "x|total_cost", "no score column"),
        ("prompt,answer\nq,a\n", 1, None, "no model columns"),
        ("m,m|total_cost\n", 2, None, "no rows"),
        ("", 1, None, "empty"),
    ],
)
def test_malformed_files_name_file_line_and_column(tmp_path: Path, text: str, line: int, field: str | None,
                                                   message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataError) as info:
        load_outcomes(path)
    err = info.value
    assert err.file == str(path) and err.line == line and err.field == field
    assert message in str(err) and str(path) in str(err) and f"line {line}" in str(err)


def test_multiline_cell_reports_the_starting_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'prompt,m,m|total_cost\n"two\nlines",1,0.1\nok,bad,0.1\n')
    with pytest.raises(DataError) as info:
        load_outcomes(path)
    assert info.value.line == 4 and info.value.field == "m"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        load_outcomes(tmp_path / "nope.csv")


def test_from_arrays_validates() -> None:
    table = OutcomesTable.from_arrays({"a": [1, 0, float("nan")]}, {"a": [0.1, 0.1, 0.1]})
    assert table.n_items == 3 and math.isnan(table.scores["a"][2])
    with pytest.raises(DataError):
        OutcomesTable.from_arrays({"a": [1.2]})
    with pytest.raises(DataError):
        OutcomesTable.from_arrays({"a": [1, 0], "b": [1]})
    with pytest.raises(DataError):
        OutcomesTable.from_arrays({"a": [1]}, {"a": [-1.0]})
