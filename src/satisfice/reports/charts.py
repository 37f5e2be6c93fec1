"""Market charts with matplotlib: values in, a PNG/SVG/PDF file out (format from the file extension).

matplotlib is imported inside each function (Agg backend), so importing this module costs nothing.
Every chart labels its points directly, so nothing needs a legend hunt.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from satisfice.errors import ConfigError
from satisfice.formatting import log_ticks, number_tick, tick_labels, usd, usd_tick

if TYPE_CHECKING:
    from satisfice.market.common import PricedModel
    from satisfice.market.cost import CostResult
    from satisfice.market.frontier import FrontierResult
    from satisfice.market.gap import GapResult
    from satisfice.market.pareto import ParetoResult
    from satisfice.market.trends import TrendsResult

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
STYLE = {  # weights -> (marker, colour, label)
    "closed": ("o", "#1f5fbf", "closed weights"),
    "open": ("^", "#e07b00", "open weights"),
    "unknown": ("s", "#808080", "weights unknown"),
}
BENCH_COLOURS = ["#1f5fbf", "#d62728", "#2ca02c", "#9467bd", "#e07b00", "#17becf", "#8c564b", "#7f7f7f"]


def _format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"chart file {str(path)!r} must end in {', '.join(FORMATS)}")
    return fmt


def _figure(width: float = 11.0, height: float = 6.5) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    ax.grid(True, which="major", color="#dddddd", linewidth=0.7)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _save(fig: Any, path: str | Path) -> Path:
    """Write atomically (temp file in the same folder, then rename) and close the figure."""
    import matplotlib.pyplot as plt

    target = Path(path)
    fmt = _format(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".chart-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format=fmt, bbox_inches="tight")
        os.replace(tmp, target)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def log_axis(ax: Any, axis: str = "y", label: Callable[[float], str] = usd_tick) -> None:
    """Make ``axis`` a log axis ticked at 1-2-5 values spanning the data, each labelled once by ``label``.

    Call it after plotting: the limits become the ticks enclosing the data, so even a narrow range has labelled
    ticks (matplotlib would otherwise label minor ticks as ``6×10⁰``); minor ticks stay unlabelled.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    ax.autoscale_view()
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    ticks, texts = tick_labels(log_ticks(max(low, 1e-12), max(high, 1e-12)), label)
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(FixedLocator(ticks))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: texts[ticks.index(v)] if v in ticks else label(v)))
    target.set_minor_formatter(NullFormatter())
    (ax.set_ylim if axis == "y" else ax.set_xlim)(ticks[0], ticks[-1])


def _dates(ax: Any) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _label(ax: Any, points: Sequence[tuple[Any, Any, str, str]], fontsize: float = 8.0) -> None:
    """Put a text next to each point, nudging labels up or down until they overlap no label and no marker."""
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    for x, y, _text, _colour in points:
        px, py = ax.transData.transform((ax.convert_xunits(x), ax.convert_yunits(y)))
        placed.append(Bbox.from_extents(px - 4, py - 4, px + 4, py + 4))
    for x, y, text, colour in points:
        for attempt in range(14):
            step = (attempt + 1) // 2 * (1 if attempt % 2 else -1) * 9
            ann = ax.annotate(text, (x, y), xytext=(6, 3 + step), textcoords="offset points", fontsize=fontsize,
                              color=colour, va="center", ha="left", zorder=2.5,
                              bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})
            box = ann.get_window_extent(renderer).expanded(1.02, 1.1)
            if not any(box.overlaps(p) for p in placed) or attempt == 13:
                placed.append(box)
                break
            ann.remove()


def _legend(ax: Any, loc: str) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc=loc, fontsize=8, frameon=False)


def _markers(ax: Any, models: Sequence[PricedModel], x_of: Any, y_of: Any, size: float = 36,
             alpha: float = 0.85, edge: str = "white", legend: bool = True) -> None:
    for kind, (marker, colour, label) in STYLE.items():
        group = [m for m in models if m.weights == kind]
        if group:
            ax.scatter([x_of(m) for m in group], [y_of(m) for m in group], marker=marker, s=size, color=colour,
                       alpha=alpha, edgecolors=edge, linewidths=0.8, zorder=3, label=label if legend else None)


