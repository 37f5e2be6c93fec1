from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest

from satisfice.catalog.bundled import bundled_path, ensure_bundled
from satisfice.catalog.repository import load_catalog
from satisfice.catalog.rows import Catalog
from satisfice.catalog.sources import parse_native
from satisfice.market.runcost import run_cost
from satisfice.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bundled(store: Store) -> Catalog:
    assert ensure_bundled(store) is True
    return load_catalog(store)


def _first_to_clear(cat: Catalog, benchmark: str, threshold: float, open_weights: bool) -> tuple[str, dt.date]:
    cleared = [m for m in cat.models.values() if m.open_weights is open_weights and m.release_date is not None
               and (s := cat.score(m.id, benchmark)) is not None and s.value >= threshold]
    first = min(cleared, key=lambda m: m.release_date or dt.date.max)
    assert first.release_date is not None
    return first.id, first.release_date


def test_bundled_catalog_loads_once(store: Store) -> None:
    assert ensure_bundled(store) is True
    assert ensure_bundled(store) is False
    cat = load_catalog(store)
    assert len(cat.models) == 70  # 44 to 2026-02-11, 26 from catalog_facts_2026.csv


def test_gpqa_70_first_closed_o1_first_open_r1(bundled: Catalog) -> None:
    assert bundled.score("o1", "gpqa-diamond").value == 75.8  # type: ignore[union-attr]
    assert bundled.score("deepseek-r1", "gpqa-diamond").value == 71.7  # type: ignore[union-attr]
    assert _first_to_clear(bundled, "gpqa-diamond", 70, open_weights=False) == ("o1", dt.date(2024, 12, 5))
    assert _first_to_clear(bundled, "gpqa-diamond", 70, open_weights=True) == ("deepseek-r1", dt.date(2025, 1, 20))
    o1 = bundled.launch_price("o1")
    r1 = bundled.launch_price("deepseek-r1")
    assert o1 is not None and r1 is not None
    assert (o1.provider, o1.input_per_m, o1.output_per_m) == ("openai", 15, 60)
    # DeepSeek's own price, not the 1.1x hyperscaler price (shared/data/README.md "Known traps")
    assert (r1.provider, r1.input_per_m, r1.output_per_m) == ("deepseek", 0.55, 2.19)


def test_every_fact_has_a_source(bundled: Catalog) -> None:
    assert all(o.source for o in bundled.offers)
    assert all(s.source for s in bundled.scores)
    assert {m.id for m in bundled.models.values() if m.reasoning} >= {"o1", "o3", "deepseek-r1"}
    assert not bundled.models["deepseek-v3"].reasoning


def test_harness_and_per_benchmark_sources(bundled: Catalog) -> None:
    swe = bundled.score("o3", "swe-bench-verified")
    gpqa = bundled.score("o3", "gpqa-diamond")
    assert swe is not None and gpqa is not None
    assert (swe.harness, swe.effort) == ("epoch", "medium")
    assert (gpqa.harness, gpqa.effort) == ("epoch", "high")
    assert swe.source.startswith("SWE: EBR o3_medium") and gpqa.source.startswith("GPQA: EBR o3_high")
    assert "EBR = Epoch AI benchmark-stitching runs" in gpqa.source


def test_dated_price_change(bundled: Catalog) -> None:
    assert bundled.price_at("o3", dt.date(2025, 6, 9)).input_per_m == 10  # type: ignore[union-attr]
    assert bundled.price_at("o3", dt.date(2025, 6, 10)).input_per_m == 2  # type: ignore[union-attr]


def test_meta_models_priced_at_a_named_host(bundled: Catalog) -> None:
    providers = {o.provider for o in bundled.offers if bundled.models[o.model_id].organization == "Meta"}
    assert providers <= {"anyscale", "together_ai", "bedrock", "deepinfra"}


