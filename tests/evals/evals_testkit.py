"""Shared helpers for the evals tests: items, an exact-match scorer, candidates, a run helper, a virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from satisfice.core import Completion, CompletionRequest, Message, ModelClient, ModelRef, Price, Score
from satisfice.evals.cache import ResponseCache
from satisfice.evals.calls import Candidate, EvalItem, RunSettings
from satisfice.evals.limits import Backoff
from satisfice.evals.pricing import PriceInfo
from satisfice.evals.results import EvalResults, summarise
from satisfice.evals.runner import EvalRunner, RunOutcome
from satisfice.store import Store
from satisfice.tasks.datasets import Sample
from satisfice.tasks.threshold import Threshold

FAST = RunSettings(max_attempts=4, timeout_s=5.0, backoff=Backoff(base_s=0.001, cap_s=0.004))


def make_items(n: int, *, target: str = "yes", max_tokens: int = 5) -> list[EvalItem]:
    return [EvalItem(i, Sample(id=f"q{i}", fields={"n": i}, target=target),
                     CompletionRequest(messages=(Message("user", f"question {i} please"),), max_tokens=max_tokens))
            for i in range(n)]


def item_index(request: CompletionRequest) -> int:
    """The item number written into a request by :func:`make_items`."""
    return int(request.messages[-1].content.split()[1])


class ExactScorer:
    needs_reference = True

    async def __call__(self, sample: Sample, completion: Completion) -> Score:
        return Score(1.0 if completion.text.strip() == sample.target else 0.0)


def candidate(model: str, client: ModelClient, *, price: tuple[float, float] | None = (1.0, 2.0),
              concurrency: int = 4, rpm: float | None = None, tpm: float | None = None) -> Candidate:
    info = (PriceInfo(model, Price(*price), "override") if price is not None
            else PriceInfo(model, None, "unknown"))
    return Candidate(ModelRef(model, base_url="http://127.0.0.1:9/v1"), client, info, concurrency, rpm, tpm)


async def run_eval(store: Store, items: Sequence[EvalItem], candidates: Sequence[Candidate], *,
                   settings: RunSettings = FAST, threshold: Threshold | None = None,
                   scorer_factory: Callable[[ModelClient | None], Any] | None = None, judge: Candidate | None = None,
                   **kwargs: Any) -> tuple[RunOutcome, EvalResults]:
    cache = ResponseCache(store)
    models = [c.ref.id for c in candidates]
    run_id = await asyncio.to_thread(cache.start_run, "t", "hash", "task.yaml", models)
    runner = EvalRunner(cache, items, candidates, scorer_factory or (lambda judge: ExactScorer()),
                        settings=settings, judge=judge, **kwargs)
    outcome = await runner.run(run_id)
    results = summarise("t", outcome.outcomes, models=models, threshold=threshold,
                        prices={c.ref.id: c.price for c in candidates}, items=len(items))
    return outcome, results


class VirtualClock:
    """A monotonic clock that moves only when someone sleeps on it; remembers every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def max_in_window(times: Sequence[float], window: float) -> int:
    """Most events within any half-open interval of length ``window``."""
    ordered = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(ordered):
        while ordered[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best
