"""Run a task's items through every candidate model: cached, paced, retried, budgeted, then scored.

Each request goes through a :class:`satisfice.evals.calls.Caller` (cache, budget, limits, retries; an
item whose request still fails after its bounded attempts is an *error*: recorded, reported, never scored).

Crash safety: a successful response is written to the store and committed *before* anything else happens
to it (scoring, counting, progress). A process killed at any moment (kill -9) therefore loses no answer it
has been told; re-running the same task sends only requests whose answers are not stored. The one window
left is between the provider receiving a request and its answer being committed: a request in flight when
the process dies (at most ``max_concurrency`` per endpoint) may be sent again on resume. The window is kept
as short as the code allows: the store write is the very next step after the answer arrives, and the request's
concurrency slot is held until that write is committed. Writes go through one
:class:`~satisfice.evals.writer.GroupWriter` per run: every answer, score and error that arrives while a batch
commits is committed in the next one, so high concurrency costs one transaction per batch, not per write.
"""
from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from satisfice.core import ModelClient
from satisfice.errors import ConfigError, ProviderError
from satisfice.evals.cache import ResponseCache, error_row, score_row
from satisfice.evals.calls import (
    BudgetStop,
    Caller,
    CallFailed,
    CallResult,
    Candidate,
    EvalItem,
    JudgeClient,
    RunSettings,
    _judge_spend,
)
from satisfice.evals.limits import Clock, Sleep, SpendGuard
from satisfice.evals.pricing import price_hint
from satisfice.evals.results import ItemOutcome, ItemStatus
from satisfice.evals.writer import GroupWriter
from satisfice.tasks.scorers import Scorer


class ProgressSink(Protocol):
    """Receives progress per model (the CLI draws Rich bars from it)."""

    def start(self, model: str, total: int) -> None:
        """A model's evaluation begins with ``total`` items."""

    def update(self, model: str, *, done: int, errors: int, spent_usd: float) -> None:
        """Counts so far for a model."""


class AdaptiveDriver(Protocol):
    """What :meth:`EvalRunner.run_adaptive` needs from a selector (satisfice.evals.adaptive.AdaptiveSelector)."""

    def current_model(self) -> str | None:
        """The model under examination; None when finished."""

    def next_request(self) -> tuple[str, int] | None:
        """The next (model, item index) to evaluate; None when nothing more should be sent now."""

    def record(self, model: str, item: int, score: float | None, cost: float | None = 0.0) -> None:
        """One result (``score=None`` for an error)."""


@dataclass
class RunOutcome:
    """What a run produced, before summarising."""

    run_id: int
    outcomes: list[ItemOutcome]
    status: str
    spent_usd: float
    calls: int
    cache_hits: int
    models: list[str] = field(default_factory=list)


class _Tally:
    """One model's outcomes as they finish, counted and passed on to the progress sink."""

    def __init__(self, model: str, progress: ProgressSink | None, total: int) -> None:
        self.model = model
        self.progress = progress
        self.outcomes: list[ItemOutcome] = []
        self.done = self.errors = 0
        self.spent = 0.0
        if progress is not None:
            progress.start(model, total)

    def add(self, outcome: ItemOutcome) -> None:
        self.outcomes.append(outcome)
        if outcome.status != "skipped":
            self.done += 1
        self.errors += outcome.status == "error"
        self.spent += outcome.spent_usd
        if self.progress is not None:
            self.progress.update(self.model, done=self.done, errors=self.errors, spent_usd=self.spent)


