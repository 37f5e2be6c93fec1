"""The market's answers for a workload: the cheapest model clearing a bar, workload bills, findings in words.

One definition of each, used by ``satisfice market cost``, ``satisfice selfhost compare``, the insight feed's
findings (:mod:`satisfice.market.findings`) and the dashboard's Insights and market pages (which only choose what
to show and render it):

- the annual bill of a workload: blended $/M x tokens per day / 1e6 x 365 (:func:`annual_bill`);
- the cheapest model clearing a bar: the first of the scored, priced models, cheapest first (the points of
  :func:`~satisfice.market.pareto.pareto`), whose score is at least the bar (:func:`cheapest_clearing`);
- per bar, the bill on the first closed model to clear it (at its launch price) against the cheapest model
  clearing it at the latest prices (:func:`bar_bills`), and the Insights page's findings (:func:`overview`).

Not to be confused with :mod:`satisfice.insights`, the dated feed that records what changed between snapshots.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from satisfice.catalog.kinds import CHAT
from satisfice.catalog.rows import Catalog
from satisfice.core import DAYS_PER_YEAR, DEFAULT_INPUT_SHARE
from satisfice.formatting import number, usd
from satisfice.market.common import PricedModel, scored_benchmarks
from satisfice.market.gap import GapResult, gap
from satisfice.market.lag import LagResult, lag_analysis
from satisfice.market.pareto import pareto
from satisfice.market.saturation import SaturationResult, saturation
from satisfice.market.trends import epoch_trends


def annual_bill(blended_per_m: float, tokens_per_day: float) -> float:
    """USD a year for ``tokens_per_day`` at ``blended_per_m`` USD per million tokens."""
    return blended_per_m * tokens_per_day / 1e6 * DAYS_PER_YEAR


def first_clearing(points: Iterable[PricedModel], threshold: float) -> PricedModel | None:
    """The first of ``points`` (priced models, cheapest first) scoring at least ``threshold``."""
    return next((m for m in points if m.score is not None and m.score >= threshold), None)


def cheapest_clearing(catalog: Catalog, benchmark: str, threshold: float,
                      input_share: float = DEFAULT_INPUT_SHARE, as_of: dt.date | None = None, *,
                      provider: str | None = None) -> PricedModel | None:
    """The cheapest model scoring at least ``threshold`` at the prices in force on ``as_of`` (default: latest).

    Prices follow :meth:`~satisfice.catalog.rows.Catalog.price_at`'s rule: ``provider`` None for each model's
    default price, ``"any"`` for its cheapest list price (first-party or serving), or a provider id. On equal
    prices the higher score wins, then the model id.
    """
    return first_clearing(pareto(catalog, benchmark, as_of, input_share, provider=provider).points, threshold)


def model_bills(catalog: Catalog, models: Sequence[PricedModel], tokens_per_day: float, input_share: float,
                as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Each model's bill for the workload at its default price on ``as_of`` (default: latest), cheapest first."""
    day = as_of or dt.date.max
    bills = []
    for m in models:
        offer = catalog.price_at(m.model, day, input_share=input_share)
        price = offer.blended(input_share) if offer else None
        annual = annual_bill(price, tokens_per_day) if price is not None else None
        bills.append({"model": m.model, "name": m.name, "weights": m.weights, "score": m.score,
                      "provider": offer.provider if offer else None,
                      "provider_kind": offer.provider_kind if offer else None, "blended_price": price,
                      "annual_usd": annual, "daily_usd": annual / DAYS_PER_YEAR if annual is not None else None})
    bills.sort(key=lambda b: (b["annual_usd"] is None, b["annual_usd"] or 0.0))
    return bills


