"""The market's answers, defined once: the cheapest model clearing a bar, workload bills, the Insights findings."""

from __future__ import annotations

import datetime as dt

import pytest
from market_builders import M, build

from satisfice.catalog.rows import Catalog, ModelRow, OfferRow, ScoreRow
from satisfice.market.buy_or_build import Workload, compare
from satisfice.market.cost import cost
from satisfice.market.findings import FindingRules, market_state
from satisfice.market.lag import lag_analysis
from satisfice.market.overview import annual_bill, bar_bills, cheapest_clearing, model_bills, overview
from satisfice.selfhost.calibration import Calibration

MODELS = [
    M("closed-a", "2024-01-01", False, {"mmlu": 80.0}, [("2024-01-01", 10.0, 30.0), ("2025-06-01", 4.0, 12.0)]),
    M("open-b", "2024-09-01", True, {"mmlu": 82.0}, [("2024-09-01", 1.0, 3.0)]),
    M("open-c", "2025-01-01", True, {"mmlu": 70.0}, [("2025-01-01", 0.1, 0.3)]),
    M("tie-d", "2025-02-01", True, {"mmlu": 85.0}, [("2025-02-01", 1.0, 3.0)]),
]


def test_annual_bill_by_hand() -> None:
    assert annual_bill(15.0, 100e6) == pytest.approx(547_500)
    assert annual_bill(0.25, 100e6) == pytest.approx(9_125)


def test_cheapest_clearing_bar_price_date_and_ties() -> None:
    catalog = build(MODELS)
    # the bar is inclusive; on equal prices (open-b and tie-d at $1.50/M) the higher score wins
    found = cheapest_clearing(catalog, "mmlu", 82.0)
    assert found is not None and found.model == "tie-d" and found.blended_price == pytest.approx(1.5)
    assert cheapest_clearing(catalog, "mmlu", 70.0).model == "open-c"  # type: ignore[union-attr]
    assert cheapest_clearing(catalog, "mmlu", 86.0) is None
    # on a date, only what was released and priced then: closed-a alone, at its launch price
    early = cheapest_clearing(catalog, "mmlu", 75.0, as_of=dt.date(2024, 6, 1))
    assert early is not None and early.model == "closed-a" and early.blended_price == pytest.approx(15.0)


def test_bills_agree_with_market_cost_and_the_findings_feed() -> None:
    catalog = build(MODELS)
    picked = [cheapest_clearing(catalog, "mmlu", t) for t in (82.0, 70.0)]
    rows = model_bills(catalog, [m for m in picked if m is not None], 10e6, 0.75)
    assert [r["model"] for r in rows] == ["open-c", "tie-d"]
    costed = cost(catalog, ["open-c", "tie-d"], 10e6).to_json()["models"]
    assert [r["annual_usd"] for r in rows] == pytest.approx([m["annual_usd"] for m in costed])
    assert rows[0]["daily_usd"] == pytest.approx(0.15 * 10)
    state = market_state(catalog, [("mmlu", 82.0)], FindingRules())
    assert state.bars[("mmlu", 82.0)].cheapest_now == cheapest_clearing(catalog, "mmlu", 82.0)


def test_bar_bills_and_findings() -> None:
    catalog = build(MODELS)
    lag = lag_analysis(catalog, "all", None, 0.75)
    (row,) = bar_bills(catalog, lag, 100e6, 0.75)
    assert row["first_closed"]["model"] == "closed-a" and row["first_closed_annual"] == pytest.approx(
        annual_bill(15.0, 100e6))
    now = cheapest_clearing(catalog, "mmlu", row["threshold"])
    assert now is not None and row["cheapest"]["model"] == now.model
    assert row["ratio"] == pytest.approx(row["first_closed_annual"] / row["cheapest_annual"])
    view = overview(catalog, 0.75, 100e6)
    assert list(view.bills) == [row]
    said = view.findings()
    assert said[0] == view.lag.summary()
    assert any(f.startswith(row["label"]) and "tokens a day cost" in f for f in said)


def test_buy_or_build_bar_uses_list_prices_without_self_hosted_offers() -> None:
    models = [ModelRow("m", "M", open_weights=True), ModelRow("cheap-resold", "R"), ModelRow("listed", "L")]
    offers = [OfferRow("m", "self-hosted:box", dt.date(2025, 1, 1), 0.0, 0.01),
              OfferRow("cheap-resold", "openrouter", dt.date(2025, 1, 1), 0.1, 0.1),
              OfferRow("listed", "openai", dt.date(2025, 1, 1), 2.0, 6.0)]
    scores = [ScoreRow("m", "mmlu", 90.0), ScoreRow("cheap-resold", "mmlu", 90.0), ScoreRow("listed", "mmlu", 90.0)]
    catalog = Catalog.build(models, offers, scores)
    cal = Calibration(offer=offers[0], machine="box", figures={
        "usd_per_hour": 1.0, "concurrency": 1, "output_tokens_per_s": 1000.0, "input_tokens_per_s": 3000.0,
        "input_weight": 0.0, "e2e_p95_ms": 100.0})
    doc = compare(catalog, cal, "m", Workload(10e6), benchmark="mmlu", threshold=85.0, today=dt.date(2026, 1, 1))
    # the self-hosted offer and the reseller's price are not list prices: the cheapest listed API clears the bar
    assert doc["bar"]["model"] == "listed" and doc["bar"]["blended_per_m"] == pytest.approx(3.0)
    assert doc["bar"] == {**doc["bar"], "provider": "openai", "annual_usd": pytest.approx(annual_bill(3.0, 10e6))}
