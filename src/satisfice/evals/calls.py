"""One candidate's request pipeline (:class:`Caller`) and the judge seen through it (:class:`JudgeClient`).

Per request: look the request up in the content-keyed cache; if it is there, use it (no call, no cost). A run
looks all its items up at once before the first request (``prefetched`` / ``absent``), so a request found absent
then is sent without a second look (a retry looks again: another process may have stored it meanwhile).
Otherwise reserve its worst-case cost under ``--max-spend``, wait for the endpoint's concurrency slot,
requests/minute and tokens/minute budget, send it with a per-request timeout, and retry retryable failures
with exponential backoff and jitter (never sooner than a 429's Retry-After) up to ``max_attempts``. After the
last attempt the item is an *error*: recorded, reported, never scored. Identical requests in flight at once
(same model, same content) are sent once. Crash safety is described in :mod:`satisfice.evals.runner`.
"""
from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import random
import time
from dataclasses import dataclass

from satisfice.core import Completion, CompletionRequest, ModelClient, ModelRef
from satisfice.errors import ProviderError, RateLimited, Timeout, error_kind
from satisfice.evals.cache import (
    CachedResponse,
    ResponseCache,
    canonical_json,
    key_of,
    model_identity,
    request_json,
    response_row,
)
from satisfice.evals.limits import Backoff, Clock, EndpointLimiter, Sleep, SpendGuard
from satisfice.evals.pricing import (
    PriceInfo,
    completion_cost,
    estimate_cost,
    estimate_output_tokens,
    estimate_prompt_tokens,
)
from satisfice.evals.writer import GroupWriter
from satisfice.tasks.datasets import Sample


class BudgetStop(Exception):
    """Internal: the spend cap does not allow the next request."""


