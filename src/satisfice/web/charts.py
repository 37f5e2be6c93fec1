"""Plotly figures for the dashboard as plain dicts (drawn in the browser by the locally served plotly.js).

Building dicts instead of ``plotly.graph_objects`` keeps a page's charts to microseconds of Python. Every text
that reaches Plotly goes through :func:`~satisfice.reports.plot_axes.plot_text` (names come from imported
files, and Plotly reads labels as a small HTML subset); axes come from :mod:`~satisfice.reports.plot_axes`
(1-2-5 log ticks, dollar ticks by the one formatter, time axes sized to the data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from satisfice.formatting import usd_tick
from satisfice.market.common import PricedModel
from satisfice.market.frontier import FrontierResult
from satisfice.market.gap import GapResult
from satisfice.market.lag import DAYS_PER_MONTH, LagResult
from satisfice.market.pareto import ParetoResult
from satisfice.reports.plot_axes import (
    axis,
    bucket_width,
    count_axis,
    layout,
    log_axis,
    money_axis,
    money_hover,
    plot_text,
    share_axis,
    time_axis,
)

WEIGHTS = {"closed": ("circle", "#1f5fbf"), "open": ("triangle-up", "#e07b00"), "unknown": ("square", "#808080")}
PALETTE = ["#1f5fbf", "#d62728", "#2ca02c", "#9467bd", "#e07b00", "#17becf", "#8c564b", "#7f7f7f"]

Figure = dict[str, Any]


_layout = layout
_axis = axis


def _date_axis(title: str, xs: Sequence[str | None]) -> dict[str, Any]:
    """Release or price dates: Plotly's own ticks (and padding) over months and years.

    A span shorter than three months (one model, one price) gets a fixed three-month axis in days instead of
    Plotly's sub-second ticks around a single date.
    """
    days = sorted(x[:10] for x in xs if x)
    if days and (dt.date.fromisoformat(days[-1]) - dt.date.fromisoformat(days[0])).days >= 90:
        return _axis(title, type="date")
    return time_axis(title, days, "day", min_days=90)


def _xs(data: Sequence[Mapping[str, Any]]) -> list[str | None]:
    return [x for trace in data for x in trace["x"]]


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _by_weights(models: Sequence[PricedModel], x: str, y: str, hover: str) -> list[dict[str, Any]]:
    traces = []
    for weights, (symbol, colour) in WEIGHTS.items():
        group = [m for m in models if m.weights == weights and getattr(m, y) is not None]
        if not group:
            continue
        xs = [_iso(getattr(m, x)) if x == "release_date" else getattr(m, x) for m in group]
        traces.append({"type": "scatter", "mode": "markers", "name": f"{weights} weights", "x": xs,
                       "y": [getattr(m, y) for m in group], "text": [plot_text(m.name) for m in group],
                       "customdata": money_hover([m.blended_price for m in group]), "hovertemplate": hover,
                       "marker": {"symbol": symbol, "color": colour, "size": 9}})
    return traces


def frontier_figure(result: FrontierResult) -> Figure:
    """Cleared models by release date and launch price (log), the cost frontier as a step line."""
    data = _by_weights(result.models, "release_date", "blended_price",
                       "%{text}<br>%{x}<br>%{customdata}/M<extra></extra>")
    front = [m for m in result.frontier if m.blended_price is not None]
    if front:
        data.append({"type": "scatter", "mode": "lines+markers", "name": "cost frontier", "line": {"shape": "hv",
                     "color": "#2ca02c"}, "x": [_iso(m.release_date) for m in front],
                     "y": [m.blended_price for m in front], "text": [plot_text(m.name) for m in front],
                     "customdata": money_hover([m.blended_price for m in front]),
                     "hovertemplate": "%{text}: %{customdata}/M<extra>frontier</extra>"})
    return {"data": data, "layout": _layout(
        f"{result.benchmark_name} >= {result.threshold:g}: launch price of the models that clear it",
        _date_axis("release date", [_iso(m.release_date) for m in result.models]),
        log_axis(f"blended USD per M tokens ({result.blend.label}, log)",
                 [m.blended_price for m in result.models], usd_tick))}


def pareto_figure(result: ParetoResult) -> Figure:
    """Score against price in force, the Pareto frontier as a line."""
    data = _by_weights(result.points, "blended_price", "score",
                       "%{text}<br>%{customdata}/M<br>score %{y}<extra></extra>")
    if result.frontier:
        data.append({"type": "scatter", "mode": "lines", "name": "Pareto frontier", "hoverinfo": "skip",
                     "x": [m.blended_price for m in result.frontier], "y": [m.score for m in result.frontier],
                     "line": {"shape": "hv", "color": "#2ca02c", "dash": "dot"}})
    when = result.as_of.isoformat() if result.as_of else "latest prices"
    return {"data": data, "layout": _layout(f"{result.benchmark_name}: score vs price ({when})",
                                            log_axis(f"blended USD per M tokens ({result.blend.label}, log)",
                                                     [m.blended_price for m in result.points], usd_tick),
                                            _axis("score"))}


def gap_figure(results: Sequence[GapResult]) -> Figure:
    """Best closed minus best open score over time, one line per benchmark."""
    data = []
    for i, r in enumerate(results):
        steps = [s for s in r.steps if s.gap is not None]
        if not steps:
            continue
        data.append({"type": "scatter", "mode": "lines", "name": plot_text(r.benchmark_name),
                     "line": {"shape": "hv", "color": PALETTE[i % len(PALETTE)]},
                     "x": [s.date.isoformat() for s in steps], "y": [s.gap for s in steps]})
    layout = _layout("Open-vs-closed gap: best closed score minus best open score",
                     _date_axis("release date", _xs(data)), _axis("gap (points; below 0: open leads)"))
    layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0, "y1": 0,
                         "line": {"color": "#999", "dash": "dot"}}]
    return {"data": data, "layout": layout}


def race_figure(result: GapResult) -> Figure:
    """Best closed and best open score over time on one benchmark."""
    data = []
    for label, attr, colour in (("best closed", "best_closed", "#1f5fbf"), ("best open", "best_open", "#e07b00")):
        steps = [s for s in result.steps if getattr(s, attr) is not None]
        data.append({"type": "scatter", "mode": "lines", "name": label, "line": {"shape": "hv", "color": colour},
                     "x": [s.date.isoformat() for s in steps], "y": [getattr(s, attr).score for s in steps],
                     "text": [plot_text(getattr(s, attr).name) for s in steps],
                     "hovertemplate": "%{text}: %{y}<extra></extra>"})
    return {"data": data, "layout": _layout(f"{result.benchmark_name}: best closed vs best open score",
                                            _date_axis("release date", _xs(data)), _axis("score"))}


def lag_histogram(result: LagResult) -> Figure:
    """Observed lags in months, and the bars still waiting (censored) at their elapsed months."""
    observed = [b.lag_days / DAYS_PER_MONTH for b in result.bars if b.status == "observed" and b.lag_days is not None]
    waiting = [b.elapsed_days / DAYS_PER_MONTH for b in result.bars
               if b.status == "waiting" and b.elapsed_days is not None]
    data: list[dict[str, Any]] = [{"type": "histogram", "name": "open model cleared the bar (lag)", "x": observed,
                                   "xbins": {"size": 1}, "marker": {"color": "#e07b00"}, "opacity": 0.8}]
    if waiting:
        data.append({"type": "histogram", "name": "still waiting (months so far)", "x": waiting,
                     "xbins": {"size": 1}, "marker": {"color": "#808080"}, "opacity": 0.6})
    layout = _layout("Months from the first closed to the first open model clearing a bar",
                     _axis("months (below 0: an open model cleared it first)"), _axis("bars"), barmode="overlay")
    if result.median_days is not None:
        med = result.median_days / DAYS_PER_MONTH
        layout["shapes"] = [{"type": "line", "yref": "paper", "x0": med, "x1": med, "y0": 0, "y1": 1,
                             "line": {"color": "#d62728", "dash": "dash"}}]
        layout["annotations"] = [{"x": med, "y": 1, "yref": "paper", "showarrow": False, "yanchor": "top",
                                  "xanchor": "left", "xshift": 4, "bgcolor": "rgba(255,255,255,0.8)",
                                  "text": f"median {med:.1f} months (Kaplan-Meier)"}]
    return {"data": data, "layout": layout}


def lag_trend_figure(result: LagResult) -> Figure:
    """Observed lag against the date the first closed model cleared the bar, with the fitted trend."""
    data = []
    for i, slug in enumerate(result.benchmarks):
        bars = [b for b in result.bars if b.benchmark == slug and b.status == "observed" and b.first_closed
                and b.lag_days is not None]
        if not bars:
            continue
        data.append({"type": "scatter", "mode": "markers", "name": plot_text(bars[0].benchmark_name),
                     "marker": {"color": PALETTE[i % len(PALETTE)], "size": 8},
                     "x": [_iso(b.first_closed.release_date) for b in bars if b.first_closed],
                     "y": [(b.lag_days or 0) / DAYS_PER_MONTH for b in bars],
                     "text": [plot_text(f">= {b.threshold:g}: {b.first_closed.name if b.first_closed else ''} -> "
                                        f"{b.first_open.name if b.first_open else ''}") for b in bars],
                     "hovertemplate": "%{text}<br>%{y:.1f} months<extra></extra>"})
    t = result.trend
    if t is not None:
        dates = sorted(b.first_closed.release_date for b in result.bars if b.status == "observed" and b.first_closed
                       and b.first_closed.release_date)
        ends = [dates[0], dates[-1]]
        data.append({"type": "scatter", "mode": "lines", "name": f"trend {t.slope_days_per_year:+.0f} days/year",
                     "x": [d.isoformat() for d in ends], "y": [t.predict(d) / DAYS_PER_MONTH for d in ends],
                     "line": {"color": "#333", "dash": "dash"}})
    return {"data": data, "layout": _layout("Lag over time: when the closed model cleared the bar vs months to open",
                                            _date_axis("first closed model's release date", _xs(data)),
                                            _axis("lag (months)"))}


def cost_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """Annual bill on the first closed model (at launch) vs the cheapest model clearing the bar today."""
    labels = [plot_text(r["label"]) for r in rows]
    return {"data": [
        {"type": "bar", "name": "first closed model, launch price", "x": labels,
         "y": [r["first_closed_annual"] for r in rows], "marker": {"color": "#1f5fbf"}},
        {"type": "bar", "name": "cheapest model clearing it today", "x": labels,
         "y": [r["cheapest_annual"] for r in rows], "marker": {"color": "#2ca02c"},
         "text": [plot_text(r["cheapest_name"] or "") for r in rows]}],
        "layout": _layout("Annual bill of the workload per bar", _axis("bar"), log_axis(
            "USD per year (log)", [r[k] for r in rows for k in ("first_closed_annual", "cheapest_annual")], usd_tick),
            barmode="group")}


def price_history_figure(model_name: str, series: dict[str, list[tuple[dt.date, float]]],
                         blend_label: str, today: dt.date) -> Figure:
    """Blended price over time, one step line per provider, each price drawn until the next one (or today)."""
    data = []
    for i, (provider, points) in enumerate(sorted(series.items())):
        xs = [d.isoformat() for d, _ in points]
        ys = [p for _, p in points]
        sizes = [8] * len(points)
        if points and points[-1][0] < today:  # the last price is still in force
            xs, ys, sizes = [*xs, today.isoformat()], [*ys, ys[-1]], [*sizes, 0]
        data.append({"type": "scatter", "mode": "lines+markers", "name": plot_text(provider),
                     "line": {"shape": "hv", "color": PALETTE[i % len(PALETTE)]}, "marker": {"size": sizes},
                     "x": xs, "y": ys})
    prices = [p for points in series.values() for _, p in points]
    return {"data": data, "layout": _layout(f"{model_name}: blended price per provider ({blend_label})",
                                            _date_axis("effective date", _xs(data)),
                                            money_axis("USD per M tokens", prices))}


Y_AXES = {"count": count_axis, "usd": money_axis, "share": share_axis}
"""How a time series' values read on its y axis: whole counts, dollars, or shares as percentages."""


