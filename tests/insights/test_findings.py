"""Findings from two catalog snapshots, and the replayed history of the bundled catalog against `market frontier`."""

from __future__ import annotations

import dataclasses
import datetime as dt

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.repository import apply_batch, load_catalog
from satisfice.catalog.rows import Catalog, ModelRow, OfferRow, ScoreRow
from satisfice.insights import history
from satisfice.insights.articles import article, title
from satisfice.market.cost import annual_bill
from satisfice.market.findings import KINDS, Finding, FindingRules, bars_for, compare, market_state
from satisfice.market.frontier import frontier
from satisfice.store import Store

RULES = FindingRules()
DAY = dt.date(2026, 12, 1)


def _states(before: Catalog, after: Catalog, rules: FindingRules = RULES) -> list[Finding]:
    bars = bars_for(after, rules)
    return compare(market_state(before.as_of(DAY), bars, rules), market_state(after.as_of(DAY), bars, rules), DAY,
                   rules)


def test_nothing_changed_finds_nothing(bundled: Catalog) -> None:
    assert _states(bundled, bundled) == []


def test_bars_are_steps_up_to_the_best_score_or_given(bundled: Catalog) -> None:
    bars = bars_for(bundled, RULES)
    assert ("gpqa-diamond", 70.0) in bars and ("gpqa-diamond", 30.0) not in bars
    assert max(t for b, t in bars if b == "gpqa-diamond") <= max(s.value for s in bundled.scores
                                                                  if s.benchmark == "gpqa-diamond")
    given = bars_for(bundled, FindingRules(bars={"gpqa-diamond": (65.0,)}))
    assert [t for b, t in given if b == "gpqa-diamond"] == [65.0]


def test_a_newly_scored_open_model_clearing_a_bar(bundled_store: Store, bundled: Catalog) -> None:
    """An import adds an open model released 2025-01-01 scoring 72 on GPQA Diamond at $0.50/$1.00 per M."""
    apply_batch(bundled_store, ImportBatch(
        "new.csv", models=[ModelRow("open-new", "Open New", "Lab", True, dt.date(2025, 1, 1))],
        offers=[OfferRow("open-new", "lab", dt.date(2025, 1, 1), 0.5, 1.0, source="lab price page")],
        scores=[ScoreRow("open-new", "gpqa-diamond", 72.0, source="lab model card")]))
    after = load_catalog(bundled_store)
    found = _states(bundled, after)
    opened = [f for f in found if f.kind == "open_cleared" and f.threshold == 70.0]
    assert len(opened) == 1
    f = opened[0]
    front = frontier(after, "gpqa-diamond", 70.0)
    assert [m.model for m in f.models] == ["o1", "open-new"]
    assert f.numbers["lag_days"] == front.lag_days == 27
    assert f.numbers["price_ratio"] == front.price_ratio == 26.25 / 0.625
    assert "lab model card" in f.sources and "lab price page" in f.sources
    # the lowest launch price over GPQA Diamond 70 is still Gemma 4 31B IT's: no frontier price finding there
    assert not [f for f in found if f.kind == "frontier_price" and f.benchmark == "gpqa-diamond"]
    assert found[0].kind == "open_cleared"  # the largest finding comes first
    assert title(found).startswith("Open New is the first open model over GPQA Diamond")


def test_a_price_cut_makes_a_new_cheapest_model(bundled: Catalog) -> None:
    cut = OfferRow("deepseek-v3.2", "deepseek", dt.date(2026, 11, 30), 0.14, 0.2, source="price cut notice")
    after = Catalog.build(bundled.models.values(), [*bundled.offers, cut], bundled.scores, bundled.benchmarks.values())
    found = _states(bundled, after)
    assert found and {f.kind for f in found} == {"workload"}
    for f in found:
        assert f.models[-1].model == "deepseek-v3.2" and f.numbers["new_price"] == 0.75 * 0.14 + 0.25 * 0.2
        assert f.numbers["new_annual"] == annual_bill(f.numbers["new_price"], 100e6)
        assert f.numbers["old_annual"] == annual_bill(f.numbers["old_price"], 100e6)
        assert "price cut notice" in f.sources
    assert _states(bundled, after, dataclasses.replace(RULES, min_price_factor=100)) == [
        f for f in found if f.models[0].model != f.models[1].model]  # a threshold silences same-model changes


def test_findings_round_trip_and_have_stable_fingerprints(bundled: Catalog) -> None:
    replayed = history(bundled, RULES, DAY)
    findings = [f for _, fs in replayed for f in fs]
    assert {f.kind for f in findings} >= {"open_cleared", "first_cleared", "frontier_price", "workload", "gap"}
    assert set(KINDS) >= {f.kind for f in findings}
    for f in findings:
        assert Finding.from_json(f.to_json()) == f
        assert Finding.from_json(f.to_json()).fingerprint() == f.fingerprint()
    assert len({f.fingerprint() for f in findings}) == len(findings)
    doc = article(1, replayed[-1][0], "backfill", None, replayed[-1][1])
    assert doc["title"] and 1 <= len(doc["tldr"]) <= 3 and doc["cards"] and doc["models"]


def test_replayed_history_has_the_seed_analysis_events_with_market_frontier_figures(bundled: Catalog) -> None:
    by_date = dict(history(bundled, RULES, DAY))
    front = frontier(bundled, "gpqa-diamond", 70.0)
    r1 = next(f for f in by_date[dt.date(2025, 1, 20)] if f.kind == "open_cleared" and f.benchmark == "gpqa-diamond")
    assert r1.threshold == 70.0 and [m.model for m in r1.models] == ["o1", "deepseek-r1"]
    assert front.first_open is not None and front.first_closed is not None
    assert r1.numbers["lag_days"] == front.lag_days == 46
    assert r1.numbers["price_ratio"] == front.price_ratio and round(r1.numbers["price_ratio"], 1) == 27.3
    assert r1.numbers["open_price"] == front.first_open.blended_price
    assert r1.numbers["closed_price"] == front.first_closed.blended_price
    v32 = next(f for f in by_date[dt.date(2025, 12, 1)] if f.kind == "frontier_price" and f.threshold == 70.0
               and f.benchmark == "gpqa-diamond")
    points = {m.model: m.blended_price for m in front.frontier}
    assert [m.model for m in v32.models] == ["deepseek-r1", "deepseek-v3.2"]
    assert v32.numbers["old_price"] == points["deepseek-r1"] and v32.numbers["new_price"] == points["deepseek-v3.2"]
    assert v32.numbers["new_price"] == 0.315
