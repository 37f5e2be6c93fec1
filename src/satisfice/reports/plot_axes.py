"""Plotly axes and layouts that read at a glance.

1-2-5 log ticks with units, dollar ticks by the one formatter, time axes sized to the data (hours for a day,
months for a year, never finer than the buckets), titles and legends out of each other's way.

Values in, plain dicts out (the web's figures and the eval report share them).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from satisfice.formatting import linear_ticks, log_ticks, number_tick, tick_labels, usd_tick

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def plot_text(text: str) -> str:
    """Text for a Plotly label: Plotly reads labels as a small HTML subset, so names are entity-escaped once."""
    return html.escape(text, quote=False)


def layout(title: str, x: dict[str, Any], y: dict[str, Any], *, height: int = 440, **extra: Any) -> dict[str, Any]:
    """A figure layout: the title top left, the legend in one row between title and plot (covering no data)."""
    return {"title": {"text": plot_text(title), "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top",
                      "font": {"size": 15}},
            "template": "plotly_white", "height": height, "margin": {"l": 70, "r": 20, "t": 80, "b": 50},
            "xaxis": x, "yaxis": y, "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0,
                                               "yanchor": "bottom"}, **extra}


def axis(title: str, **extra: Any) -> dict[str, Any]:
    """A plain axis with an (escaped) title."""
    return {"title": {"text": plot_text(title)}, "automargin": True, **extra}


def _positive(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v) and v > 0]


def log_axis(title: str, values: Iterable[float | None], label: Callable[[float], str] = number_tick, *,
             pad_decades: float = 0.0, **extra: Any) -> dict[str, Any]:
    """A log axis whose ticks are the 1-2-5 values spanning ``values``, each labelled once by ``label``.

    Args:
        title: The axis title (with its unit).
        values: The data on this axis (None, zero and negative values are not drawn on a log axis).
        label: Tick text (:func:`~satisfice.formatting.usd_tick` for money).
        pad_decades: Room added on both sides, in decades (labels next to points stay inside).
        **extra: More axis attributes.

    Returns:
        A Plotly axis dict with fixed ``tickvals``/``ticktext`` and a range covering them.
    """
    data = _positive(values)
    low, high = (min(data), max(data)) if data else (1.0, 10.0)
    lo, hi = math.log10(low) - pad_decades, math.log10(high) + pad_decades
    if hi - lo < 1:  # less than a decade: give a decade of room around the data
        lo, hi = (hi + lo) / 2 - 0.5, (hi + lo) / 2 + 0.5
    ticks, texts = tick_labels(log_ticks(10 ** lo, 10 ** hi), label)
    lo, hi = min(lo, math.log10(ticks[0])), max(hi, math.log10(ticks[-1]))
    return {**axis(title, **extra), "type": "log", "tickmode": "array", "tickvals": list(ticks),
            "ticktext": list(texts), "range": [lo, hi], "minor": {"showgrid": False}}


def money_axis(title: str, values: Iterable[float | None] = (), **extra: Any) -> dict[str, Any]:
    """A linear dollar axis from 0, its ticks at round steps labelled by the one formatter.

    Ticks read ``$0.0005`` or ``$1,200``, never an SI ``μ``; hover shows the same figures.
    """
    data = [v for v in values if v is not None and math.isfinite(v)]
    ticks, texts = tick_labels(linear_ticks(min(data, default=0.0), max(data, default=0.0)), usd_tick)
    span = ticks[-1] - ticks[0]
    return axis(title, tickmode="array", tickvals=ticks, ticktext=texts, hoverformat=",.4~r",
                range=[ticks[0] - span * 0.02, ticks[-1] + span * 0.02], **extra)


def share_axis(title: str, **extra: Any) -> dict[str, Any]:
    """A 0-1 share shown as percentages."""
    return axis(title, tickformat=".0%", hoverformat=".1%", rangemode="tozero", **extra)


def count_axis(title: str, values: Iterable[float | None] = (), **extra: Any) -> dict[str, Any]:
    """Whole counts with thousands separators; a few counts get whole-number ticks (never ``0.5 requests``)."""
    top = max(_positive(values), default=0.0)
    small = {"range": [0, 5], "dtick": 1} if top <= 5 else {}
    return axis(title, tickformat=",~r", rangemode="tozero", **small, **extra)


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace(" ", "T")) if len(value) > 10 else \
        dt.datetime.combine(dt.date.fromisoformat(value), dt.time())


def _step(span_days: float, bucket_ms: int) -> tuple[int | str, str]:
    """Tick spacing and format for a span: hours within two days, days within a month, then months, years."""
    if bucket_ms < DAY_MS and span_days <= 2.5:
        hours = 3 if span_days <= 1.1 else 6
        return hours * HOUR_MS, "%H:%M<br>%b %-d"
    if span_days <= 16:
        return DAY_MS, "%b %-d"
    if span_days <= 70:
        return 7 * DAY_MS, "%b %-d"
    if span_days <= 400:
        return "M1", "%b %Y"
    if span_days <= 1200:
        return "M3", "%b %Y"
    return "M12", "%Y"


def time_axis(title: str, x: Sequence[str], bucket: str = "day", *, min_days: float | None = None,
              **extra: Any) -> dict[str, Any]:
    """A date axis sized to the data, with one tick format for the whole axis (no tick finer than the buckets).

    The range is at least ``min_days`` wide (a day for hourly buckets, a week for daily ones).

    Args:
        title: Axis title.
        x: ISO dates or ``YYYY-MM-DD HH:MM`` bucket starts, in any order.
        bucket: ``hour`` or ``day`` (the width of one bucket: a bar is 80% of it).
        min_days: Narrowest range shown (default: 1 for hours, 7 for days).
        **extra: More axis attributes.

    Returns:
        A Plotly axis dict (``type: date`` with ``range``, ``dtick`` and ``tickformat``).
    """
    bucket_ms = HOUR_MS if bucket == "hour" else DAY_MS
    half = dt.timedelta(milliseconds=bucket_ms / 2)
    want = dt.timedelta(days=min_days if min_days is not None else (1 if bucket == "hour" else 7))
    times = sorted(_parse(v) for v in x if v)
    if times:
        start, end = times[0] - half, times[-1] + half
    else:
        end = dt.datetime.now(dt.UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
        start = end - want
    if end - start < want:
        start = end - want
    dtick, fmt = _step((end - start).total_seconds() / 86400, bucket_ms)
    return {**axis(title, **extra), "type": "date", "range": [start.isoformat(), end.isoformat()], "dtick": dtick,
            "tick0": "2000-01-02" if dtick == 7 * DAY_MS else "2000-01-01", "tickformat": fmt,
            "hoverformat": "%Y-%m-%d %H:%M" if bucket == "hour" else "%Y-%m-%d"}


def bucket_width(bucket: str) -> int:
    """Width of one bar in milliseconds: 80% of its bucket (a single bar never fills the chart)."""
    return int((HOUR_MS if bucket == "hour" else DAY_MS) * 0.8)


def money_hover(values: Sequence[float | None]) -> list[str]:
    """Hover text for amounts, formatted by the one formatter (Plotly's own would show ``7.8e-5``)."""
    from satisfice.formatting import usd

    return [usd(v) for v in values]


__all__ = ["axis", "bucket_width", "count_axis", "layout", "log_axis", "money_axis", "money_hover", "plot_text",
           "share_axis", "time_axis", "usd_tick"]