def time_series_figure(title: str, x: Sequence[str], series: Mapping[str, Sequence[float | None]], y_title: str,
                       kind: str = "scatter", *, unit: str = "count", bucket: str = "day",
                       min_days: float | None = None) -> Figure:
    """Several series over time buckets (lines, or grouped bars with ``kind="bar"``).

    ``unit`` picks the y axis (a key of :data:`Y_AXES`); ``bucket`` (``hour`` or ``day``) sizes the time axis
    and the bars, so one bucket of data shows as one narrow bar on a day or a week, not a bar filling the chart;
    ``min_days`` widens the axis to the window the page shows.
    """
    data = []
    for i, (name, ys) in enumerate(series.items()):
        trace: dict[str, Any] = {"type": kind, "name": plot_text(name), "x": list(x), "y": list(ys),
                                 "marker": {"color": PALETTE[i % len(PALETTE)]}}
        if kind == "scatter":
            trace["mode"] = "lines+markers" if len(x) <= 60 else "lines"
        else:
            trace["width"] = bucket_width(bucket)
        if unit == "usd":
            trace["customdata"] = money_hover(ys)
            trace["hovertemplate"] = "%{x}: %{customdata}<extra>" + plot_text(name) + "</extra>"
        data.append(trace)
    values = [v for ys in series.values() for v in ys]
    y_axis = count_axis(y_title, values) if unit == "count" else \
        money_axis(y_title, values) if unit == "usd" else Y_AXES[unit](y_title)
    return {"data": data, "layout": _layout(title, time_axis("time (UTC)", x, bucket, min_days=min_days), y_axis)}
