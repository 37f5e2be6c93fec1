"""The load driver: keeps N requests in flight against a model and records when every token arrived.

A :class:`Streamer` sends one streamed request and returns its :class:`~satisfice.selfhost.economics.RequestSample`
(HTTP in :mod:`satisfice.selfhost.http_stream`, in-process in :mod:`satisfice.selfhost.local_stream`). For each
concurrency level the driver first runs one warm-up round (``concurrency`` requests, discarded: connections,
caches and lazy loading are paid there), then a closed loop of ``concurrency`` workers, each sending its next
request as soon as the previous one ends, until ``requests`` are done or ``duration_s`` has passed (requests in
flight then are waited for and counted).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from satisfice.errors import ConfigError
from satisfice.selfhost.economics import RequestSample

_VOCAB = ("the of and to in is was for on that with as by at from his an be this are which had not or have one "
          "but were they all their there been has when who will more no if out so said what up its about into "
          "than them can only other new some could time these two may then do first any my now such like our over "
          "man me even most made after also did many before must through back years where much your way well down "
          "should because each just those people how too little state good very make world still own see men work "
          "long get here between both life being under never day same another know while last might us great old "
          "year off come since against go came right used take three").split()


def make_prompt(index: int, tokens: int) -> str:
    """A prompt of about ``tokens`` tokens (common one-token English words), different for every ``index``.

    The request number comes first, so no two prompts share a prefix a server could have cached.
    """
    if tokens < 1:
        raise ConfigError(f"--prompt-tokens must be >= 1, got {tokens}")
    n = len(_VOCAB)
    words = [_VOCAB[(index * 7 + i * (1 + index % 5)) % n] for i in range(max(0, tokens - 4))]
    return f"Request {index}: " + " ".join(words)


class Streamer(Protocol):
    """Sends request number ``index`` (prompt from :func:`make_prompt`) and measures it.

    Never raises for a failed request: the sample carries the error kind.
    """

    async def __call__(self, index: int) -> RequestSample:
        """Send one streamed request and time it."""
        ...


@dataclass(frozen=True)
class LoadPlan:
    """How much load one level gets: ``requests`` measured requests, or as many as fit in ``duration_s``.

    With neither, a level gets :func:`default_requests` (four rounds of its concurrency, at least 8).
    """

    requests: int | None = None
    duration_s: float | None = None
    warmup: bool = True

    def __post_init__(self) -> None:
        if self.requests is not None and self.duration_s is not None:
            raise ConfigError("give either --requests N or --duration S, not both")
        if self.requests is not None and self.requests < 1:
            raise ConfigError(f"--requests must be >= 1, got {self.requests}")
        if self.duration_s is not None and not self.duration_s > 0:
            raise ConfigError(f"--duration must be > 0 seconds, got {self.duration_s}")


Progress = Callable[[RequestSample], None]


def default_requests(concurrency: int) -> int:
    """Measured requests of a level when neither a count nor a duration is given: ``max(8, 4 * concurrency)``."""
    return max(8, 4 * concurrency)


def level_budget(plan: LoadPlan, concurrency: int) -> int | None:
    """Measured requests for one level (None: bound by the plan's duration)."""
    if plan.duration_s is not None:
        return None
    return plan.requests if plan.requests is not None else default_requests(concurrency)


async def run_level(streamer: Streamer, concurrency: int, plan: LoadPlan, *, first_index: int = 0,
                    on_warmup: Progress | None = None, on_sample: Progress | None = None) -> list[RequestSample]:
    """Warm up, then measure one level; returns the measured samples in completion order."""
    if concurrency < 1:
        raise ConfigError(f"concurrency must be >= 1, got {concurrency}")
    counter = itertools.count(first_index)
    if plan.warmup:
        warm = await asyncio.gather(*(streamer(next(counter)) for _ in range(concurrency)))
        if on_warmup is not None:
            for sample in warm:
                on_warmup(sample)
    samples: list[RequestSample] = []
    budget = level_budget(plan, concurrency)
    deadline = time.perf_counter() + plan.duration_s if plan.duration_s is not None else None
    issued = 0

    async def worker() -> None:
        nonlocal issued
        while True:
            if budget is not None and issued >= budget:
                return
            if deadline is not None and time.perf_counter() >= deadline:
                return
            issued += 1
            sample = await streamer(next(counter))
            samples.append(sample)
            if on_sample is not None:
                on_sample(sample)

    workers = concurrency if budget is None else min(concurrency, budget)
    await asyncio.gather(*(worker() for _ in range(workers)))
    return samples


def parse_levels(text: str) -> list[int]:
    """``1,4,16,64`` -> ``[1, 4, 16, 64]`` (sorted, unique, each 1..4096)."""
    levels: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise ConfigError(f"--concurrency: {part!r} is not a whole number (example: 1,4,16,64)") from None
        if not 1 <= value <= 4096:
            raise ConfigError(f"--concurrency: {value} is outside 1..4096")
        levels.add(value)
    if not levels:
        raise ConfigError("--concurrency needs at least one level (example: 1,4,16,64)")
    return sorted(levels)


def total_requests(levels: Sequence[int], plan: LoadPlan) -> int | None:
    """Requests the whole bench sends, warm-up included (None for a duration-bound bench)."""
    if plan.duration_s is not None:
        return None
    return sum((level_budget(plan, c) or 0) + (c if plan.warmup else 0) for c in levels)


__all__ = ["LoadPlan", "Progress", "Streamer", "default_requests", "level_budget", "make_prompt", "parse_levels",
           "run_level", "total_requests"]
