"""From measured requests to a level's figures and prices: throughput, latency percentiles, USD per million tokens.

Pure arithmetic over :class:`RequestSample` values (no I/O, no clock), so every figure can be checked by hand.

Pricing model. One machine-hour costs ``H`` USD. At a concurrency level the machine turns out ``out_tps`` output
and ``in_tps`` *uncached* input tokens per second (prompt tokens the server had to compute; tokens of a prefix it
reused from its cache are counted apart). An input token takes ``w`` times the machine time of an output token
(``w`` is measured at the lowest concurrency: prefill time per computed prompt token / inter-token latency), so
one machine-second is worth ``out_tps + w * in_tps`` output-equivalent tokens and::

    usd_per_m_output = H / 3600 / (out_tps + w * in_tps) * 1e6
    usd_per_m_input  = w * usd_per_m_output
    usd_per_m_cached_input = 0

A cached prompt token costs no prefill: the little time it does cost (attention over a longer context) is already
inside the measured TTFT and inter-token latency, so charging it again would bill the machine twice. A server
reports a prompt token as cached (``usage.prompt_tokens_details.cached_tokens``) only when it did reuse it, so a
server without a prefix cache is never billed less through this price.

Charging the bench's own traffic at these prices costs exactly ``H`` per hour: the machine is paid once, never
twice (once through input and again through output tokens). ``blended`` is the usual 3:1 input:output blend.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from satisfice.core import DAYS_PER_YEAR, DEFAULT_INPUT_SHARE, blend

SECONDS_PER_HOUR = 3600.0
HOURS_PER_YEAR = 24 * DAYS_PER_YEAR


@dataclass(frozen=True, slots=True)
class RequestSample:
    """One measured request: times in seconds from the driver's clock, token counts from the server's usage."""

    start: float
    end: float
    first_token: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    gaps: tuple[float, ...] = ()
    """Seconds between consecutive streamed chunks that carried text (inter-token latencies)."""
    error: str | None = None
    """Kind of failure (``timeout``, ``http_429``, ...); a failed request counts no tokens."""
    usage_reported: bool = True
    """False when the server sent no usage and the output was counted as streamed text chunks."""
    cached_input_tokens: int = 0
    """Prompt tokens the server reused from its prefix cache (part of ``input_tokens``)."""


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1000.0


@dataclass(frozen=True)
class LevelStats:
    """What one concurrency level measured (warm-up excluded); latencies in milliseconds."""

    concurrency: int
    requests: int
    errors: int
    duration_s: float
    requests_per_s: float
    output_tokens_per_s: float
    input_tokens_per_s: float
    mean_input_tokens: float | None
    mean_output_tokens: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    itl_p50_ms: float | None
    itl_p95_ms: float | None
    e2e_p50_ms: float | None
    e2e_p95_ms: float | None
    error_kinds: dict[str, int] = field(default_factory=dict)
    usage_missing: int = 0
    cached_input_tokens_per_s: float = 0.0
    """Prompt tokens per second served from the prefix cache (part of ``input_tokens_per_s``)."""
    mean_cached_input_tokens: float | None = None

    @property
    def computed_input_tokens_per_s(self) -> float:
        """Prompt tokens per second the server had to compute (not served from its cache)."""
        return max(0.0, self.input_tokens_per_s - self.cached_input_tokens_per_s)

    @property
    def mean_computed_input_tokens(self) -> float | None:
        """Mean prompt tokens per request the server had to compute (None without a success)."""
        if self.mean_input_tokens is None:
            return None
        return max(0.0, self.mean_input_tokens - (self.mean_cached_input_tokens or 0.0))


def level_stats(concurrency: int, samples: Sequence[RequestSample]) -> LevelStats:
    """Throughput over the measured window (first start to last end) and latency percentiles of the successes."""
    ok = [s for s in samples if s.error is None]
    failed = [s for s in samples if s.error is not None]
    duration = (max(s.end for s in samples) - min(s.start for s in samples)) if samples else 0.0
    per_s = (lambda n: n / duration) if duration > 0 else (lambda n: 0.0)
    out_tokens = sum(s.output_tokens for s in ok)
    in_tokens = sum(s.input_tokens for s in ok)
    cached = sum(min(s.cached_input_tokens, s.input_tokens) for s in ok)
    ttft = [s.first_token - s.start for s in ok if s.first_token is not None]
    gaps = [g for s in ok for g in s.gaps]
    e2e = [s.end - s.start for s in ok]
    return LevelStats(
        concurrency=concurrency, requests=len(ok), errors=len(failed), duration_s=duration,
        requests_per_s=per_s(len(ok)), output_tokens_per_s=per_s(out_tokens), input_tokens_per_s=per_s(in_tokens),
        mean_input_tokens=in_tokens / len(ok) if ok else None, mean_output_tokens=out_tokens / len(ok) if ok else None,
        ttft_p50_ms=_ms(percentile(ttft, 50)), ttft_p95_ms=_ms(percentile(ttft, 95)),
        itl_p50_ms=_ms(percentile(gaps, 50)), itl_p95_ms=_ms(percentile(gaps, 95)),
        e2e_p50_ms=_ms(percentile(e2e, 50)), e2e_p95_ms=_ms(percentile(e2e, 95)),
        error_kinds=dict(Counter(s.error for s in failed if s.error is not None)),
        usage_missing=sum(1 for s in ok if not s.usage_reported),
        cached_input_tokens_per_s=per_s(cached), mean_cached_input_tokens=cached / len(ok) if ok else None,
    )


def sequential_stats(samples: Sequence[RequestSample]) -> LevelStats:
    """Concurrency-1 figures robust to a shared machine: rates over ``n x median end-to-end time``.

    For requests sent one at a time (possibly interleaved with another model's), the busy time is the sum of the
    requests' own times; the median keeps a request stalled by another process from pricing the whole model.
    """
    stats = level_stats(1, samples)
    ok = [s.end - s.start for s in samples if s.error is None]
    median = percentile(ok, 50)
    if not ok or not median:
        return stats
    busy = median * len(ok)
    scale = stats.duration_s / busy if busy > 0 else 1.0
    return dataclasses.replace(stats, duration_s=busy, requests_per_s=len(ok) / busy,
                               output_tokens_per_s=stats.output_tokens_per_s * scale,
                               input_tokens_per_s=stats.input_tokens_per_s * scale,
                               cached_input_tokens_per_s=stats.cached_input_tokens_per_s * scale)


def input_weight(stats: LevelStats) -> float | None:
    """Machine time of one input token relative to one output token, from one level's medians.

    ``(TTFT p50 / mean computed prompt tokens) / ITL p50``, clamped to [0, 1]; None when it cannot be measured (no
    successful request, no computed prompt tokens or fewer than two streamed chunks per answer).
    """
    computed = stats.mean_computed_input_tokens
    if not stats.ttft_p50_ms or not stats.itl_p50_ms or not computed:
        return None
    per_input = stats.ttft_p50_ms / computed
    return max(0.0, min(1.0, per_input / stats.itl_p50_ms))


@dataclass(frozen=True)
class LevelPrices:
    """USD per million tokens at one level's throughput (None when the level produced no output)."""

    usd_per_m_input: float | None
    usd_per_m_output: float | None
    usd_per_m_blended: float | None
    usd_per_m_cached_input: float | None = None
    """0 whenever the level is priced (see the module docstring); None when it is not."""


def level_prices(stats: LevelStats, usd_per_hour: float, weight: float,
                 input_share: float = DEFAULT_INPUT_SHARE) -> LevelPrices:
    """Prices that make the level's own traffic cost exactly ``usd_per_hour`` (see the module docstring)."""
    capacity = stats.output_tokens_per_s + weight * stats.computed_input_tokens_per_s
    if capacity <= 0 or stats.output_tokens_per_s <= 0:
        return LevelPrices(None, None, None)
    out = usd_per_hour / SECONDS_PER_HOUR / capacity * 1e6
    inp = weight * out
    return LevelPrices(inp, out, blend(inp, out, input_share), 0.0)


@dataclass(frozen=True)
class Level:
    """A level's measurements with its prices: one row of a bench result."""

    stats: LevelStats
    prices: LevelPrices

    def to_json(self) -> dict[str, Any]:
        """Flat JSON row: ``concurrency``, ``requests``, ``output_tokens_per_s``, ``usd_per_m_output``, ..."""
        s, p = self.stats, self.prices
        return {
            "concurrency": s.concurrency, "requests": s.requests, "errors": s.errors, "duration_s": s.duration_s,
            "requests_per_s": s.requests_per_s, "output_tokens_per_s": s.output_tokens_per_s,
            "input_tokens_per_s": s.input_tokens_per_s, "mean_input_tokens": s.mean_input_tokens,
            "mean_output_tokens": s.mean_output_tokens,
            "ttft_p50_ms": s.ttft_p50_ms, "ttft_p95_ms": s.ttft_p95_ms, "itl_p50_ms": s.itl_p50_ms,
            "itl_p95_ms": s.itl_p95_ms, "e2e_p50_ms": s.e2e_p50_ms, "e2e_p95_ms": s.e2e_p95_ms,
            "usd_per_m_input": p.usd_per_m_input, "usd_per_m_output": p.usd_per_m_output,
            "usd_per_m_blended": p.usd_per_m_blended, "error_kinds": s.error_kinds,
            "usage_missing": s.usage_missing, "cached_input_tokens_per_s": s.cached_input_tokens_per_s,
            "mean_cached_input_tokens": s.mean_cached_input_tokens, "usd_per_m_cached_input": p.usd_per_m_cached_input,
        }


def best_level(levels: Sequence[Level], max_p95_ms: float | None) -> tuple[Level | None, str]:
    """The level with the lowest blended $/M among those without errors and with end-to-end p95 within the limit.

    Returns the level (None when no level qualifies) and a one-line reason.
    """
    eligible = []
    for lv in levels:
        s = lv.stats
        if lv.prices.usd_per_m_blended is None or s.errors:
            continue
        if max_p95_ms is not None and (s.e2e_p95_ms is None or s.e2e_p95_ms > max_p95_ms):
            continue
        eligible.append(lv)
    if not eligible:
        limit = f" with end-to-end p95 <= {max_p95_ms:g} ms" if max_p95_ms is not None else ""
        return None, f"no level without errors{limit}"
    best = min(eligible, key=lambda lv: (lv.prices.usd_per_m_blended or 0.0, lv.stats.concurrency))
    within = f" within end-to-end p95 <= {max_p95_ms:g} ms" if max_p95_ms is not None else ""
    return best, f"lowest blended $/M among {len(eligible)} level(s) without errors{within}"


__all__ = ["HOURS_PER_YEAR", "Level", "LevelPrices", "LevelStats", "RequestSample", "best_level", "input_weight",
           "level_prices", "level_stats", "percentile", "sequential_stats"]
