"""Every source's parser on its recorded real snapshot, and the identity rule joining them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from satisfice.catalog.identity import Identity, normalise, provider_id, read_aliases
from satisfice.catalog.sources.genai_prices import data_module_providers, parse_genai_prices
from satisfice.catalog.sources.litellm import parse_litellm
from satisfice.catalog.sources.modelsdev import parse_modelsdev
from satisfice.catalog.sources.openrouter import parse_openrouter
from satisfice.errors import DataError

SNAPSHOTS = Path(__file__).resolve().parents[1] / "data" / "pipeline"

DAY = dt.date(2026, 11, 29)
IDS = Identity.load()


def offers(batch, model: str, provider: str | None = None):  # type: ignore[no-untyped-def]
    return sorted((o for o in batch.offers if o.model_id == model and (provider is None or o.provider == provider)),
                  key=lambda o: (o.provider, o.effective_date))


def test_modelsdev_real_api_json() -> None:
    batch = parse_modelsdev(SNAPSHOTS / "modelsdev_api.json", as_of=DAY, ids=IDS.canonical)
    assert len(batch.models) > 150
    v4 = next(m for m in batch.models if m.id == "deepseek-v4-pro")
    assert v4.release_date == dt.date(2026, 4, 24) and v4.open_weights is True and v4.reasoning
    (own,) = offers(batch, "deepseek-v4-pro", "deepseek")
    assert (own.input_per_m, own.output_per_m, own.cached_input_per_m) == (0.435, 0.87, 0.003625)
    assert own.effective_date == DAY and "models.dev" in own.source
    opus = next(m for m in batch.models if m.id == "claude-opus-4.7")  # claude-opus-4-7 in models.dev
    assert opus.open_weights is False and opus.release_date == dt.date(2026, 4, 16)


def test_genai_prices_data_json_keeps_dated_and_scheduled_changes() -> None:
    path = SNAPSHOTS / "genai_prices_data.json"
    before = parse_genai_prices(path, as_of=dt.date(2026, 8, 21), ids=IDS.canonical)
    sonnet5 = offers(before, "claude-sonnet-5", "anthropic")
    # on 2026-08-21 the 2026-09-01 price is scheduled: the current price stays, the new one keeps its date
    assert [(o.effective_date, o.input_per_m, o.output_per_m) for o in sonnet5] == [
        (dt.date(2026, 8, 21), 2.0, 10.0), (dt.date(2026, 9, 1), 3.0, 15.0)]
    after = parse_genai_prices(path, as_of=DAY, ids=IDS.canonical)
    # once the change has taken effect, the introductory price stays as history (its start is not given:
    # dated the day before the change, moved back to the release date when the catalog knows it)
    assert [(o.effective_date, o.input_per_m, o.starts_unknown) for o in offers(after, "claude-sonnet-5",
                                                                                "anthropic")] == [
        (dt.date(2026, 8, 31), 2.0, True), (dt.date(2026, 9, 1), 3.0, False)]
    # a tiered price (<=200K prompt tokens) is its base tier
    _, opus46 = offers(after, "claude-opus-4.6", "anthropic")
    assert (opus46.effective_date, opus46.input_per_m, opus46.output_per_m) == (dt.date(2026, 3, 13), 5.0, 25.0)


def test_genai_prices_package_data_module_from_the_wheel() -> None:
    batch = parse_genai_prices(SNAPSHOTS / "genai_prices-0.2.3-py3-none-any.whl", as_of=DAY, ids=IDS.canonical)
    assert len(batch.models) > 800
    own = offers(batch, "deepseek-v4-pro", "deepseek")
    # DeepSeek's 2026-08-17 change: peak 1.32/3.96 (the dearest daily rate), off-peak 0.66/1.98 named in the source
    assert [(o.effective_date, o.input_per_m, o.output_per_m) for o in own] == [
        (dt.date(2026, 8, 16), 0.435, 0.87), (dt.date(2026, 8, 17), 1.32, 3.96)]
    assert "off-peak 0.66/1.98" in own[1].source and "(start not given)" in own[0].source
    # batch variants are not list prices
    assert all(o.input_per_m != 1.0 for o in offers(batch, "claude-sonnet-5", "openrouter"))


def test_genai_data_module_is_parsed_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = f"providers = [Provider(id='x', models=[__import__('os').system('touch {marker}')])]"
    assert data_module_providers(source, "data.py") == [{"id": "x", "models": [{}]}]
    assert not marker.exists()
    with pytest.raises(DataError, match="unexpected expression"):
        data_module_providers("providers = [os.environ]", "data.py")
    with pytest.raises(DataError, match="data.py.*line 1.*not valid Python"):
        data_module_providers("providers = [", "data.py")
    with pytest.raises(DataError, match="no 'providers' list"):
        data_module_providers("x = 1", "data.py")


def test_litellm_subset_with_canonical_ids() -> None:
    batch = parse_litellm(SNAPSHOTS / "litellm_prices_subset.json", as_of=DAY, ids=IDS.canonical)
    ids = {m.id for m in batch.models}
    assert {"deepseek-v4-pro", "claude-opus-4.7", "gpt-5.5"} <= ids
    assert not any(":" in i or i.startswith(("us.", "global.")) for i in ids)


def test_openrouter_real_response_skips_free_tiers() -> None:
    batch = parse_openrouter(SNAPSHOTS / "openrouter_models.json", as_of=DAY, ids=IDS.canonical)
    assert len(batch.offers) > 250
    assert all(o.input_per_m or o.output_per_m for o in batch.offers)
    (v4,) = offers(batch, "deepseek-v4-pro", "openrouter")
    assert v4.input_per_m is not None and v4.input_per_m > 0


@pytest.mark.parametrize(("raw", "canonical"), [
    ("deepseek/deepseek-v4-pro", "deepseek-v4-pro"),
    ("DeepSeek V4 Pro", "deepseek-v4-pro"),
    ("accounts/fireworks/models/deepseek-v4-pro", "deepseek-v4-pro"),
    ("global.anthropic.claude-opus-4-7-v1:0", "claude-opus-4.7"),
    ("anthropic/claude-opus-4.7", "claude-opus-4.7"),
    ("Claude Opus 4.7", "claude-opus-4.7"),
    ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
    ("gpt-4.1", "gpt-4.1"),
    ("minimax.minimax-m2.5", "minimax-m2.5"),
    ("deepseek/deepseek-r1:free", ""),
    ("anthropic/claude-sonnet-5:batch", ""),
    ("Command R+", "command-r-plus"),
])
def test_normalised_ids(raw: str, canonical: str) -> None:
    assert normalise(raw) == canonical


def test_one_model_from_all_four_real_sources() -> None:
    sources = [
        parse_modelsdev(SNAPSHOTS / "modelsdev_api.json", as_of=DAY, ids=IDS.canonical),
        parse_genai_prices(SNAPSHOTS / "genai_prices_data.json", as_of=DAY, ids=IDS.canonical),
        parse_litellm(SNAPSHOTS / "litellm_prices_subset.json", as_of=DAY, ids=IDS.canonical),
        parse_openrouter(SNAPSHOTS / "openrouter_models.json", as_of=DAY, ids=IDS.canonical),
    ]
    for model in ("deepseek-v4-pro", "claude-opus-4.7"):
        assert all(offers(b, model) for b in sources), model
    # providers stay separate, each with its source
    providers = {provider_id(o.provider) for b in sources for o in offers(b, "deepseek-v4-pro")}
    assert {"deepseek", "openrouter", "fireworks"} <= providers


def test_shipped_aliases_join_dated_snapshots_to_catalog_ids() -> None:
    assert IDS.canonical("claude-opus-4-7-20260416") == "claude-opus-4.7"
    assert IDS.canonical("azure/eu/gpt-5.4-2026-03-05") == "gpt-5.4"
    assert IDS.canonical("anthropic/claude-3-5-sonnet-20241022") == "claude-3.5-sonnet-2024-10-22"
    assert IDS.canonical("gpt-5.5-2026-04-24") == "gpt-5.5-2026-04-24"  # not listed: stays its own id


def test_alias_table_ships_and_extends(tmp_path: Path) -> None:
    extra = tmp_path / "aliases.csv"
    extra.write_text("alias,canonical\nMy Team's V4,deepseek/deepseek-v4-pro\n")
    ids = Identity.load([extra])
    assert ids.canonical("my-team-s-v4") == "deepseek-v4-pro"
    assert ids.canonical("claude-3-5-sonnet-latest") == IDS.canonical("claude-3-5-sonnet-latest")
    bad = tmp_path / "bad.csv"
    bad.write_text("alias,canonical\nx,\n")
    with pytest.raises(DataError, match=r"bad.csv.*line 2"):
        read_aliases(bad)
    bad.write_text("name,id\n")
    with pytest.raises(DataError, match="alias,canonical"):
        read_aliases(bad)
