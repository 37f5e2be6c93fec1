"""The copies under tests/data/shared are the project's shared data files, byte for byte."""

from pathlib import Path

import pytest

COPY = Path(__file__).resolve().parent / "data" / "shared"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = ["catalog_facts.csv", "openrouter_price_history.json", "epoch/aa_data_with_math5.csv",
         "epoch/epoch_ai_price_data_not_in_aa_with_benchmarks.csv", "routerbench/mbpp_train_outcomes.csv",
         "catalog_facts_2026.csv", "SOURCES_2026.md"]


@pytest.mark.parametrize("name", FILES)
def test_copy_is_present(name: str) -> None:
    assert (COPY / name).stat().st_size > 0


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared/data beside this checkout to compare with")
@pytest.mark.parametrize("name", FILES)
def test_copy_matches_the_shared_folder(name: str) -> None:
    assert (COPY / name).read_bytes() == (SHARED / name).read_bytes(), f"tests/data/shared/{name} is stale"
