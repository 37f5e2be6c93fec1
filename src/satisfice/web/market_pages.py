"""What the Insights page (``/``) and the market explorer (``/market``) show: values in JSON form plus charts.

Every number comes from the market analyses (:mod:`satisfice.market`, the Insights page's from
:func:`satisfice.market.overview.overview`) on the catalog snapshot; this module only chooses which analyses a page
runs, its defaults (benchmark, bar) and shapes their results for the templates and charts. Results are cached
per catalog content and parameters (:class:`~satisfice.web.readonly.CatalogCache`).
"""

from __future__ import annotations

from typing import Any

from satisfice.catalog.kinds import CHAT, MODEL_KINDS
from satisfice.catalog.rows import Catalog
from satisfice.market.common import benchmark_name, scored_benchmarks
from satisfice.market.frontier import frontier
from satisfice.market.gap import gap
from satisfice.market.lag import DAYS_PER_MONTH
from satisfice.market.overview import model_bills, overview
from satisfice.market.pareto import pareto
from satisfice.market.trends import epoch_trends
from satisfice.web import charts
from satisfice.web.params import Params
from satisfice.web.readonly import CatalogCache

EPOCH_ANCHORS = ("Epoch AI found open models about 3.5 months behind in October 2025 (90% CI 1.1 to 5.3 months) "
                 "and about 4 months in May 2026.")


def insights(cache: CatalogCache, p: Params) -> dict[str, Any]:
    """The Insights page: per bar, lag analysis, gap over time, workload cost; with findings in words."""
    share, tokens = p.input_share(), p.tokens_per_day()

    def compute(every: Catalog) -> dict[str, Any]:
        view = overview(every, share, tokens)
        lag, work = view.lag, list(view.bills)
        waiting = [b for b in lag.bars if b.status == "waiting"]
        return {
            "data": {"findings": view.findings(), "anchors": EPOCH_ANCHORS, "lag": lag.to_json(),
                     "gaps": view.gap_rows(), "workload": {"tokens_per_day": tokens, "rows": work},
                     "days_per_month": DAYS_PER_MONTH,
                     "waiting": [b.to_json() | {"benchmark_name": b.benchmark_name} for b in waiting],
                     "saturation": view.saturation.to_json()},
            "charts": {"lag_hist": charts.lag_histogram(lag), "lag_trend": charts.lag_trend_figure(lag),
                       "gap": charts.gap_figure(list(view.gaps)), "cost": charts.cost_figure(work)},
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
        bills = model_bills(catalog, front.models, tokens, share, as_of)
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