def frontier_chart(result: FrontierResult, path: str | Path) -> Path:
    """Blended launch price over time (log scale) of the models that clear the bar, with the cost frontier."""
    _format(Path(path))
    fig, ax = _figure()
    priced = [m for m in result.models if m.blended_price is not None and m.release_date is not None]
    front_ids = {m.model for m in result.frontier}
    _markers(ax, [m for m in priced if m.model not in front_ids], lambda m: m.release_date,
             lambda m: m.blended_price, alpha=0.45)
    _markers(ax, list(result.frontier), lambda m: m.release_date, lambda m: m.blended_price, size=70,
             edge="black", legend=False)
    ax.scatter([], [], s=70, facecolors="none", edgecolors="black", label="on the frontier (black edge)")
    if result.frontier:
        xs: list[dt.date] = [m.release_date for m in result.frontier if m.release_date is not None]
        ys = [m.blended_price for m in result.frontier]
        end = max([m.release_date for m in priced if m.release_date is not None] + [result.as_of or xs[-1]])
        ax.step(xs + [end], ys + [ys[-1]], where="post", color="black", linewidth=1.6, zorder=2.7,
                label="cost frontier (cheapest so far)")
    if result.trend is not None:
        t = result.trend
        days = [t.start_date + dt.timedelta(days=d) for d in range(0, (t.end_date - t.start_date).days + 1, 7)]
        ax.plot(days, [t.predict(d) for d in days], "--", color="#c0392b", linewidth=1.4, zorder=2)
        ax.text(0.99, 0.97, f"frontier price falls {t.factor_per_year:.3g}x per year\n"
                f"(90% CI {t.ci90[0]:.3g}x to {t.ci90[1]:.3g}x, n={t.n}, R²={t.r2:.2f})",
                transform=ax.transAxes, ha="right", va="top", color="#c0392b", fontsize=10)
    firsts = {}
    if result.first_closed is not None:
        firsts[result.first_closed.model] = "first closed"
    if result.first_open is not None:
        firsts[result.first_open.model] = "first open"
    labels = [(m.release_date, m.blended_price, m.name + (f" ({firsts[m.model]})" if m.model in firsts else ""),
               STYLE[m.weights][1] if (m.model in front_ids or m.model in firsts) else "#666666")
              for m in priced]
    log_axis(ax)
    _dates(ax)
    run_cost = result.measure == "run-cost"
    ax.set_ylabel("USD to run the benchmark once" if run_cost
                  else f"USD per million tokens, blended {result.blend.label}")
    _harness_note(fig, result.models)
    ax.set_title(f"Models with {result.benchmark_name} ≥ {result.threshold:g}: "
                 f"{'cost to run the benchmark' if run_cost else 'blended price at release'}\n"
                 f"{len(result.models)} cleared the bar; models with no score (not counted): {result.unscored_count:,}"
                 + (f", catalog as of {result.as_of}" if result.as_of else ""), fontsize=12)
    _legend(ax, "lower left")
    _label(ax, labels)
    return _save(fig, path)


