from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from satisfice.catalog.repository import apply_batch, load_catalog
from satisfice.catalog.sources import parse_openrouter, parse_openrouter_history
from satisfice.catalog.sources.openrouter import model_ids
from satisfice.errors import DataError
from satisfice.store import Store

D = dt.date


def test_models_list(data: Path) -> None:
    batch = parse_openrouter(data / "openrouter_models.json", as_of=D(2025, 2, 1))
    models = {m.id: m for m in batch.models}
    assert set(models) == {"gpt-4o", "deepseek-r1", "deepseek-r1-free", "llama-3.3-70b-instruct"}  # router skipped
    assert models["gpt-4o"].release_date == D(2024, 5, 13)
    assert (models["gpt-4o"].name, models["gpt-4o"].organization) == ("OpenAI: GPT-4o", "openai")
    offers = {o.model_id: o for o in batch.offers}
    assert {o.provider for o in batch.offers} == {"openrouter"}
    assert (offers["gpt-4o"].input_per_m, offers["gpt-4o"].output_per_m, offers["gpt-4o"].cached_input_per_m) == (
        2.5, 10, 1.25)
    assert offers["deepseek-r1-free"].blended() == 0
    assert offers["llama-3.3-70b-instruct"].input_per_m == pytest.approx(0.13)
    assert all(o.effective_date == D(2025, 2, 1) for o in batch.offers)


def test_models_list_bad_price(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"data": [{"id": "a/b", "name": "B", "pricing": {"prompt": "x", "completion": "0"}}]},
                               indent=2))
    with pytest.raises(DataError) as err:
        parse_openrouter(path)
    assert err.value.field == "pricing.prompt" and err.value.line == 4 and "'a/b'" in str(err.value)


def test_history_every_point_is_an_offer(data: Path) -> None:
    batch = parse_openrouter_history(data / "openrouter_history_snippet.json")
    by_model: dict[str, list[tuple[D, float, float]]] = {}
    for o in batch.offers:
        assert o.input_per_m is not None and o.output_per_m is not None
        by_model.setdefault(o.model_id, []).append((o.effective_date, o.input_per_m, o.output_per_m))
    assert len(by_model["qwen-2.5-72b-instruct"]) == 11
    assert sorted(by_model["deepseek-r1"])[0] == (D(2025, 1, 21), 0.55, 2.19)
    # two points on 2025-06-17: the later one (the price at the end of the day) counts
    llama = dict((d, (i, o)) for d, i, o in by_model["llama-3.1-8b-instruct"])
    assert llama[D(2025, 6, 17)] == (0.016, 0.03)
    assert len(llama) == 20  # 23 points, three days with two
    # points without a price (routers) are skipped; a router that never had one is no model
    assert [p[0] for p in by_model["free"]] == [D(2026, 2, 3)]
    assert "auto-beta" not in by_model
    # two ids that would share a slug keep their vendor prefix
    assert {"mistral-ministral-8b", "mistralai-ministral-8b"} <= set(by_model)
    models = {m.id: m for m in batch.models}
    assert models["deepseek-r1"].release_date is None  # first_seen is not a release date
    assert models["deepseek-r1"].organization == "deepseek"


def test_model_ids() -> None:
    assert model_ids(["openai/gpt-4o", "deepseek/deepseek-r1:free"]) == {
        "openai/gpt-4o": "gpt-4o", "deepseek/deepseek-r1:free": "deepseek-r1-free"}
    assert model_ids(["a/x", "b/x"]) == {"a/x": "a-x", "b/x": "b-x"}


def test_history_import_idempotent_and_price_at(store: Store, data: Path) -> None:
    path = data / "openrouter_history_snippet.json"
    first = apply_batch(store, parse_openrouter_history(path))
    assert first.offers_added > 0
    again = apply_batch(store, parse_openrouter_history(path))
    assert (again.models_added, again.offers_added) == (0, 0)
    cat = load_catalog(store)
    assert cat.price_at("deepseek-r1", D(2025, 1, 29)) is None  # a reseller's price is never the default
    offer = cat.price_at("deepseek-r1", D(2025, 1, 29), provider="openrouter")
    assert offer is not None and offer.input_per_m == 7.0 and offer.provider_kind == "reseller"
    assert cat.price_at("deepseek-r1", D(2025, 1, 20)) is None


@pytest.mark.parametrize(("point", "field"), [
    (["2025-13-01", 1, 2], "points[1][0]"),
    (["2025-01-02", -1, 2], "points[1][1]"),
    (["2025-01-02", 1], "points[1]"),
])
def test_history_malformed(tmp_path: Path, point: list[object], field: str) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"as_of": "2025-02-01", "models": {
        "a/ok": {"name": "OK", "points": [["2025-01-01", 1, 2]]},
        "a/bad": {"name": "Bad", "points": [["2025-01-01", 1, 2], point]}}}, indent=1))
    with pytest.raises(DataError) as err:
        parse_openrouter_history(path)
    assert err.value.field == field and err.value.file == str(path) and "'a/bad'" in str(err.value)
    assert err.value.line is not None


def test_full_shared_history(shared_data: Path, store: Store) -> None:
    batch = parse_openrouter_history(shared_data / "openrouter_price_history.json")
    raw = json.loads((shared_data / "openrouter_price_history.json").read_text())
    priced = {k for k, v in raw["models"].items() if any(p[1] is not None for p in v["points"])}
    assert len(batch.models) == len(priced) - 1  # two ids differing only in case are one model
    result = apply_batch(store, batch)
    assert result.models_added == len(batch.models)
    assert apply_batch(store, batch).offers_added == 0
