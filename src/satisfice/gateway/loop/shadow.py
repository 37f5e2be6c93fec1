"""Shadow checks for drift: a share of a route's answered requests is also sent to the route's reference model.

The check runs in the background after the client has its answer (it never delays a response), at most
``shadow_max_in_flight`` at a time (beyond that a check is skipped and counted). Agreement between the served
answer and the reference's answer is scored with the task's scorer (the reference answer as the target), or by
exact or normalized text match (case, surrounding whitespace and trailing punctuation ignored). Requests already
answered by the reference itself are not shadowed. Each check becomes one ``gateway_shadow`` row with the
route's threshold, which ``satisfice gateway report`` compares agreement with.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from satisfice.core import Completion
from satisfice.gateway.loop.outcomes import OutcomeLog, outcome_row
from satisfice.gateway.money.keys import utcnow
from satisfice.gateway.money.spendlog import SpendLog
from satisfice.gateway.observability.metrics import GatewayMetrics
from satisfice.gateway.routes.cascade import Attempts, Executor
from satisfice.gateway.routes.plan import Plan, ShadowPlan
from satisfice.gateway.routes.verifiers import request_fields
from satisfice.gateway.wire.upstream import Answer, Upstream, call, describe

log = logging.getLogger("satisfice.gateway")
_PUNCT = " \t\n\r.!?;:,\"'`"


def normalize(text: str) -> str:
    """Text for a normalized comparison: case-folded, whitespace collapsed, trailing punctuation dropped."""
    return " ".join(text.casefold().split()).strip(_PUNCT)


async def agreement(shadow: ShadowPlan, payload: dict[str, Any], served: str, reference: str) -> float:
    """Agreement of the served answer with the reference's, in [0, 1]."""
    if shadow.compare == "exact":
        return 1.0 if served == reference else 0.0
    if shadow.compare == "scorer" and shadow.scorer is not None:
        from satisfice.tasks.datasets import Sample

        sample = Sample(id="shadow", fields=request_fields(payload), target=reference)
        score = await shadow.scorer(sample, Completion(text=served))
        return float(score.value)
    return 1.0 if normalize(served) == normalize(reference) else 0.0


class ShadowRunner:
    """Samples requests and runs their shadow checks in background tasks."""

    def __init__(self, executor: Executor, spend_log: SpendLog, metrics: GatewayMetrics, *, max_in_flight: int,
                 rng: Callable[[], float] = random.random) -> None:
        self.executor = executor
        self.spend_log = spend_log
        self.metrics = metrics
        self.max_in_flight = max_in_flight
        self.rng = rng
        self.tasks: set[asyncio.Task[None]] = set()
        self.outcomes: OutcomeLog | None = None
        """Where agreements are also recorded as ``shadow`` outcomes of the request (when set)."""

    def maybe(self, plan: Plan, endpoint: str, payload: dict[str, Any], served_model: str, served_text: str,
              input_estimate: int, *, request_id: str | None = None, force: bool = False) -> None:
        """Start a shadow check for this request if the route shadows and the draw (or ``force``) says so."""
        shadow = plan.shadow
        if shadow is None or served_model == shadow.reference.model or (not force and self.rng() >= shadow.share):
            return
        if len(self.tasks) >= self.max_in_flight:
            self.metrics.shadow(plan.name, "skipped")
            return
        task = asyncio.get_running_loop().create_task(
            self._run(plan, shadow, endpoint, payload, served_model, served_text, input_estimate,
                      (request_id, force)))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, plan: Plan, shadow: ShadowPlan, endpoint: str, payload: dict[str, Any], served_model: str,
                   served_text: str, input_estimate: int, request: tuple[str | None, bool] = (None, False)) -> None:
        started = time.perf_counter()
        att = Attempts()
        row: dict[str, Any] = {"created_at": utcnow(), "route": plan.name, "served_model": served_model,
                               "reference_model": shadow.reference.model, "method": shadow.compare,
                               "threshold": shadow.threshold, "agreement": None, "cost_usd": 0.0, "error": None}
        try:
            def attempt(upstream: Upstream, price: Any) -> Any:
                return call(self.executor.transport, upstream, shadow.reference.model, endpoint, payload, price,
                            input_estimate)

            answer: Answer | None = await self.executor.try_target(shadow.reference, att, True, attempt)
            if answer is None:
                row["error"] = "; ".join(att.errors[-3:]) or "reference model unavailable"
                self.metrics.shadow(plan.name, "error")
            else:
                row["cost_usd"] = answer.cost
                value = await agreement(shadow, payload, served_text, answer.text)
                row["agreement"] = value
                if request[0] is not None and self.outcomes is not None:
                    self.outcomes.add(outcome_row(request[0], None, plan.name, served_model, "shadow", value,
                                                  experiment=request[1]))
                self.metrics.shadow(plan.name, "agree" if value >= 0.5 else "disagree")
        except Exception as exc:  # a shadow check must never hurt serving; record why it failed
            row["error"] = describe(exc)[:300]
            self.metrics.shadow(plan.name, "error")
            log.warning("shadow check for %s failed: %s", plan.name, row["error"])
        row["latency_ms"] = (time.perf_counter() - started) * 1000.0
        self.spend_log.add_shadow(row)

    async def drain(self, timeout_s: float) -> None:
        """Wait for running checks (up to ``timeout_s``), then cancel the rest."""
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


__all__ = ["ShadowRunner", "agreement", "normalize"]
