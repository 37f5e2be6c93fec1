from __future__ import annotations

from pathlib import Path

import pytest

from satisfice.catalog.bundled import bundled_path
from satisfice.catalog.sources import detect_format, parse_file
from satisfice.errors import DataError


@pytest.mark.parametrize(("name", "fmt"), [
    ("litellm_snippet.json", "litellm"),
    ("openrouter_models.json", "openrouter"),
    ("openrouter_history_snippet.json", "openrouter-history"),
    ("epoch_snippet.csv", "epoch"),
    ("epoch_aa_snippet.csv", "epoch"),
    ("native_example.csv", "satisfice"),
    ("native_example.json", "satisfice"),
])
def test_detect(data: Path, name: str, fmt: str) -> None:
    assert detect_format(data / name) == fmt


def test_bundled_is_native() -> None:
    assert detect_format(bundled_path()) == "satisfice"


@pytest.mark.parametrize(("name", "text"), [
    ("x.csv", "a,b\n1,2\n"),
    ("x.json", '{"hello": "world"}'),
    ("x.txt", ""),
])
def test_unknown_format_names_the_file(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError) as err:
        detect_format(path)
    assert str(path) in str(err.value) and "--format" in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        parse_file(tmp_path / "nope.csv")


def test_as_of_only_for_undated_formats(data: Path) -> None:
    import datetime as dt

    with pytest.raises(DataError, match="--as-of"):
        parse_file(data / "epoch_snippet.csv", as_of=dt.date(2025, 1, 1))
    assert parse_file(data / "openrouter_models.json", as_of=dt.date(2025, 1, 1)).offers
