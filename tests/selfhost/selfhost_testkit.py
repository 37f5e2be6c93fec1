"""Helpers for the self-host tests: a deterministic streamer and a bench result built from it."""

from __future__ import annotations

import asyncio

from satisfice.selfhost.bench import BenchConfig, BenchResult, run_bench
from satisfice.selfhost.driver import LoadPlan
from satisfice.selfhost.economics import RequestSample


class SteadyStreamer:
    """Every request takes 1 s (TTFT 0.1 s), reads 100 prompt tokens and writes 50: a perfectly steady server."""

    async def __call__(self, index: int) -> RequestSample:
        start = float(index)
        gaps = (0.9 / 49,) * 49
        return RequestSample(start, start + 1.0, first_token=start + 0.1, input_tokens=100, output_tokens=50,
                             gaps=gaps)


def steady_result(model: str = "local/smollm2-135m", usd_per_hour: float = 0.5) -> BenchResult:
    """A bench of :class:`SteadyStreamer` at concurrency 1 (its samples are spread one per second)."""
    config = BenchConfig(model=model, levels=[1], plan=LoadPlan(requests=4), usd_per_hour=usd_per_hour,
                         prompt_tokens=100, output_tokens=50, machine="test machine")
    return asyncio.run(run_bench(SteadyStreamer(), config))
