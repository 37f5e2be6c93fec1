from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from satisfice.catalog.repository import apply_batch, load_catalog
from satisfice.catalog.sources import parse_file, parse_litellm
from satisfice.errors import DataError
from satisfice.store import Store

DAY = dt.date(2025, 3, 1)


def test_real_entries(data: Path) -> None:
    batch = parse_litellm(data / "litellm_snippet.json", as_of=DAY)
    offers = {(o.model_id, o.provider): o for o in batch.offers}
    assert set(offers) == {
        ("gpt-4o", "openai"), ("gpt-4o", "azure"), ("o1", "openai"), ("deepseek-r1", "deepseek"),
        ("llama-3.3-70b-instruct-turbo", "together_ai"), ("gpt-3.5-turbo-instruct-0914", "azure_text"),
        ("codex-mini", "azure"),
    }  # skipped: sample_spec, embedding, ollama 0/0, no token price; azure/eu folded into azure
    gpt4o = offers[("gpt-4o", "openai")]
    assert (gpt4o.input_per_m, gpt4o.output_per_m, gpt4o.cached_input_per_m) == (2.5, 10, 1.25)
    assert gpt4o.effective_date == DAY
    assert "'gpt-4o'" in gpt4o.source and "2025-03-01" in gpt4o.source
    assert offers[("gpt-4o", "azure")].input_per_m == 2.5  # base entry, not the 2.75 EU one
    assert offers[("deepseek-r1", "deepseek")].output_per_m == 2.19
    models = {m.id: m for m in batch.models}
    assert models["o1"].reasoning and models["deepseek-r1"].reasoning and not models["gpt-4o"].reasoning
    assert models["gpt-4o"].release_date is None


def test_import_is_idempotent_and_dated(store: Store, data: Path) -> None:
    path = data / "litellm_snippet.json"
    first = apply_batch(store, parse_file(path, "litellm", DAY))
    assert first.offers_added == 7
    later = apply_batch(store, parse_file(path, "litellm", dt.date(2025, 6, 1)))  # same prices later: nothing new
    assert (later.models_added, later.offers_added) == (0, 0)
    cat = load_catalog(store)
    assert cat.price_at("gpt-4o", DAY).provider in {"openai", "azure"}  # type: ignore[union-attr]
    assert cat.price_at("gpt-4o", DAY - dt.timedelta(days=1)) is None


@pytest.mark.parametrize(("entry", "field"), [
    ({"input_cost_per_token": "cheap", "output_cost_per_token": 1e-6, "litellm_provider": "x", "mode": "chat"},
     "input_cost_per_token"),
    ({"input_cost_per_token": 1e-6, "output_cost_per_token": -1e-6, "litellm_provider": "x", "mode": "chat"},
     "output_cost_per_token"),
    ({"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6, "mode": "chat"}, "litellm_provider"),
])
def test_malformed_entry(tmp_path: Path, entry: dict[str, object], field: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"good": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                                         "litellm_provider": "x", "mode": "chat"}, "bad/model": entry}, indent=2))
    with pytest.raises(DataError) as err:
        parse_litellm(path, as_of=DAY)
    assert err.value.field == field and err.value.file == str(path)
    assert err.value.line == 8  # the line of the "bad/model" key
    assert "'bad/model'" in str(err.value)


def test_not_a_price_map(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text("[1, 2]")
    with pytest.raises(DataError, match="prices.json"):
        parse_litellm(path)
