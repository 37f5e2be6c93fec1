from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from satisfice.catalog.repository import apply_batch, load_catalog
from satisfice.catalog.sources import parse_epoch
from satisfice.errors import DataError
from satisfice.store import Store

D = dt.date


def test_rows_become_models_with_dated_prices(data: Path) -> None:
    batch = parse_epoch(data / "epoch_snippet.csv")
    models = {m.id: m for m in batch.models}
    assert set(models) == {"command-r", "command-r-plus", "deepseek-r1", "gpt-3-175b-davinci", "llama-2-7b",
                           "o1-mini"}
    assert models["gpt-3-175b-davinci"].release_date == D(2021, 11, 20)  # earliest row
    assert models["o1-mini"].reasoning and models["deepseek-r1"].reasoning
    assert not models["command-r-plus"].reasoning
    assert models["command-r-plus"].organization == "Cohere"
    davinci = sorted((o.effective_date, o.blended_per_m) for o in batch.offers if o.model_id == "gpt-3-175b-davinci")
    assert davinci == [(D(2021, 11, 20), 60), (D(2022, 8, 31), 60), (D(2022, 9, 1), 20), (D(2024, 1, 4), 20)]
    offer = next(o for o in batch.offers if o.model_id == "o1-mini" and o.effective_date == D(2025, 1, 31))
    assert (offer.provider, offer.input_per_m, offer.output_per_m, offer.blended_per_m, offer.blend_input_share) == (
        "epoch-ai", None, None, 1.925, 0.75)
    assert offer.blended(0.5) == 1.925  # a source's blend is used as given
    assert "epoch-research/llm-benchmark-efficiency" in offer.source and "epoch_snippet.csv" in offer.source


def test_scores_and_conflicting_rows(data: Path) -> None:
    batch = parse_epoch(data / "epoch_snippet.csv")
    scores = {(s.model_id, s.benchmark): s for s in batch.scores}
    assert {s.harness for s in batch.scores} == {"Epoch AI data"}
    r1 = {b: s.value for (m, b), s in scores.items() if m == "deepseek-r1"}
    assert r1 == {"gpqa-diamond": 71.7, "humaneval": 98, "math-500": 96, "arena-elo": 1362, "math-level-5": 93.1}
    davinci = scores[("gpt-3-175b-davinci", "mmlu")]
    assert davinci.value == 43.9  # the earliest row; the 2024-01-04 row's 63.1 is named in the source
    assert "2024-01-04: 63.1" in davinci.source
    assert "differ" not in scores[("command-r-plus", "mmlu")].source


def test_aa_file_and_store(data: Path, store: Store) -> None:
    batch = parse_epoch(data / "epoch_aa_snippet.csv")
    assert {m.organization for m in batch.models} == {"Anthropic", "OpenAI", "Meta", "Mistral"}
    first = apply_batch(store, batch)
    assert (first.models_added, first.offers_added, first.scores_added) == (4, 4, len(batch.scores))
    again = apply_batch(store, parse_epoch(data / "epoch_aa_snippet.csv"))
    assert (again.models_added, again.offers_added, again.scores_added) == (0, 0, 0)
    cat = load_catalog(store)
    assert cat.price_at("gpt-4o-2024-05", D(2024, 6, 1)).blended() == 7.5  # type: ignore[union-attr]
    assert cat.score("gpt-4o-2024-05", "arena-elo").value == 1285  # type: ignore[union-attr]


@pytest.mark.parametrize(("row", "field"), [
    ("X,2024-01-01,abc,50,,,,,\n", "USD per 1M Tokens"),
    ("X,2024-01-01,-1,50,,,,,\n", "USD per 1M Tokens"),
    ("X,01/01/2024,1,50,,,,,\n", "Release Date"),
    ("X,2024-01-01,1,150,,,,,\n", "MMLU"),
    ("X,2024-01-01,1,,,,,ten,\n", "LMSys Chatbot Arena ELO"),
    ("X,2024-01-01,1,50,,,,,\nX,2024-01-01,2,50,,,,,\n", "USD per 1M Tokens"),
    ("X+,2024-01-01,1,50,,,,,\nX plus,2024-01-01,2,50,,,,,\n", "Model Name"),
])
def test_malformed(tmp_path: Path, row: str, field: str) -> None:
    path = tmp_path / "epoch.csv"
    path.write_text("Model Name,Release Date,USD per 1M Tokens,MMLU,GPQA Diamond,HumanEval,MATH-500,"
                    "LMSys Chatbot Arena ELO,MATH 5\nOK,2024-01-01,1,50,,,,,\n" + row)
    with pytest.raises(DataError) as err:
        parse_epoch(path)
    assert err.value.field == field and err.value.file == str(path)
    assert err.value.line == 2 + row.count("\n")


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "epoch.csv"
    path.write_text("Model Name,Release Date,MMLU\nA,2024-01-01,50\n")
    with pytest.raises(DataError) as err:
        parse_epoch(path)
    assert (err.value.line, err.value.field) == (1, "USD per 1M Tokens")


def test_full_shared_files(shared_data: Path, store: Store) -> None:
    files = sorted((shared_data / "epoch").glob("*.csv"))
    assert len(files) == 2
    added = [apply_batch(store, parse_epoch(f)) for f in files]
    cat = load_catalog(store)
    assert len(cat.models) == sum(a.models_added for a in added) == 66
    assert {m.id for m in cat.models.values() if m.reasoning} == {"o1", "o1-mini", "o1-preview", "o3-mini",
                                                                   "deepseek-r1"}
    assert len(cat.offers_of("gpt-3-175b-davinci")) == 2  # repeats of the price in force add nothing
    assert [o.blended() for o in cat.offers_of("command-r-plus")] == [6, 4.375]
    assert all(apply_batch(store, parse_epoch(f)).offers_added == 0 for f in files)