def test_bundled_file_is_up_to_date_with_the_facts(shared_data: Path) -> None:
    script = REPO / "scripts" / "build_bundled_catalog.py"
    spec = importlib.util.spec_from_file_location("build_bundled_catalog", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(shared_data / "catalog_facts.csv", shared_data / "catalog_facts_2026.csv",
                         bundled_path().parent / "package_prices.csv")
    assert built == bundled_path().read_text(encoding="utf-8")


def test_bundled_file_parses_without_store() -> None:
    batch = parse_native(bundled_path())
    assert batch.counts() == {"models": 70, "offers": 83, "scores": 167}


def test_a_fresh_store_knows_the_2026_models_with_their_prices(bundled: Catalog) -> None:
    today = dt.date(2026, 11, 29)
    for model in ("gpt-5.5", "gpt-6-sol", "gpt-6-astra", "claude-opus-4.7", "claude-opus-4.8", "claude-opus-5",
                  "claude-sonnet-5", "gemini-3.1-pro-preview", "gemini-3.5-flash", "deepseek-v4-pro",
                  "deepseek-v4-flash", "kimi-k2.6", "kimi-k3", "qwen3.5-397b-a17b", "qwen3.6-27b",
                  "glm-5.1", "minimax-m3"):
        offer = bundled.price_at(model, today)
        assert offer is not None and offer.provider_kind == "first-party", model
    # Gemma 4 31B: Google sells no API of it; the default is DeepInfra's own list price (serving), never
    # OpenRouter's, which is cheaper on some dates but a reseller's: labelled, and only asked for by name
    default = bundled.price_at("gemma-4-31b-it", today)
    assert default is not None and (default.provider, default.provider_kind) == ("deepinfra", "serving")
    assert (default.input_per_m, default.output_per_m, default.effective_date) == (0.13, 0.38, dt.date(2026, 5, 2))
    assert bundled.price_at("gemma-4-31b-it", dt.date(2026, 4, 10)) is None  # before DeepInfra's offer
    reseller = bundled.price_at("gemma-4-31b-it", today, provider="openrouter")
    assert reseller is not None and reseller.provider_kind == "reseller"
    # DeepSeek-V4-Pro: 1.74/3.48 at launch, 0.435/0.87, then 1.32/3.96 (peak rate, off-peak 0.66/1.98)
    history = [(o.effective_date, o.input_per_m, o.output_per_m) for o in bundled.offers_of("deepseek-v4-pro")]
    assert history == [(dt.date(2026, 4, 24), 1.74, 3.48), (dt.date(2026, 5, 24), 0.435, 0.87),
                       (dt.date(2026, 8, 17), 1.32, 3.96)]
    # prices from the genai-prices package keep their source and date (GPT-5.6 Sol 5/30, then 4/20)
    sol = bundled.price_at("gpt-5.6-sol", today)
    assert sol is not None and (sol.input_per_m, sol.effective_date) == (4, dt.date(2026, 8, 21))
    gemma = bundled.price_at("gemma-4-31b-it", today, provider="openrouter")
    assert gemma is not None and gemma.provider == "openrouter" and "genai-prices 0.2.3" in gemma.source
    assert bundled.score("claude-opus-5", "swe-bench-verified").value == 96.0  # type: ignore[union-attr]
    assert bundled.score("claude-sonnet-5", "gpqa-diamond") is None  # unknown stays empty
    # GPT-5.5: OpenAI's 93.6 and Moonshot AI's run (Kimi K3 report, 93.5 at xhigh) side by side; the run
    # by another lab stands by default, the vendor's figure on request
    gpt55 = bundled.score("gpt-5.5", "gpqa-diamond")
    assert gpt55 is not None and (gpt55.value, gpt55.harness, gpt55.effort) == (93.5, "moonshot", "xhigh")
    vendor = bundled.score("gpt-5.5", "gpqa-diamond", harness="vendor")
    assert vendor is not None and vendor.value == 93.6 and "besthub.dev" in vendor.source
    fable = bundled.score("claude-fable-5", "gpqa-diamond")
    assert fable is not None and (fable.value, fable.harness) == (92.6, "moonshot") and "k3_report" in fable.source
    flash = [(o.value, o.effort) for o in bundled.observations("deepseek-v4-flash", "gpqa-diamond")]
    assert flash == [(88.1, "Max mode"), (87.4, "High mode")]
    m25 = bundled.score("minimax-m2.5", "gpqa-diamond")  # MiniMax's M2-series report, Table 4
    assert m25 is not None and (m25.value, m25.harness) == (85.2, "vendor") and "2605.26494" in m25.source


def test_market_examples_on_the_rebuilt_catalog(bundled: Catalog) -> None:
    assert _first_to_clear(bundled, "swe-bench-verified", 80, open_weights=False) == (
        "claude-opus-4.5", dt.date(2025, 11, 24))
    assert _first_to_clear(bundled, "swe-bench-verified", 80, open_weights=True) == ("kimi-k2.6", dt.date(2026, 4, 20))
    assert _first_to_clear(bundled, "gpqa-diamond", 85, open_weights=False) == ("gemini-2.5-pro", dt.date(2025, 6, 17))
    assert _first_to_clear(bundled, "gpqa-diamond", 85, open_weights=True) == ("glm-4.7", dt.date(2025, 12, 22))


def test_run_cost_of_the_aa_index_on_the_bundled_catalog(bundled: Catalog) -> None:
    # Artificial Analysis's own runs of its Intelligence Index v4.3 (read 2026-10-01): tokens to run the whole
    # index and its measured cost, for nine catalog models; one observation is one run (items 1). AA's
    # "DeepSeek V4 Pro 0813" is a later checkpoint than the catalog's DeepSeek-V4-Pro (2026-04-24): left out
    result = run_cost(bundled, "aa-intelligence-index", dt.date(2026, 10, 1))
    assert result.benchmark == "aa-intelligence-index-v4.3" and len(result.rows) == 9 and not result.without_tokens
    assert "deepseek-v4-pro" not in {r.model for r in result.rows}
    by_id = {r.model: r for r in result.rows}
    for row in result.rows:
        assert row.harness == "artificial-analysis" and row.items == 1 and row.output_tokens
        assert "aa_snapshot.json" in row.source and "artificialanalysis.ai/models/" in row.source
    opus, astra = by_id["claude-opus-5"], by_id["gpt-6-astra"]
    assert (opus.run_cost_usd, opus.basis, opus.input_tokens) == (7274.74, "measured cost", 5522853815)
    assert (astra.run_cost_usd, astra.score) == (5324.1, 52.7)
    # Gemma 4 31B: AA gives no cost (no paid price), so its tokens are priced at DeepInfra's list price
    gemma = by_id["gemma-4-31b-it"]
    assert gemma.basis == "tokens x price"
    assert gemma.run_cost_usd == pytest.approx((895081362 * 0.13 + 48607603 * 0.38) / 1e6)
    # the README's example: Opus 5 is half Astra's price per token and 1.37x dearer to run the index
    first = result.reversals[0]
    assert (first.cheaper_per_token, first.dearer_to_run) == ("Claude Opus 5", "GPT-6 Astra")
    assert first.price_ratio == pytest.approx(2.0) and first.run_cost_ratio == pytest.approx(7274.74 / 5324.1)
