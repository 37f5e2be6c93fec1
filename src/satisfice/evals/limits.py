"""Pacing model calls: per-endpoint concurrency, requests/tokens per minute, retry backoff and the spend cap.

Everything takes an injectable ``clock`` and ``sleep`` so tests count grants instead of timing them.

* :class:`TokenBucket` — the usual provider model: ``rate`` units per second refill a bucket holding at most
  ``capacity``. Over any interval of length T at most ``capacity + rate * T`` units are granted (plus the one
  request allowed to overdraw a full bucket when it alone is larger than the bucket).
* :class:`EndpointLimiter` — one per candidate endpoint: a semaphore for concurrency, a request bucket, a token
  bucket, and a shared pause so that one 429 with Retry-After holds back every request to that endpoint.
* :class:`Backoff` — exponential backoff with jitter that never waits less than the server's Retry-After.
* :class:`SpendGuard` — ``--max-spend``: a request starts only if money spent plus money reserved for requests
  in flight plus this request's worst-case estimate stays within the cap.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """A token bucket refilled at ``per_minute / 60`` units per second; starts full."""

    def __init__(self, per_minute: float, *, capacity: float | None = None, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        if per_minute <= 0:
            raise ValueError(f"rate must be positive, got {per_minute}")
        self.rate = per_minute / 60.0
        self.capacity = capacity if capacity is not None else max(1.0, self.rate)  # one second's worth
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = asyncio.Lock()
        self.granted = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self, amount: float = 1.0) -> None:
        """Wait until ``amount`` units may be spent (a request larger than the bucket waits for a full one)."""
        need = min(amount, self.capacity)
        async with self._lock:  # first come, first served
            while True:
                self._refill()
                if self._tokens >= need:
                    self._tokens -= amount
                    self.granted += amount
                    return
                await self._sleep((need - self._tokens) / self.rate)

    def refund(self, amount: float) -> None:
        """Give back units reserved but not used (e.g. estimated tokens above the real count)."""
        self._refill()
        self._tokens = min(self.capacity, self._tokens + amount)
        self.granted -= amount


@dataclass
class EndpointLimiter:
    """Limits for one endpoint: concurrency, requests/minute, tokens/minute, and a shared Retry-After pause."""

    max_concurrency: int = 4
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    paused_until: float = 0.0
    semaphore: asyncio.Semaphore = field(init=False)
    requests: TokenBucket | None = field(init=False, default=None)
    tokens: TokenBucket | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.semaphore = asyncio.Semaphore(max(1, self.max_concurrency))
        if self.requests_per_minute:
            self.requests = TokenBucket(self.requests_per_minute, clock=self.clock, sleep=self.sleep)
        if self.tokens_per_minute:
            self.tokens = TokenBucket(self.tokens_per_minute, capacity=max(1.0, self.tokens_per_minute / 60.0),
                                      clock=self.clock, sleep=self.sleep)

    def pause(self, seconds: float) -> None:
        """Hold back every request to this endpoint for ``seconds`` (a 429's Retry-After)."""
        self.paused_until = max(self.paused_until, self.clock() + max(0.0, seconds))

    async def admit(self, estimated_tokens: float) -> None:
        """Wait for the pause, a request slot and the estimated tokens (call while holding the semaphore)."""
        while (wait := self.paused_until - self.clock()) > 0:
            await self.sleep(wait)
        if self.requests is not None:
            await self.requests.acquire(1.0)
        if self.tokens is not None:
            await self.tokens.acquire(max(1.0, estimated_tokens))

    def settle_tokens(self, estimated: float, actual: float) -> None:
        """Correct the token bucket once the real usage is known."""
        if self.tokens is not None and actual < estimated:
            self.tokens.refund(max(1.0, estimated) - max(1.0, actual))


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt k waits ``base * 2**(k-1)`` (capped) times U(0.5, 1).

    A server's Retry-After is a floor: the wait is never shorter than what the server asked for.
    """

    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        exp = min(self.cap_s, self.base_s * (2.0 ** max(0, attempt - 1)))
        u = rng.random() if rng is not None else random.random()
        jittered = exp * (0.5 + 0.5 * u)
        if retry_after is not None and retry_after > 0:
            return max(jittered, min(retry_after, 3600.0))
        return jittered


class SpendGuard:
    """The ``--max-spend`` cap: reserve a worst-case estimate before a call, settle it with the real cost after.

    With no cap it only keeps the tally. The cap can be exceeded only when a provider bills more than the
    estimate (more prompt tokens than estimated; output is bounded by ``max_tokens``).
    """

    def __init__(self, limit_usd: float | None) -> None:
        self.limit = limit_usd
        self.spent = 0.0
        self.reserved = 0.0
        self.stopped = False

    def try_reserve(self, amount: float) -> bool:
        """Reserve ``amount`` USD; False (and the guard stops) when it would cross the cap."""
        if self.stopped:
            return False
        if self.limit is not None and self.spent + self.reserved + amount > self.limit + 1e-12:
            self.stopped = True
            return False
        self.reserved += amount
        return True

    def settle(self, reserved: float, actual: float | None) -> None:
        """Release a reservation and add what the call really cost (None: unknown, counted as 0)."""
        self.reserved = max(0.0, self.reserved - reserved)
        self.spent += actual or 0.0
