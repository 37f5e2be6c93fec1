"""One formatter for what people read: money, counts, rates, percentages, dates and chart ticks.

The CLI, the reports, the dashboard's pages (as Jinja filters) and the charts (tick labels) all call these
functions, so one amount reads the same everywhere. No output is ever in scientific notation: Python's ``f``
format is used with as many decimals as the amount's significant figures need (``$0.000078``, ``$1.23``,
``$958,125``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

TINY_USD = 1e-9
"""Amounts below a billionth of a dollar read ``~$0`` (no per-token price or request cost is that small)."""


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _decimals(a: float, sig: int) -> int:
    """Decimals that show ``sig`` significant figures of ``a`` (> 0) in fixed notation."""
    return max(0, sig - 1 - math.floor(math.log10(a)))


def _trim(text: str, keep: int = 0) -> str:
    """Drop trailing zeros after the point, keeping at least ``keep`` decimals."""
    if "." not in text:
        return text
    head, tail = text.split(".")
    tail = tail.rstrip("0")
    tail = tail + "0" * (keep - len(tail)) if len(tail) < keep else tail
    return f"{head}.{tail}" if tail else head


def number(value: float | None, sig: int = 3, *, unknown: str = "-") -> str:
    """A quantity with ``sig`` significant figures and thousands separators, never in scientific notation.

    Whole digits are never rounded away: ``123456.7`` reads ``123,457``, ``12.345`` reads ``12.3``,
    ``0.000123`` reads ``0.000123``.

    Args:
        value: The number; None (or NaN, infinity) reads ``unknown``.
        sig: Significant figures kept after the decimal point.
        unknown: Text for a missing value.

    Returns:
        The number as text.
    """
    if value is None or not math.isfinite(value):
        return unknown
    if value == 0:
        return "0"
    a = abs(value)
    if a < 10.0 ** -(sig + 9):
        return "~0"
    text = _trim(f"{a:,.{_decimals(a, sig)}f}")
    return ("-" if value < 0 and text.strip("0.,") else "") + text


def count(value: int | float | None, *, unknown: str = "-") -> str:
    """A whole count with thousands separators: tokens, requests, rows (``1,234,567``)."""
    if value is None or not math.isfinite(value):
        return unknown
    return f"{round(value):,}"


def rate(value: float | None, unit: str, sig: int = 3, *, unknown: str = "-") -> str:
    """A rate with its unit: ``rate(1234.5, "tokens/s")`` reads ``1,234 tokens/s`` (``-`` when unknown)."""
    return unknown if not _finite(value) else f"{number(value, sig)} {unit}"


def usd(value: float | None, *, unknown: str = "-", sig: int = 3, trim: bool = False) -> str:
    """US dollars with the precision the amount needs, never in scientific notation.

    Amounts of $100 and more read in whole dollars (``$958,125``), from $1 in cents (``$1.23``), below $1
    with ``sig`` significant figures and at least two decimals (``$0.50``, ``$0.0123``, ``$0.000078``).
    Negative amounts read ``-$1.23``; a non-zero amount below a billionth of a dollar reads ``~$0``.

    Args:
        value: The amount; None (or NaN, infinity) reads ``unknown``.
        unknown: Text for a missing amount.
        sig: Significant figures below $1.
        trim: Drop zero cents (``$2`` instead of ``$2.00``, ``$0.5`` instead of ``$0.50``), for chart ticks.

    Returns:
        The amount as text.
    """
    if value is None or not math.isfinite(value):
        return unknown
    a = abs(value)
    if a == 0:
        return "$0"
    if a < TINY_USD:
        return "~$0"
    if round(a, 2) >= 100:
        text = f"{a:,.0f}"
    elif a >= 1:
        text = f"{a:,.2f}"
    else:
        text = _trim(f"{a:.{_decimals(a, sig)}f}", keep=2)
        text = "1.00" if text == "1.000" else text
    if trim:
        text = _trim(text)
    return ("-" if value < 0 else "") + "$" + text


def usd_per_m(value: float | None, *, unknown: str = "-") -> str:
    """A price per million tokens: ``$0.15/M``."""
    return unknown if not _finite(value) else f"{usd(value)}/M"


def percent(value: float | None, digits: int = 1, *, unknown: str = "-") -> str:
    """A fraction as a percentage: ``0.875`` reads ``87.5%`` (``digits`` decimals, trailing zeros dropped)."""
    if value is None or not math.isfinite(value):
        return unknown
    return _trim(f"{value * 100:.{digits}f}") + "%"


def day(value: dt.date | dt.datetime | str | None, *, unknown: str = "-") -> str:
    """A date as ISO ``2023-03-14`` (a datetime loses its time; an ISO string is cut to its date)."""
    if value is None or value == "":
        return unknown
    if isinstance(value, str):
        return value[:10]
    return (value.date() if isinstance(value, dt.datetime) else value).isoformat()


def timestamp(value: dt.datetime | str | None, *, unknown: str = "-") -> str:
    """A moment to the minute, in UTC: ``2023-03-14 09:26 UTC`` (a naive datetime is taken as UTC)."""
    if value is None or value == "":
        return unknown
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M") + " UTC"


def duration(seconds: float | None, *, unknown: str = "-") -> str:
    """A latency or duration: ``850 ms`` below a second, ``1.25 s`` below a minute, then ``3 min 5 s``."""
    if seconds is None or not math.isfinite(seconds):
        return unknown
    if seconds < 1:
        return f"{seconds * 1000:,.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes:,} min {rest} s"


def and_more(total: int, shown: int) -> str:
    """What a truncated list leaves out: ``" and 1,104 more"`` (empty when nothing was left out)."""
    return f" and {total - shown:,} more" if total > shown else ""


def listing(items: list[str], total: int | None = None, *, most: int | None = None) -> str:
    """Items joined by commas, the first ``most`` of them, then "and N more" when ``total`` is larger."""
    shown = items if most is None else items[:most]
    return ", ".join(shown) + and_more(len(items) if total is None else total, len(shown))


def log_ticks(low: float, high: float, *, max_ticks: int = 12) -> list[float]:
    """Tick values for a log axis over [low, high] on the 1-2-5 sequence (fewer steps on wide ranges).

    Args:
        low: Smallest positive value to show.
        high: Largest value to show.
        max_ticks: Most ticks wanted; wide ranges keep only 1 and 5 per decade, then only powers of ten,
            then every other power.

    Returns:
        Increasing positive values, at least one below-or-at ``low`` and one at-or-above ``high``.
    """
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 or high <= 0:
        return [1.0]
    low, high = min(low, high), max(low, high)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    for steps in ((1, 2, 5), (1, 5), (1,)):
        ticks = _ticks(first, last, steps, low, high)
        if len(ticks) <= max_ticks:
            return ticks
    stride = math.ceil((last - first + 1) / max_ticks)
    return [10.0 ** e for e in range(first, last + 1, stride)]


def linear_ticks(low: float, high: float, *, most: int = 8) -> list[float]:
    """Evenly spaced tick values covering [low, high] (and 0) at a 1, 2, 2.5 or 5 times a power of ten step."""
    low, high = min(low, high, 0.0), max(low, high, 0.0)
    if not (math.isfinite(low) and math.isfinite(high)) or high - low <= 0:
        return [0.0, 1.0]
    raw = (high - low) / (most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    digits = max(0, 2 - math.floor(math.log10(step)))  # drop float noise (0.30000000000000004), keep the step
    return [round(i * step, digits) for i in range(first, last + 1)]


def _ticks(first: int, last: int, steps: tuple[int, ...], low: float, high: float) -> list[float]:
    values = [float(f"{s}e{e}") for e in range(first, last + 1) for s in steps]
    below = [v for v in values if v <= low]
    above = [v for v in values if v >= high]
    lo = below[-1] if below else values[0]
    hi = above[0] if above else values[-1]
    return [v for v in values if lo <= v <= hi]


def tick_labels(values: list[float], label: Callable[[float], str]) -> tuple[list[float], list[str]]:
    """Labels for tick values, dropping ticks whose label repeats a neighbour's (never two equal labels)."""
    kept: list[float] = []
    texts: list[str] = []
    for v in values:
        text = label(v)
        if text not in texts:
            kept.append(v)
            texts.append(text)
    return kept, texts


def usd_tick(value: float) -> str:
    """A dollar tick label: ``$0.01``, ``$0.5``, ``$2``, ``$1,000`` (zero cents dropped)."""
    return usd(value, trim=True)


def number_tick(value: float) -> str:
    """A plain tick label: ``0.01``, ``2``, ``1,000``."""
    return number(value, 3)


JINJA_FILTERS: dict[str, Callable[..., str]] = {
    "usd": usd, "usd_per_m": usd_per_m, "num": number, "count": count, "pct": percent, "day": day,
    "timestamp": timestamp, "duration": duration, "and_more": and_more,
}
"""The filters the dashboard's templates use (``{{ x|usd }}``, ``{{ n|count }}``, ``{{ d|day }}`` ...)."""
