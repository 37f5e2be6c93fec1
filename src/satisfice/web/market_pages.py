"""What the Insights page (``/``) and the market explorer (``/market``) show: values in JSON form plus charts.

Every number comes from the market analyses (:mod:`satisfice.market`) on the catalog snapshot; this module only
chooses which analyses a page runs and shapes their results. Results are cached per catalog content and
parameters (:class:`~satisfice.web.readonly.CatalogCache`).
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from satisfice.catalog.kinds import CHAT, MODEL_KINDS
from satisfice.catalog.rows import Catalog
from satisfice.core import DAYS_PER_YEAR
from satisfice.formatting import number, usd
from satisfice.market.common import benchmark_name, scored_benchmarks
from satisfice.market.cost import annual_bill
from satisfice.market.frontier import frontier
from satisfice.market.gap import gap
from satisfice.market.lag import DAYS_PER_MONTH, LagResult, lag_analysis
from satisfice.market.pareto import pareto
from satisfice.market.saturation import saturation
from satisfice.market.trends import epoch_trends
from satisfice.web import charts
from satisfice.web.params import Params
from satisfice.web.readonly import CatalogCache

EPOCH_ANCHORS = ("Epoch AI found open models about 3.5 months behind in October 2025 (90% CI 1.1 to 5.3 months) "
                 "and about 4 months in May 2026.")


def _cheapest_clearing(catalog: Catalog, slug: str, threshold: float, share: float) -> dict[str, Any] | None:
    """The cheapest model scoring >= threshold at the latest prices (Pareto points are cheapest first)."""
    for m in pareto(catalog, slug, None, share).points:
        if m.score is not None and m.score >= threshold:
            return m.to_json()
    return None


def _workload_rows(catalog: Catalog, lag: LagResult, tokens_per_day: float, share: float) -> list[dict[str, Any]]:
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
        cheapest = _cheapest_clearing(catalog, slug, bar.threshold, share)
        closed_bill = annual_bill(bar.first_closed.blended_price, tokens_per_day)
        cheap_bill = annual_bill(cheapest["blended_price"], tokens_per_day) if cheapest else None
        rows.append({
            "benchmark": slug, "benchmark_name": bar.benchmark_name, "threshold": bar.threshold,
            "label": f"{bar.benchmark_name} >= {bar.threshold:g}",
            "first_closed": bar.first_closed.to_json(), "first_closed_annual": closed_bill,
            "cheapest": cheapest, "cheapest_name": cheapest["name"] if cheapest else None,
            "cheapest_annual": cheap_bill, "ratio": closed_bill / cheap_bill if cheap_bill else None})
    return rows


def _findings(lag: LagResult, trends: list[float], gaps: list[dict[str, Any]], work: list[dict[str, Any]],
              tokens: float) -> list[str]:
    found = [lag.summary()]
    if trends:
        found.append(f"Prices at a fixed bar fell {number(min(trends))}x to {number(max(trends))}x per year (median "
                     f"{number(statistics.median(trends))}x) over {len(trends)} fitted bars (Epoch AI's method, "
                     "reasoning models excluded).")
    if lag.trend is not None:
        t = lag.trend
        found.append(f"For each year later that a closed model first cleared a bar, the lag to the first open model "
                     f"changed by {t.slope_days_per_year:+.0f} days (90% CI {t.ci90[0]:+.0f} to {t.ci90[1]:+.0f}, "
                     f"n={t.n} bars).")
    for g in gaps:
        if g["latest_gap"] is not None:
            found.append(f"{g['benchmark_name']}: best closed minus best open is {g['latest_gap']:+.3g} points "
                         f"(on {g['date']}).")
    for w in work:
        if w["ratio"] is not None:
            found.append(f"{w['label']}: {tokens:,.0f} tokens a day cost {usd(w['first_closed_annual'])}/year on "
                         f"{w['first_closed']['name']} at launch, {usd(w['cheapest_annual'])}/year on "
                         f"{w['cheapest_name']} at the latest prices ({number(w['ratio'])}x).")
    return found


def insights(cache: CatalogCache, p: Params) -> dict[str, Any]:
    """The Insights page: per bar, lag analysis, gap over time, workload cost; with findings in words."""
    share, tokens = p.input_share(), p.tokens_per_day()

    def compute(every: Catalog) -> dict[str, Any]:
        catalog = every.of_kind(CHAT)  # the analyses are about chat models
        lag = lag_analysis(catalog, "all", None, share)
        trend_factors = [r.fit.factor_per_year for r in epoch_trends(catalog, "all", share).trends if r.fit]
        gap_results = [gap(catalog, slug) for slug in scored_benchmarks(catalog)]
        gaps = [{"benchmark": g.benchmark, "benchmark_name": g.benchmark_name, "latest_gap": g.latest_gap,
                 "date": g.steps[-1].date.isoformat() if g.steps else None} for g in gap_results]
        work = _workload_rows(catalog, lag, tokens, share)
        waiting = [b for b in lag.bars if b.status == "waiting"]
        return {
            "data": {"findings": _findings(lag, trend_factors, gaps, work, tokens), "anchors": EPOCH_ANCHORS,
                     "lag": lag.to_json(), "gaps": gaps, "workload": {"tokens_per_day": tokens, "rows": work},
                     "days_per_month": DAYS_PER_MONTH,
                     "waiting": [b.to_json() | {"benchmark_name": b.benchmark_name} for b in waiting],
                     "saturation": saturation(catalog).to_json()},
            "charts": {"lag_hist": charts.lag_histogram(lag), "lag_trend": charts.lag_trend_figure(lag),
                       "gap": charts.gap_figure(gap_results), "cost": charts.cost_figure(work)},
        }

    return cache.derived(("insights", share, tokens), compute)


def _default_threshold(catalog: Catalog, slug: str) -> float:
    """The middle Epoch-method bar of the benchmark (a bar that both kinds of model have likely met)."""
    trends = epoch_trends(catalog, slug)
    bars = sorted({r.threshold for r in (*trends.trends, *trends.skipped)})
    return bars[len(bars) // 2] if bars else 50.0


def market(cache: CatalogCache, p: Params) -> dict[str, Any]:
    """The market explorer for one benchmark, bar, blend and date, with a workload calculator."""
    share, tokens, as_of = p.input_share(), p.tokens_per_day(), p.date("as_of")
    bench_arg, threshold_arg = p.text("benchmark"), p.number("threshold")
    kind = p.choice("kind", (*MODEL_KINDS, "all"), CHAT)
    show_unscored = p.text("show_unscored") not in (None, "0", "false", "no")

    def compute(every: Catalog) -> dict[str, Any]:
        catalog = every.of_kind(None if kind == "all" else kind)
        benchmarks = scored_benchmarks(catalog)
        if not benchmarks:
            return {"data": {"benchmarks": [], "empty": True}, "charts": {}}
        from satisfice.market.common import resolve_benchmark

        slug = resolve_benchmark(catalog, bench_arg) if bench_arg else (
            "gpqa-diamond" if "gpqa-diamond" in benchmarks else benchmarks[0])
        threshold = threshold_arg if threshold_arg is not None else _default_threshold(catalog, slug)
        front = frontier(catalog, slug, threshold, as_of, share, show_unscored=show_unscored)
        par = pareto(catalog, slug, as_of, share)
        race = gap(catalog, slug, None, as_of)
        trend = epoch_trends(catalog, slug, share, as_of)
        day = as_of or dt.date.max
        bills = []
        for m in front.models:
            offer = catalog.price_at(m.model, day, input_share=share)
            price = offer.blended(share) if offer else None
            bills.append({"model": m.model, "name": m.name, "weights": m.weights, "score": m.score,
                          "provider": offer.provider if offer else None,
                          "provider_kind": offer.provider_kind if offer else None, "blended_price": price,
                          "annual_usd": annual_bill(price, tokens) if price is not None else None,
                          "daily_usd": annual_bill(price, tokens) / DAYS_PER_YEAR if price is not None else None})
        bills.sort(key=lambda b: (b["annual_usd"] is None, b["annual_usd"] or 0.0))
        data = {
            "benchmarks": [{"slug": b, "name": benchmark_name(catalog, b)} for b in benchmarks],
            "benchmark": slug, "benchmark_name": front.benchmark_name, "threshold": threshold,
            "as_of": as_of.isoformat() if as_of else None, "input_share": share, "blend": front.blend.label,
            "summary": front.summary(), "frontier": front.to_json(), "pareto": par.to_json(),
            "kind": kind, "unscored_line": front.unscored_line(), "show_unscored": show_unscored,
            "pareto_summary": par.summary(), "gap": race.to_json(), "gap_summary": race.summary(),
            "trends": [t.to_json() for t in trend.trends],
            "bars": sorted({t.threshold for t in (*trend.trends, *trend.skipped)}),
            "workload": {"tokens_per_day": tokens, "rows": bills},
        }
        figs = {"frontier": charts.frontier_figure(front), "pareto": charts.pareto_figure(par),
                "race": charts.race_figure(race)}
        return {"data": data, "charts": figs}

    return cache.derived(("market", bench_arg, threshold_arg, as_of, share, tokens, kind, show_unscored), compute)

