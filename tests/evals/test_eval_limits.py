"""Rate limits, backoff and the spend guard, counted on a virtual clock (no timing)."""

from __future__ import annotations

import asyncio
import random

import pytest
from evals_testkit import VirtualClock, max_in_window

from satisfice.evals.limits import Backoff, EndpointLimiter, SpendGuard, TokenBucket


async def test_request_bucket_grants_at_most_capacity_plus_rate_times_t() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(120, clock=clock, sleep=clock.sleep)  # 2/s, capacity 2
    grants: list[float] = []

    async def one() -> None:
        await bucket.acquire(1)
        grants.append(clock())

    await asyncio.gather(*(one() for _ in range(50)))
    assert len(grants) == 50
    # 50 grants need (50 - capacity) / rate seconds of refill
    assert clock() == pytest.approx((50 - 2) / 2.0)
    for window in (1.0, 10.0, 60.0):
        assert max_in_window(grants, window) <= 2 + 2.0 * window
    assert max_in_window(grants, 60.0) <= 122


async def test_token_bucket_lets_a_request_larger_than_the_bucket_through_once_full() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(600, clock=clock, sleep=clock.sleep)  # 10 tokens/s, capacity 10
    await bucket.acquire(50)  # overdraws a full bucket instead of waiting forever
    assert clock() == 0.0
    await bucket.acquire(5)  # must wait for the debt (-40) to be repaid up to 5
    assert clock() == pytest.approx(4.5)


async def test_endpoint_pause_holds_back_every_request() -> None:
    clock = VirtualClock()
    limiter = EndpointLimiter(max_concurrency=2, requests_per_minute=6000, clock=clock, sleep=clock.sleep)
    limiter.pause(3.0)
    await limiter.admit(10)
    assert clock() >= 3.0


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    b = Backoff(base_s=0.5, cap_s=4.0)
    rng = random.Random(1)
    delays = [b.delay(k, rng=rng) for k in range(1, 8)]
    assert all(0.25 <= d <= 4.0 for d in delays)
    assert delays[0] <= 0.5 and max(delays) > 1.0
    assert b.delay(1, retry_after=7.5, rng=rng) == 7.5  # never sooner than the server asked
    assert b.delay(6, retry_after=0.1, rng=rng) >= 2.0  # backoff still applies when it is longer


def test_spend_guard_reserves_and_stops_before_crossing() -> None:
    g = SpendGuard(1.0)
    assert g.try_reserve(0.4) and g.try_reserve(0.4)
    assert not g.try_reserve(0.4) and g.stopped
    g.settle(0.4, 0.3)
    assert g.spent == pytest.approx(0.3) and g.reserved == pytest.approx(0.4)
    assert not g.try_reserve(0.01)  # once stopped, stays stopped
    unlimited = SpendGuard(None)
    assert all(unlimited.try_reserve(100.0) for _ in range(5))
