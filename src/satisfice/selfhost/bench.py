"""A whole self-host benchmark: every concurrency level through the driver, then figures, prices and the best level.

:func:`run_bench` takes any :class:`~satisfice.selfhost.driver.Streamer` (HTTP or in-process), so the same code
measures a vLLM or SGLang deployment, a llama.cpp server or a local model, and the result is one
:class:`BenchResult` whose JSON other tools read (``levels``, ``usd_per_hour``, ``best``).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from satisfice.core import DEFAULT_INPUT_SHARE
from satisfice.errors import ConfigError
from satisfice.selfhost.driver import LoadPlan, Streamer, level_budget, run_level
from satisfice.selfhost.economics import (
    Level,
    LevelStats,
    RequestSample,
    best_level,
    input_weight,
    level_prices,
    level_stats,
)


@dataclass(frozen=True)
class BenchConfig:
    """What to measure and at what machine price."""

    model: str
    levels: Sequence[int]
    plan: LoadPlan
    usd_per_hour: float
    prompt_tokens: int = 512
    output_tokens: int = 256
    max_p95_ms: float | None = None
    base_url: str | None = None
    machine: str = ""
    weight: float | None = None
    """Relative machine time of an input token; None measures it at the lowest level."""
    input_share: float = DEFAULT_INPUT_SHARE
    repeat: int = 1
    """Runs of each level; the one with the highest output throughput is kept (contention only ever slows)."""

    def __post_init__(self) -> None:
        if not 1 <= self.repeat <= 20:
            raise ConfigError(f"--repeat must be within 1..20, got {self.repeat}")
        if not self.usd_per_hour > 0:
            raise ConfigError(f"--usd-per-hour must be > 0, got {self.usd_per_hour}")
        if self.max_p95_ms is not None and not self.max_p95_ms > 0:
            raise ConfigError(f"--max-p95-ms must be > 0, got {self.max_p95_ms}")
        if self.weight is not None and not 0.0 <= self.weight <= 1.0:
            raise ConfigError(f"--input-weight must be within [0, 1], got {self.weight}")
        if self.prompt_tokens < 1 or self.output_tokens < 1:
            raise ConfigError("--prompt-tokens and --output-tokens must be >= 1")


@dataclass
class BenchResult:
    """Every level's figures and prices, the input weight used, and the best level."""

    config: BenchConfig
    levels: list[Level]
    weight: float
    weight_source: str
    best: Level | None
    best_reason: str
    measured_at: dt.datetime
    load_s: float | None = None
    saved: dict[str, Any] | None = field(default=None)
    repeats: dict[int, list[float]] = field(default_factory=dict)
    """Output tokens/s of every run of each level (concurrency -> runs), when levels were repeated."""

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``satisfice selfhost bench --json``."""
        c = self.config
        return {
            "model": c.model, "base_url": c.base_url, "machine": c.machine, "usd_per_hour": c.usd_per_hour,
            "prompt_tokens": c.prompt_tokens, "output_tokens": c.output_tokens,
            "requests_per_level": c.plan.requests if c.plan.duration_s is None and c.plan.requests is not None
            else ("max(8, 4 x concurrency)" if c.plan.duration_s is None else None),
            "duration_s_per_level": c.plan.duration_s,
            "warmup": "one round of `concurrency` requests per level, not counted" if c.plan.warmup else "none",
            "input_share": c.input_share, "input_weight": self.weight, "input_weight_source": self.weight_source,
            "max_p95_ms": c.max_p95_ms, "repeat": c.repeat,
            "levels": [{**lv.to_json(), "repeats_output_tokens_per_s": self.repeats.get(lv.stats.concurrency)}
                       for lv in self.levels],
            "best": self.best.to_json() if self.best is not None else None, "best_reason": self.best_reason,
            "measured_at": self.measured_at.isoformat(timespec="seconds"), "load_s": self.load_s,
            "saved": self.saved,
        }


class BenchProgress(Protocol):
    """What the bench reports while it runs (the CLI draws it)."""

    def level_started(self, concurrency: int, requests: int | None, duration_s: float | None) -> None:
        """A level begins (after its warm-up)."""

    def sample(self, sample: RequestSample) -> None:
        """One measured request ended."""

    def level_done(self, stats: LevelStats) -> None:
        """A level ended."""


def measured_weight(config: BenchConfig, runs_by_level: list[list[LevelStats]]) -> tuple[float, str]:
    """The input weight from the lowest level that measures one: least-disturbed prefill / least-disturbed ITL.

    Contention only ever lengthens times, so across repeated runs the smallest TTFT-per-prompt-token and the
    smallest inter-token latency are the best estimates of what each costs on a quiet machine.
    """
    if config.weight is not None:
        return config.weight, "given (--input-weight)"
    for runs in runs_by_level:  # lowest concurrency first: prefill and decode times are cleanest there
        prefill = [r.ttft_p50_ms / (r.mean_computed_input_tokens or 1.0) for r in runs
                   if r.ttft_p50_ms and r.mean_computed_input_tokens and input_weight(r) is not None]
        decode = [r.itl_p50_ms for r in runs if r.itl_p50_ms and input_weight(r) is not None]
        if prefill and decode:
            runs_note = f", least of {len(runs)} runs" if len(runs) > 1 else ""
            return (max(0.0, min(1.0, min(prefill) / min(decode))),
                    f"measured at concurrency {runs[0].concurrency}: (TTFT p50 / computed prompt tokens) / ITL p50"
                    f"{runs_note}")
    return 0.0, "not measurable (no streamed answer with two or more chunks); input tokens priced at $0"


async def run_bench(streamer: Streamer, config: BenchConfig, *, progress: BenchProgress | None = None,
                    load_s: float | None = None) -> BenchResult:
    """Run every level in ascending concurrency and price the result."""
    stats: list[LevelStats] = []
    all_runs: list[list[LevelStats]] = []
    repeats: dict[int, list[float]] = {}
    next_index = 0
    for concurrency in sorted(config.levels):
        runs: list[LevelStats] = []
        for _ in range(config.repeat):
            if progress is not None:
                progress.level_started(concurrency, level_budget(config.plan, concurrency), config.plan.duration_s)
            samples = await run_level(streamer, concurrency, config.plan, first_index=next_index,
                                      on_sample=progress.sample if progress is not None else None)
            next_index += len(samples) + concurrency
            runs.append(level_stats(concurrency, samples))
            if progress is not None:
                progress.level_done(runs[-1])
        stats.append(max(runs, key=lambda r: (r.errors == 0, r.output_tokens_per_s)))
        all_runs.append(runs)
        if config.repeat > 1:
            repeats[concurrency] = [r.output_tokens_per_s for r in runs]
    weight, source = measured_weight(config, all_runs)
    levels = [Level(s, level_prices(s, config.usd_per_hour, weight, config.input_share)) for s in stats]
    best, reason = best_level(levels, config.max_p95_ms)
    return BenchResult(config, levels, weight, source, best, reason, dt.datetime.now(dt.UTC).replace(tzinfo=None),
                       load_s=load_s, repeats=repeats)


_CAUSES = {
    "upstream_unavailable": "nothing answered at {where} (connection refused or reset: is the server running there?)",
    "timeout": "{where} did not answer in time (raise --timeout, or check the server)",
    "http_401": "{where} refused the request as unauthorised (check --api-key-env)",
    "http_403": "{where} refused the request (check --api-key-env)",
    "http_404": "{where} has no such path or model (the base URL must end in /v1; check the model name)",
    "engine_error": "the local engine rejected every request",
}


def all_failed(result: BenchResult) -> str | None:
    """When no request of any level succeeded: one line naming the cause (else None)."""
    if any(lv.stats.requests for lv in result.levels):
        return None
    kinds: dict[str, int] = {}
    for lv in result.levels:
        for kind, n in lv.stats.error_kinds.items():
            kinds[kind] = kinds.get(kind, 0) + n
    if not kinds:
        return None
    where = result.config.base_url or f"the in-process {result.config.model}"
    top = max(kinds, key=lambda k: kinds[k])
    cause = _CAUSES.get(top, "{where} answered every request with an error").format(where=where)
    counts = ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items()))
    return f"every request failed ({counts}): {cause}"


def describe_machine() -> str:
    """This machine in one line: CPU model, cores, memory (for a local model's bench)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages * size / 2**30:.0f} GiB memory"
    except (ValueError, OSError, AttributeError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory} ({platform.system()})"


__all__ = ["BenchConfig", "BenchProgress", "BenchResult", "all_failed", "describe_machine", "measured_weight",
           "run_bench"]