def _harness_note(fig: Any, models: Sequence[Any]) -> None:
    """Say who ran the scores drawn (independent runs are preferred over vendor claims)."""
    counts: dict[str, int] = {}
    for m in models:
        counts[m.harness or "unspecified"] = counts.get(m.harness or "unspecified", 0) + 1
    if counts:
        text = ", ".join(f"{h} {n}" for h, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        fig.text(0.01, 0.005, f"Scores by who ran them: {text} (independent runs before vendor claims)",
                 fontsize=8, color="#555555", ha="left", va="bottom")


def pareto_chart(result: ParetoResult, path: str | Path) -> Path:
    """Score against price (log scale) on a date, with the Pareto frontier."""
    _format(Path(path))
    fig, ax = _figure()
    front_ids = {m.model for m in result.frontier}
    _markers(ax, [m for m in result.points if m.model not in front_ids], lambda m: m.blended_price,
             lambda m: m.score, alpha=0.45)
    _markers(ax, list(result.frontier), lambda m: m.blended_price, lambda m: m.score, size=70, edge="black",
             legend=False)
    if result.frontier:
        ax.step([m.blended_price for m in result.frontier], [m.score for m in result.frontier], where="post",
                color="black", linewidth=1.4, zorder=2, label="Pareto frontier")
    log_axis(ax, "x")
    ax.set_xlabel(f"USD per million tokens, blended {result.blend.label} (price in force on the date)")
    ax.set_ylabel(result.benchmark_name)
    when = result.as_of.isoformat() if result.as_of else "latest prices"
    _harness_note(fig, result.points)
    ax.set_title(f"{result.benchmark_name} against price, {when}: "
                 f"{len(result.frontier)} of {len(result.points)} models on the frontier", fontsize=12)
    _legend(ax, "lower right")
    _label(ax, [(m.blended_price, m.score, m.name, STYLE[m.weights][1] if m.model in front_ids else "#666666")
                for m in result.points])
    return _save(fig, path)


def cost_chart(result: CostResult, path: str | Path) -> Path:
    """Annual bill per model (log scale, horizontal bars in the order named); unpriced models are listed."""
    _format(Path(path))
    priced = [r for r in result.rows if r.annual_usd is not None and r.annual_usd > 0]
    fig, ax = _figure(10.0, 1.2 + 0.55 * max(len(priced), 1))
    names = [r.model.name for r in priced][::-1]
    bills = [float(r.annual_usd or 0.0) for r in priced][::-1]
    colours = [STYLE[r.model.weights][1] for r in priced][::-1]
    ax.barh(names, bills, color=colours, zorder=2)
    if priced:
        log_axis(ax, "x")
        for y, bill in enumerate(bills):
            ax.annotate(usd(bill), (bill, y), xytext=(4, 0), textcoords="offset points", va="center",
                        fontsize=8)
    unpriced = [r.model.name for r in result.rows if r.annual_usd is None]
    note = f" (no price: {', '.join(unpriced)})" if unpriced else ""
    ax.set_xlabel(f"USD per year at {result.tokens_per_day:,.0f} tokens/day, blended {result.blend.label}{note}")
    ax.set_title("Annual bill per model", fontsize=12)
    return _save(fig, path)


def gap_chart(result: GapResult, path: str | Path) -> Path:
    """Best closed and best open score over time (step functions), the gap shaded."""
    _format(Path(path))
    fig, ax = _figure()
    steps = list(result.steps)
    if steps:
        xs = [s.date for s in steps]
        for kind, attr in (("closed", "best_closed"), ("open", "best_open")):
            marker, colour, label = STYLE[kind]
            pts = [(s.date, getattr(s, attr)) for s in steps if getattr(s, attr) is not None]
            if not pts:
                continue
            ax.step([d for d, _ in pts] + [xs[-1]], [ld.score for _, ld in pts] + [pts[-1][1].score],
                    where="post", color=colour, linewidth=2, zorder=2.7, label=f"best {label}")
            changes = [(d, ld) for i, (d, ld) in enumerate(pts) if i == 0 or ld.model != pts[i - 1][1].model]
            ax.scatter([ld.release_date for _, ld in changes], [ld.score for _, ld in changes], marker=marker,
                       color=colour, s=40, zorder=3)
        pairs = [(s.date, s.best_open.score, s.best_closed.score) for s in steps
                 if s.best_open is not None and s.best_closed is not None]
        if pairs:
            pairs.append((xs[-1], pairs[-1][1], pairs[-1][2]))
            ax.fill_between([p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs], step="post",
                            color="#999999", alpha=0.18, label="gap")
        if result.first_under is not None and result.under is not None:
            ax.axvline(result.first_under, color="#c0392b", linestyle="--", linewidth=1)
            ax.text(result.first_under, 0.98, f"gap < {result.under:g} points\nfrom {result.first_under} ",
                    transform=ax.get_xaxis_transform(), color="#c0392b", va="top", ha="right", fontsize=9)
        labels = []
        for kind, attr in (("closed", "best_closed"), ("open", "best_open")):
            seen: set[str] = set()
            for s in steps:
                leader = getattr(s, attr)
                if leader is not None and leader.model not in seen:
                    seen.add(leader.model)
                    labels.append((leader.release_date, leader.score, leader.name, STYLE[kind][1]))
        _dates(ax)
        _label(ax, labels)
    latest = f"gap now {result.latest_gap:+.3g} points" if result.latest_gap is not None else "no gap yet"
    ax.set_title(f"{result.benchmark_name}: best closed vs best open model over time ({latest})", fontsize=12)
    ax.set_ylabel(result.benchmark_name)
    _legend(ax, "lower right")
    return _save(fig, path)


def trends_chart(result: TrendsResult, path: str | Path) -> Path:
    """Factor per year of each fitted threshold, with its 90% interval (log scale)."""
    _format(Path(path))
    rows = list(result.trends)
    fig, ax = _figure(11.0, max(3.0, 0.42 * len(rows) + 1.6))
    colours = {b: BENCH_COLOURS[i % len(BENCH_COLOURS)] for i, b in enumerate(result.benchmarks)}
    for i, row in enumerate(reversed(rows)):
        assert row.fit is not None
        fit = row.fit
        colour = colours.get(row.benchmark, "#333333")
        ax.barh(i, fit.factor_per_year - 1.0, color=colour, alpha=0.75, height=0.6, left=1.0)
        ax.errorbar(fit.factor_per_year, i, xerr=[[fit.factor_per_year - fit.ci90[0]],
                                                  [fit.ci90[1] - fit.factor_per_year]],
                    fmt="none", ecolor="black", elinewidth=0.9, capsize=3)
        ax.text(fit.ci90[1] * 1.15, i, f"{number_tick(fit.factor_per_year)}x (n={row.n}, {row.points[0].date:%Y-%m}"
                f" to {row.points[-1].date:%Y-%m})", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r.benchmark} ≥ {r.threshold:g} ({r.threshold_model})" for r in reversed(rows)],
                       fontsize=8)
    ax.set_xscale("log")
    if rows:
        low = min([0.5] + [r.fit.ci90[0] * 0.5 for r in rows if r.fit])
        ax.set_xlim(low, max(r.fit.ci90[1] for r in rows if r.fit) * 40)
        ax.axvline(1.0, color="black", linewidth=0.8)
        log_axis(ax, "x", lambda v: f"{number_tick(v)}x")
    ax.set_xlabel("price falls by this factor per year (bar), with 90% interval")
    ax.set_title(f"Price decline at fixed capability (Epoch AI method, blended {result.blend.label})\n"
                 f"{len(rows)} trends; {len(result.skipped)} thresholds with fewer than 4 points left out", fontsize=11)
    return _save(fig, path)
