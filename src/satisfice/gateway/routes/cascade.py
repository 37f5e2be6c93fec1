"""Serving one request from a plan: fallbacks across upstreams and models, and the verify-then-escalate cascade.

Order of attempts: the plan's models in order; for each model its upstreams in order, skipping any whose
circuit breaker for that model is open (breakers are per upstream and model: one misbehaving model does not
cool down the others its upstream serves). A connection error, timeout, malformed answer, 429 or 5xx (and
401/403/404, which mean *this* upstream is misconfigured) moves on to the next upstream, then to the next
model. Any other 4xx is the client's problem and is returned at once. Attempts are bounded by
``limits.max_attempts``; the last remaining candidate is retried once when the wait it asks for
(``Retry-After``) is at most ``limits.max_retry_wait_s``.

When the route has verifiers, an answer that fails one is paid for, counted as an escalation, and the next
model is asked. If no model passes, the route's ``on_exhausted`` decides: ``error`` (HTTP 502,
``verification_failed``) or ``last`` (the last answer, flagged in the ``x-satisfice-verified: false`` header).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from satisfice.clients.http import HttpTransport
from satisfice.core import Price, Usage
from satisfice.errors import ProviderError, RateLimited, Timeout, error_kind
from satisfice.gateway.observability.metrics import GatewayMetrics
from satisfice.gateway.routes.config import LimitsConfig
from satisfice.gateway.routes.plan import Plan, Target
from satisfice.gateway.routes.verifiers import run_verifiers
from satisfice.gateway.wire.replies import GatewayError
from satisfice.gateway.wire.upstream import Answer, Upstream, call, describe

T = TypeVar("T")
Caller = Callable[[Upstream, Price, str], Awaitable[Answer]]
_UPSTREAM_CONFIG_STATUSES = (401, 403, 404)


@dataclass(slots=True)
class Attempts:
    """Everything tried for one request: goes into its spend row."""

    tried: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    escalations: int = 0
    calls: int = 0
    cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False
    """Some tokens billed are the gateway's estimate (the spend row's ``tokens_estimated``)."""
    usage_invalid: bool = False
    """An upstream reported a usage that failed the checks (the spend row's ``usage_invalid``)."""
    verified: bool = True
    failures: list[BaseException] = field(default_factory=list)
    skipped: list[float] = field(default_factory=list)
    paused: bool = False
    """An upstream call timed out while this instance was stopped: its answer may have come and gone unread."""
    verdicts: list[tuple[str, bool, float]] = field(default_factory=list)
    """``(model, passed, cost)`` for each answer the route's verifiers judged (recorded as outcomes)."""

    def bill(self, cost: float, usage: Usage, estimated: bool, usage_invalid: bool) -> None:
        """Add a paid answer's cost and tokens, and its usage flags (a whole answer's, or a relayed stream's)."""
        self.cost += cost
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.estimated = self.estimated or estimated
        self.usage_invalid = self.usage_invalid or usage_invalid


def _is_client_error(exc: ProviderError) -> bool:
    status = exc.status
    return (not exc.retryable and status is not None and 400 <= status < 500
            and status not in _UPSTREAM_CONFIG_STATUSES)


def final_error(att: Attempts, what: str) -> GatewayError:
    """The error returned when no candidate produced an answer."""
    if not att.failures:
        wait = max(1, math.ceil(min(att.skipped, default=1.0)))
        return GatewayError(503, f"every upstream for {what!r} is cooling down after repeated failures; "
                            f"retry in {wait}s", type="server_error", code="upstream_unavailable",
                            headers={"Retry-After": str(wait)})
    summary = "; ".join(att.errors[-3:])
    if all(isinstance(e, RateLimited) for e in att.failures):
        waits = [e.retry_after for e in att.failures if isinstance(e, RateLimited) and e.retry_after is not None]
        headers = {"Retry-After": str(max(1, math.ceil(min(waits))))} if waits else {}
        return GatewayError(429, f"every upstream for {what!r} is rate limited: {summary}", type="rate_limit_error",
                            code="upstream_rate_limited", headers=headers)
    if all(isinstance(e, Timeout) for e in att.failures):
        return GatewayError(504, f"no upstream for {what!r} answered in time: {summary}", type="server_error",
                            code="upstream_timeout")
    return GatewayError(502, f"no upstream for {what!r} gave a usable answer: {summary}", type="server_error",
                        code="upstream_error")


class StallWatch:
    """Notices when this process's event loop did not run for a while (SIGSTOP, a VM pause, a swap storm).

    A tick every ``tick_s``; a tick late by more than ``threshold_s`` is a stall. :meth:`paused_during` tells
    whether a stall overlapped an upstream call that timed out: the upstream probably answered meanwhile.
    """

    def __init__(self, tick_s: float = 0.1, threshold_s: float = 1.0) -> None:
        self.tick_s = tick_s
        self.threshold_s = threshold_s
        self.alive_at = time.monotonic()
        self.stalled_until = -math.inf
        self.running = False

    async def run(self) -> None:
        """Tick until cancelled."""
        self.running = True
        try:
            while True:
                before = time.monotonic()
                await asyncio.sleep(self.tick_s)
                self.alive_at = time.monotonic()
                if self.alive_at - before - self.tick_s > self.threshold_s:
                    self.stalled_until = self.alive_at
        finally:
            self.running = False

    def paused_during(self, started: float) -> bool:
        """Whether the loop stalled since ``started`` (``time.monotonic()``), or is only now resuming."""
        if not self.running:
            return False
        return time.monotonic() - self.alive_at > self.threshold_s or self.stalled_until > started


class Executor:
    """Runs plans against upstreams through the shared transport."""

    def __init__(self, transport: HttpTransport, limits: LimitsConfig, metrics: GatewayMetrics,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.transport = transport
        self.limits = limits
        self.metrics = metrics
        self.clock = clock
        self.stalls = StallWatch()

    async def try_target(self, target: Target, att: Attempts, last: bool,
                         attempt: Callable[[Upstream, Price], Awaitable[T]]) -> T | None:
        """Ask the target's upstreams in order; the first success, or None when all failed or were skipped."""
        count = len(target.upstreams)
        for i, (upstream, price, label) in enumerate(zip(target.upstreams, target.prices, target.labels,
                                                         strict=True)):
            retried = False
            breaker = upstream.breaker_for(target.model)
            while att.calls < self.limits.max_attempts:
                now = self.clock()
                if not breaker.allows(now):
                    att.skipped.append(breaker.open_until - now)
                    att.errors.append(f"{label}: skipped (cooling down)")
                    break
                att.calls += 1
                att.tried.append(label)
                started = time.monotonic()
                try:
                    result = await attempt(upstream, price)
                except ProviderError as exc:
                    if isinstance(exc, Timeout) and self.stalls.paused_during(started):
                        att.paused = True
                    if _is_client_error(exc):
                        att.failures.append(exc)
                        att.errors.append(describe(exc, upstream))
                        raise GatewayError(exc.status if exc.status in (400, 413, 422) else 400,
                                           f"upstream {upstream.name!r} rejected the request: "
                                           f"{describe(exc, upstream)}", code="upstream_rejected") from None
                    retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
                    breaker.failure(self.clock(), retry_after)
                    att.failures.append(exc)
                    att.errors.append(describe(exc, upstream))
                    self.metrics.upstream_error(upstream.name, error_kind(exc))
                    wait = retry_after if retry_after is not None else 0.05
                    if (retried or not (last and i == count - 1) or wait > self.limits.max_retry_wait_s
                            or att.calls >= self.limits.max_attempts):
                        break
                    retried = True
                    await asyncio.sleep(wait)
                    if breaker.failures < breaker.threshold:  # only Retry-After held it
                        breaker.open_until = min(breaker.open_until, self.clock())
                    continue
                breaker.success()
                return result
        return None

    async def run(self, plan: Plan, endpoint: str, payload: dict[str, Any], input_estimate: int,
                  att: Attempts, caller: Caller | None = None) -> Answer:
        """Serve a non-streaming request (or a streaming one that must be verified before it is sent).

        ``caller(upstream, price, model)`` makes each call when given (other client APIs); ``payload`` is what
        verifiers see.
        """
        last_answer: Answer | None = None
        last_reason = ""
        targets = plan.targets
        for n, target in enumerate(targets):
            def attempt(upstream: Upstream, price: Price, model: str = target.model) -> Awaitable[Answer]:
                if caller is not None:
                    return caller(upstream, price, model)
                return call(self.transport, upstream, model, endpoint, payload, price, input_estimate)

            answer = await self.try_target(target, att, n == len(targets) - 1, attempt)
            if answer is None:
                continue
            att.bill(answer.cost, answer.usage, answer.estimated, answer.usage_invalid)
            if not plan.verifiers:
                return answer
            reason = await run_verifiers(plan.verifiers, answer.text, payload)
            att.verdicts.append((target.model, reason is None, answer.cost))
            if reason is None:
                return answer
            att.escalations += 1
            att.errors.append(f"{target.model}: rejected by {reason}")
            self.metrics.escalation(plan.name)
            last_answer, last_reason = answer, reason
        if last_answer is not None:
            if plan.on_exhausted == "last":
                att.verified = False
                return last_answer
            raise GatewayError(502, f"no model's answer passed the checks of {plan.name!r} (last: {last_reason})",
                               type="server_error", code="verification_failed")
        raise final_error(att, plan.name)


__all__ = ["Attempts", "Executor", "StallWatch", "final_error"]
