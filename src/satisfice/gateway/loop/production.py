"""The production loop of one gateway: feedback, outcomes, content logging, guarded experiments and drift alarms.

The request path calls three hooks: :meth:`ProductionLoop.choose` (the experiment's plan for a request),
:meth:`ProductionLoop.finished` (once per admitted request, with its spend row: verifier verdicts become outcomes,
exploration is counted) and :meth:`ProductionLoop.served` (an answer released: shadow check, content log).
Routes without feedback labels, content logging or an experiment pay a dict lookup or two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from satisfice.gateway.loop.drift import DriftMonitor
from satisfice.gateway.loop.experiments import Experiments
from satisfice.gateway.loop.feedback import FeedbackEndpoint
from satisfice.gateway.loop.host import AdmittedRequest, Host
from satisfice.gateway.loop.outcomes import OutcomeLog, outcome_row
from satisfice.gateway.routes.plan import Plan
from satisfice.gateway.wire.replies import GatewayError


class ProductionLoop:
    """Outcome log, experiments and the feedback endpoint of one gateway (see the module docstring)."""

    def __init__(self, gw: Host, unauthorized: Callable[..., GatewayError]) -> None:
        self.gw = gw
        routes = gw.config.routes
        self.outcomes = OutcomeLog(gw.store, flush_interval_s=gw.config.spend_log.flush_interval_s)
        self.experiments = Experiments(gw.config, gw.store)
        self.drift = DriftMonitor(gw.config, gw.store)
        if self.drift.routes:
            gw.metrics.registry.register(self.drift)
        self.content_routes = {name for name, r in routes.items() if r.log_content}
        self.shadow_evidence = {name for name, r in routes.items()
                                if r.experiment is not None and "shadow" in r.experiment.evidence}
        labels = {name: dict(r.feedback.labels) for name, r in routes.items() if r.feedback is not None}
        self.feedback = FeedbackEndpoint(gw, labels, unauthorized)
        gw.shadow.outcomes = self.outcomes

    def choose(self, plan: Plan) -> Plan:
        """The plan that serves this request: a challenger's, the promoted one, or ``plan``."""
        if not self.experiments.routes or not plan.is_route:
            return plan
        return self.experiments.choose(plan, self.gw.router)

    def finished(self, ctx: AdmittedRequest, request_id: str) -> None:
        """Count exploration and record verifier verdicts of one admitted request (called by its ``finish``)."""
        arm = self.experiments.arm_of(ctx.plan) if self.experiments.routes else None
        if arm is not None:
            arm.requests += 1
            arm.spend += ctx.att.cost
        verdicts = ctx.att.verdicts
        if verdicts:
            key_id = ctx.key.id if ctx.key is not None else None
            for model, passed, cost in verdicts:
                self.outcomes.add(outcome_row(request_id, key_id, ctx.plan.name, model, "verifier",
                                              1.0 if passed else 0.0, cost_usd=cost,
                                              experiment=arm is not None and model == arm.model))

    def served(self, ctx: AdmittedRequest, model: str, text: str, cost: float, endpoint: str | None = None,
               payload: dict[str, Any] | None = None) -> None:
        """An answer was released: maybe shadow it, maybe log its content.

        ``endpoint``/``payload``: the chat form of a request that came in by another API (default: the request's).
        """
        plan = ctx.plan
        endpoint, payload = endpoint or ctx.endpoint, payload if payload is not None else ctx.payload
        force = plan.name in self.shadow_evidence and self.experiments.arm_of(plan) is not None
        self.gw.shadow.maybe(plan, endpoint, payload, model, text, ctx.input_estimate,
                             request_id=ctx.request_id, force=force)
        if plan.name in self.content_routes:
            self.outcomes.content(ctx.request_id, plan.name, model, payload, text, cost, self.gw.secrets())

    async def start(self) -> None:
        """Start the outcome writer and the experiments (their decisions are read before serving)."""
        self.outcomes.start()
        await self.experiments.start(self.gw.router)
        self.drift.start()

    async def stop(self) -> None:
        """Write the last outcomes, then the last counts (so the final test sees every outcome)."""
        await self.drift.stop()
        await self.outcomes.stop()
        await self.experiments.stop()


__all__ = ["ProductionLoop"]