class CallFailed(Exception):
    """A request failed for good: a non-retryable error or the last of its bounded attempts."""

    def __init__(self, kind: str, message: str, attempts: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.attempts = attempts


@dataclass(frozen=True)
class RunSettings:
    """How requests are sent: attempts, timeout, backoff, spend cap, whether the cache is read."""

    max_attempts: int = 4
    timeout_s: float = 60.0
    backoff: Backoff = Backoff()
    max_spend: float | None = None
    use_cache: bool = True


@dataclass
class Candidate:
    """A model to evaluate: where it lives, its client, its price and its endpoint limits."""

    ref: ModelRef
    client: ModelClient
    price: PriceInfo
    max_concurrency: int = 4
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None


@dataclass(frozen=True)
class EvalItem:
    """One dataset item and the request rendered for it."""

    index: int
    sample: Sample
    request: CompletionRequest


@dataclass(frozen=True)
class CallResult:
    """A response (fresh or from the cache) with what it cost and what was paid now."""

    key: str
    completion: Completion
    cost_usd: float | None
    attempts: int
    cached: bool
    spent_usd: float


_judge_spend: contextvars.ContextVar[list[tuple[float, float]] | None] = contextvars.ContextVar(
    "judge_spend", default=None)
"""(cost, money paid now) of each judge call made while scoring the current item."""


class Caller:
    """One candidate's request pipeline: cache -> budget -> limits -> call with retries -> store."""

    def __init__(self, candidate: Candidate, cache: ResponseCache, guard: SpendGuard, settings: RunSettings, *,
                 inflight: dict[str, asyncio.Future[CallResult]], clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep, rng: random.Random | None = None,
                 writer: GroupWriter | None = None) -> None:
        self.candidate = candidate
        self.cache = cache
        self.writer = writer
        self.guard = guard
        self.settings = settings
        self.limiter = EndpointLimiter(candidate.max_concurrency, candidate.requests_per_minute,
                                       candidate.tokens_per_minute, clock=clock, sleep=sleep)
        self.inflight = inflight
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.prefetched: dict[str, CachedResponse] = {}
        self.absent: set[str] = set()
        """Keys the run's first look-up found no answer for, and this caller has not stored one for since."""
        self._identity = canonical_json(model_identity(candidate.ref))
        self.calls = 0
        self.cache_hits = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        """Requests to the provider at once, now and at most during the run (what ``--concurrency`` reached)."""

    def _from_cache(self, hit: CachedResponse) -> CallResult:
        self.cache_hits += 1
        return CallResult(hit.key, hit.completion, completion_cost(self.candidate.price, hit.completion),
                          attempts=0, cached=True, spent_usd=0.0)

    def key(self, request: CompletionRequest) -> str:
        """The cache key of ``request`` to this candidate (:func:`~satisfice.evals.cache.request_key`)."""
        return key_of(self._identity, request_json(request))

    async def call(self, request: CompletionRequest) -> CallResult:
        """The response to ``request``: from the cache when stored, else sent (raises CallFailed/BudgetStop)."""
        text = request_json(request)
        key = key_of(self._identity, text)
        # Claim the key before the first await: a twin request arriving while this one is looked up or
        # sent waits for it instead of racing it to the provider (the cache lookup is a thread hop).
        shared = self.inflight.get(key)
        if shared is not None:  # the same request is already on its way: wait for it, pay nothing
            result = await asyncio.shield(shared)
            return dataclasses.replace(result, cached=True, spent_usd=0.0, attempts=0)
        future: asyncio.Future[CallResult] = asyncio.get_running_loop().create_future()
        self.inflight[key] = future
        try:
            result = await self._lookup_or_send(key, request, text)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: a failure with nobody waiting is not an asyncio warning
            raise
        finally:
            self.inflight.pop(key, None)
        future.set_result(result)
        return result

    async def _lookup_or_send(self, key: str, request: CompletionRequest, text: str) -> CallResult:
        if self.settings.use_cache:
            hit = self.prefetched.pop(key, None)
            if hit is None and key not in self.absent:  # not looked up yet (a judge's request, a repeated item)
                hit = await asyncio.to_thread(self.cache.get, key)
            if hit is not None:
                return self._from_cache(hit)
        return await self._send(key, request, text)

    async def _send(self, key: str, request: CompletionRequest, text: str) -> CallResult:
        cand, settings = self.candidate, self.settings
        est_tokens = float(estimate_prompt_tokens(request) + estimate_output_tokens(request))
        attempts = 0
        while True:
            if attempts and settings.use_cache:  # another process may have stored it meanwhile
                hit = await asyncio.to_thread(self.cache.get, key)
                if hit is not None:
                    return self._from_cache(hit)
            reserve = estimate_cost(cand.price, request) or 0.0
            if not self.guard.try_reserve(reserve):
                raise BudgetStop()
            settled = False
            try:
                async with self.limiter.semaphore:
                    await self.limiter.admit(est_tokens)
                    attempts += 1
                    started = self.clock()
                    self.in_flight += 1
                    self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                    try:
                        async with asyncio.timeout(settings.timeout_s):  # no task per request, as wait_for makes
                            completion = await cand.client.complete(request)
                    except TimeoutError:
                        raise Timeout(f"{cand.ref.id}: no answer within {settings.timeout_s:g} s") from None
                    finally:
                        self.in_flight -= 1
                    if completion.latency_s <= 0:
                        completion = dataclasses.replace(completion, latency_s=self.clock() - started)
                    cost = completion_cost(cand.price, completion)
                    # Commit before anything else: this ends the "sent but not stored" window (in a group
                    # commit with the other writes of the moment when the run has a writer).
                    row = response_row(key, cand.ref, request, completion, cost, attempts, text)
                    if self.writer is not None:
                        await self.writer.write("response", row)
                    else:
                        await asyncio.to_thread(self.cache.write_batch, [("response", row)])
                    self.calls += 1
                    self.absent.discard(key)  # stored now: a repeat of this request finds it
                    self.guard.settle(reserve, cost)
                    settled = True
                    self.limiter.settle_tokens(est_tokens, completion.usage.input_tokens
                                               + completion.usage.output_tokens)
                    return CallResult(key, completion, cost, attempts, cached=False, spent_usd=cost or 0.0)
            except ProviderError as exc:
                self.guard.settle(reserve, 0.0)  # a failed call is taken as not billed
                settled = True
                if not exc.retryable or attempts >= settings.max_attempts:
                    raise CallFailed(error_kind(exc), str(exc), attempts) from exc
                retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
                if retry_after:
                    self.limiter.pause(retry_after)
                await self.sleep(settings.backoff.delay(attempts, retry_after, self.rng))
            finally:
                if not settled:
                    self.guard.settle(reserve, 0.0)


class JudgeClient:
    """A judge model seen through a :class:`Caller`: cached, paced, budgeted; its cost is put on the item."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller

    async def complete(self, request: CompletionRequest) -> Completion:
        """Answer like any ModelClient; the completion's ``cost_usd`` is its priced cost."""
        try:
            result = await self.caller.call(request)
        except CallFailed as exc:
            raise ProviderError(f"judge {self.caller.candidate.ref.id}: {exc}", retryable=False) from exc
        spend = _judge_spend.get()
        if spend is not None:
            spend.append((result.cost_usd or 0.0, result.spent_usd))
        return dataclasses.replace(result.completion, cost_usd=result.cost_usd)