class EvalRunner:
    """Evaluates every candidate on every item; see the module docstring for the guarantees."""

    def __init__(self, cache: ResponseCache, items: Sequence[EvalItem], candidates: Sequence[Candidate],
                 scorer_factory: Callable[[ModelClient | None], Scorer], *, settings: RunSettings | None = None,
                 judge: Candidate | None = None, progress: ProgressSink | None = None,
                 clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep, seed: int | None = None) -> None:
        self.cache = cache
        self.items = list(items)
        self.candidates = list(candidates)
        self.settings = settings or RunSettings()
        self.guard = SpendGuard(self.settings.max_spend)
        self.progress = progress
        self._inflight: dict[str, asyncio.Future[CallResult]] = {}
        self.writer = GroupWriter(cache)
        rng = random.Random(seed)

        def make(c: Candidate) -> Caller:
            return Caller(c, cache, self.guard, self.settings, inflight=self._inflight, clock=clock, sleep=sleep,
                          rng=rng, writer=self.writer)

        self.callers = [make(c) for c in self.candidates]
        self.judge = make(judge) if judge is not None else None
        self.scorer_factory = scorer_factory
        if self.settings.max_spend is not None:
            unknown = [c.ref.id for c in self.candidates + ([judge] if judge else []) if not c.price.known]
            if unknown:
                hints = "; ".join(dict.fromkeys(price_hint(m) for m in unknown))
                raise ConfigError(f"--max-spend cannot be kept: no price known for {', '.join(unknown)} "
                                  f"({hints}; or give input_per_m and output_per_m for it in the task file)")

    async def run(self, run_id: int) -> RunOutcome:
        """Evaluate everything under run ``run_id``; returns per-item outcomes (sorted by model, then item)."""
        try:
            return await self._run_all(run_id)
        finally:
            await self.writer.close()

    async def run_adaptive(self, run_id: int, selector: AdaptiveDriver) -> RunOutcome:
        """Evaluate only what an adaptive selector asks for (``next_request``), feeding it every result.

        Requests for the model under examination run concurrently up to its ``max_concurrency``; every result
        is recorded (errors as ``None``: counted conservatively by the selector); a budget stop ends the run.
        """
        try:
            return await self._run_adaptive(run_id, selector)
        finally:
            await self.writer.close()

    async def _run_all(self, run_id: int) -> RunOutcome:
        scorer = self.scorer_factory(JudgeClient(self.judge) if self.judge is not None else None)
        if self.settings.use_cache:
            await asyncio.to_thread(self._prefetch)
        per_model = await asyncio.gather(*(self._run_model(run_id, c, scorer) for c in self.callers))
        outcomes = [o for model in per_model for o in sorted(model, key=lambda o: o.index)]
        callers = self.callers + ([self.judge] if self.judge is not None else [])
        return RunOutcome(run_id, outcomes, "stopped_budget" if self.guard.stopped else "complete",
                          self.guard.spent, sum(c.calls for c in callers), sum(c.cache_hits for c in callers),
                          [c.candidate.ref.id for c in self.callers])

    async def _run_adaptive(self, run_id: int, selector: AdaptiveDriver) -> RunOutcome:
        scorer = self.scorer_factory(JudgeClient(self.judge) if self.judge is not None else None)
        if self.settings.use_cache:
            await asyncio.to_thread(self._prefetch)
        callers = {c.candidate.ref.id: c for c in self.callers}
        tallies = {m: _Tally(m, self.progress, len(self.items)) for m in callers}
        pending: set[asyncio.Task[ItemOutcome]] = set()
        while True:
            while not self.guard.stopped and (model := selector.current_model()) is not None:
                if len(pending) >= callers[model].candidate.max_concurrency:
                    break
                nxt = selector.next_request()
                if nxt is None:
                    break
                pending.add(asyncio.create_task(self._one(run_id, callers[nxt[0]], scorer, self.items[nxt[1]])))
            if not pending:
                break
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                o = task.result()
                if o.status != "skipped":
                    cost = None if o.cost_usd is None and o.has_response else (o.cost_usd or 0.0) + o.judge_cost_usd
                    selector.record(o.model, o.index, o.score if o.status == "scored" else None, cost)
                tallies[o.model].add(o)
        outcomes = [o for t in tallies.values() for o in sorted(t.outcomes, key=lambda o: o.index)]
        everyone = self.callers + ([self.judge] if self.judge is not None else [])
        return RunOutcome(run_id, outcomes, "stopped_budget" if self.guard.stopped else "complete",
                          self.guard.spent, sum(c.calls for c in everyone), sum(c.cache_hits for c in everyone),
                          list(callers))

    def _prefetch(self) -> None:
        for caller in self.callers:
            keys = [caller.key(it.request) for it in self.items]
            caller.prefetched = self.cache.get_many(keys)
            caller.absent = set(keys).difference(caller.prefetched)

    async def _run_model(self, run_id: int, caller: Caller, scorer: Scorer) -> list[ItemOutcome]:
        """``max_concurrency`` workers; each sends its next request as soon as its last answer is stored.

        Scoring, the score's write and the report of an item go on in a task of their own, so a worker never
        waits for a second commit before its next request.
        """
        tally = _Tally(caller.candidate.ref.id, self.progress, len(self.items))
        pending = iter(self.items)
        finishing: set[asyncio.Task[None]] = set()
        failed: list[BaseException] = []

        def settled(task: asyncio.Task[None]) -> None:
            finishing.discard(task)
            error = None if task.cancelled() else task.exception()
            if error is not None:
                failed.append(error)

        async def finish(item: EvalItem, result: CallResult) -> None:
            tally.add(await self._score(run_id, tally.model, scorer, item, result))

        async def worker() -> None:
            for item in pending:
                if failed:  # a score could not be stored: stop sending
                    raise failed[0]
                got = await self._call(run_id, caller, item)
                if isinstance(got, ItemOutcome):
                    tally.add(got)
                    continue
                task = asyncio.create_task(finish(item, got))
                finishing.add(task)
                task.add_done_callback(settled)

        try:
            await asyncio.gather(*(worker() for _ in range(max(1, caller.candidate.max_concurrency))))
            while finishing:
                await asyncio.gather(*finishing)
        finally:
            for task in finishing:
                task.cancel()
        if failed:
            raise failed[0]
        return tally.outcomes

    async def _call(self, run_id: int, caller: Caller, item: EvalItem) -> CallResult | ItemOutcome:
        """The answer to an item's request, or its outcome when there is none (skipped, or an error, recorded)."""
        model = caller.candidate.ref.id
        if self.guard.stopped:
            return ItemOutcome(model, item.index, str(item.sample.id), "skipped")
        try:
            return await caller.call(item.request)
        except BudgetStop:
            return ItemOutcome(model, item.index, str(item.sample.id), "skipped")
        except CallFailed as exc:
            sid = str(item.sample.id)
            key = caller.key(item.request)
            await self.writer.write("error", error_row(run_id, model, sid, key, exc.attempts, exc.kind, str(exc)))
            return ItemOutcome(model, item.index, sid, "error", error_kind=exc.kind, error_message=str(exc),
                               attempts=exc.attempts)

    async def _one(self, run_id: int, caller: Caller, scorer: Scorer, item: EvalItem) -> ItemOutcome:
        got = await self._call(run_id, caller, item)
        if isinstance(got, ItemOutcome):
            return got
        return await self._score(run_id, caller.candidate.ref.id, scorer, item, got)

    async def _score(self, run_id: int, model: str, scorer: Scorer, item: EvalItem,
                     result: CallResult) -> ItemOutcome:
        spend: list[tuple[float, float]] = []
        token = _judge_spend.set(spend)
        try:
            score = await scorer(item.sample, result.completion)
        except BudgetStop:
            return _answered(model, item, result, "skipped")
        except (ProviderError, CallFailed) as exc:
            return await self._scoring_error(run_id, _answered(model, item, result, "error"), result.key,
                                             "judge_error", str(exc))
        except Exception as exc:  # a scorer bug is this item's error, recorded and shown, never a score
            return await self._scoring_error(run_id, _answered(model, item, result, "error"), result.key,
                                             "scorer_error", f"{type(exc).__name__}: {exc}")
        finally:
            _judge_spend.reset(token)
        judge_cost = sum(c for c, _ in spend) if spend else score.cost_usd
        spent = result.spent_usd + sum(paid for _, paid in spend)
        if not 0.0 <= score.value <= 1.0:
            return await self._scoring_error(run_id, _answered(model, item, result, "error", judge_cost, spent),
                                             result.key, "scorer_error", f"score {score.value!r} is outside [0, 1]")
        await self.writer.write("score", score_row(run_id, model, str(item.sample.id), item.index, result.key,
                                                   score.value, score.explanation, judge_cost))
        return _answered(model, item, result, "scored", judge_cost, spent, score.value)

    async def _scoring_error(self, run_id: int, base: ItemOutcome, key: str, kind: str,
                             message: str) -> ItemOutcome:
        await self.writer.write("error", error_row(run_id, base.model, base.item_id, key, base.attempts, kind,
                                                   message))
        return dataclasses.replace(base, status="error", error_kind=kind, error_message=message)


def _answered(model: str, item: EvalItem, result: CallResult, status: ItemStatus, judge_cost: float = 0.0,
              spent: float | None = None, score: float | None = None) -> ItemOutcome:
    """The outcome of an item that has a response (scored, or an error or a skip while scoring it)."""
    usage, completion = result.completion.usage, result.completion
    return ItemOutcome(model, item.index, str(item.sample.id), status, score=score, attempts=result.attempts,
                       has_response=True, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                       latency_s=completion.latency_s, cost_usd=result.cost_usd, judge_cost_usd=judge_cost,
                       cached=result.cached, spent_usd=result.spent_usd if spent is None else spent)