def bar_bills(catalog: Catalog, lag: LagResult, tokens_per_day: float, input_share: float) -> list[dict[str, Any]]:
    """Per benchmark, the bill on its first closed model at launch vs the cheapest model clearing it now.

    The bar is the benchmark's highest one an open model has cleared too (else its highest one a closed model
    cleared), priced at the latest prices.
    """
    rows = []
    for slug in lag.benchmarks:
        bars = [b for b in lag.bars if b.benchmark == slug and b.first_closed is not None
                and b.first_closed.blended_price is not None]
        if not bars:
            continue
        both = [b for b in bars if b.status == "observed"]
        bar = (both or bars)[-1]
        assert bar.first_closed is not None and bar.first_closed.blended_price is not None
        found = cheapest_clearing(catalog, slug, bar.threshold, input_share)
        cheapest = found.to_json() if found is not None else None
        closed_bill = annual_bill(bar.first_closed.blended_price, tokens_per_day)
        cheap_bill = annual_bill(cheapest["blended_price"], tokens_per_day) if cheapest else None
        rows.append({
            "benchmark": slug, "benchmark_name": bar.benchmark_name, "threshold": bar.threshold,
            "label": f"{bar.benchmark_name} >= {bar.threshold:g}",
            "first_closed": bar.first_closed.to_json(), "first_closed_annual": closed_bill,
            "cheapest": cheapest, "cheapest_name": cheapest["name"] if cheapest else None,
            "cheapest_annual": cheap_bill, "ratio": closed_bill / cheap_bill if cheap_bill else None})
    return rows


@dataclass(frozen=True)
class Overview:
    """The analyses behind the Insights page, for chat models at one blend and workload."""

    lag: LagResult
    trend_factors: tuple[float, ...]
    """Price decline per year at each fitted bar (Epoch AI's method, reasoning models excluded)."""
    gaps: tuple[GapResult, ...]
    bills: tuple[dict[str, Any], ...]
    """:func:`bar_bills` rows."""
    tokens_per_day: float
    saturation: SaturationResult

    def gap_rows(self) -> list[dict[str, Any]]:
        """Per benchmark, the latest best-closed-minus-best-open gap and its date."""
        return [{"benchmark": g.benchmark, "benchmark_name": g.benchmark_name, "latest_gap": g.latest_gap,
                 "date": g.steps[-1].date.isoformat() if g.steps else None} for g in self.gaps]

    def findings(self) -> list[str]:
        """The findings in words: lag, price decline, lag trend, gaps, workload bills."""
        lag, trends, tokens = self.lag, self.trend_factors, self.tokens_per_day
        found = [lag.summary()]
        if trends:
            found.append(f"Prices at a fixed bar fell {number(min(trends))}x to {number(max(trends))}x per year "
                         f"(median {number(statistics.median(trends))}x) over {len(trends)} fitted bars (Epoch AI's "
                         "method, reasoning models excluded).")
        if lag.trend is not None:
            t = lag.trend
            found.append(f"For each year later that a closed model first cleared a bar, the lag to the first open "
                         f"model changed by {t.slope_days_per_year:+.0f} days (90% CI {t.ci90[0]:+.0f} to "
                         f"{t.ci90[1]:+.0f}, n={t.n} bars).")
        for g in self.gap_rows():
            if g["latest_gap"] is not None:
                found.append(f"{g['benchmark_name']}: best closed minus best open is {g['latest_gap']:+.3g} points "
                             f"(on {g['date']}).")
        for w in self.bills:
            if w["ratio"] is not None:
                found.append(f"{w['label']}: {tokens:,.0f} tokens a day cost {usd(w['first_closed_annual'])}/year "
                             f"on {w['first_closed']['name']} at launch, {usd(w['cheapest_annual'])}/year on "
                             f"{w['cheapest_name']} at the latest prices ({number(w['ratio'])}x).")
        return found


def overview(catalog: Catalog, input_share: float, tokens_per_day: float) -> Overview:
    """The Insights page's analyses over the catalog's chat models (the analyses are about chat models)."""
    chat = catalog.of_kind(CHAT)
    lag = lag_analysis(chat, "all", None, input_share)
    factors = tuple(r.fit.factor_per_year for r in epoch_trends(chat, "all", input_share).trends if r.fit)
    gaps = tuple(gap(chat, slug) for slug in scored_benchmarks(chat))
    bills = tuple(bar_bills(chat, lag, tokens_per_day, input_share))
    return Overview(lag, factors, gaps, bills, tokens_per_day, saturation(chat))


__all__ = ["Overview", "annual_bill", "bar_bills", "cheapest_clearing", "first_clearing", "model_bills", "overview"]
