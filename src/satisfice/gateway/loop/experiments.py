"""Guarded experiments at serving time: a bounded share of a route's requests goes to cheaper challengers.

For a route with ``experiment:``, :meth:`Experiments.choose` (one dict lookup for other routes) sends request
number ``n`` to a running challenger only while ``explored + 1 <= max_share * n`` on this instance, so the share
never exceeds ``max_share`` by more than one request per instance. A challenger's plan is the route's own plan
with the challenger asked first: the route's verifiers and fallbacks still guard the answer, and its worst case
is what the key's budget reserves, so exploration is charged to keys like any request. Challengers take turns.

Every ``check_s`` each instance syncs with the store (:func:`satisfice.gateway.loop.experiment_store.sync_route`):
its counts go in, decisions come out. A promoted challenger takes the incumbent's place at the head of the
route's plan on every instance (at its next sync, and at start, so a promotion survives restarts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from satisfice.core import Price
from satisfice.gateway.loop.background import cancel
from satisfice.gateway.loop.experiment_store import RouteSpec, sync_route
from satisfice.gateway.routes.config import GatewayConfig
from satisfice.gateway.routes.loop_config import ExperimentConfig
from satisfice.gateway.routes.plan import Plan, Target, replan
from satisfice.gateway.routes.router import Router
from satisfice.store import Store

log = logging.getLogger("satisfice.gateway")
INPUT_SHARE = 0.75
"""Blended price weight of input tokens (the 3:1 convention) when comparing challengers with the incumbent."""


def blended(price: Price) -> float:
    """USD per million tokens at the 3:1 input:output convention."""
    return INPUT_SHARE * price.input_per_m + (1.0 - INPUT_SHARE) * price.output_per_m


@dataclass(slots=True)
class Arm:
    """One challenger on this instance: its plan, state, and counts not yet added to the store."""

    model: str
    price: float
    plan: Plan | None = None
    state: str = "running"
    requests: int = 0
    spend: float = 0.0


@dataclass(slots=True)
class RouteExperiment:
    """One route's experiment on this instance."""

    route: str
    config: ExperimentConfig
    arms: dict[str, Arm] = field(default_factory=dict)
    incumbent: str = ""
    incumbent_price: float = 0.0
    running: list[Arm] = field(default_factory=list)
    promoted: Plan | None = None
    promoted_model: str | None = None
    base: Plan | None = None
    seen: int = 0
    explored: int = 0
    turn: int = 0

    def bind(self, base: Plan, router: Router) -> None:
        """Build the challengers' plans on the route's current plan."""
        self.base = base
        head = base.targets[0]
        self.incumbent, self.incumbent_price = head.model, blended(head.worst)
        for model in self.config.challengers:
            target = _target(router, model)
            arm = self.arms.setdefault(model, Arm(model, blended(target.worst)))
            arm.price = blended(target.worst)
            arm.plan = replan(base, [target, *(t for t in base.targets if t.model != model)])
        self.apply(self.promoted_model, router)

    def apply(self, promoted: str | None, router: Router) -> None:
        """Take a promotion (or none) from the store: the plan served first, and the challengers still running."""
        self.running = [a for a in self.arms.values() if a.state == "running" and a.price < self.incumbent_price]
        self.promoted_model = promoted
        if promoted is None or self.base is None:
            self.promoted = None
            return
        target = _target(router, promoted)
        self.promoted = replan(self.base, [target, *(t for t in self.base.targets if t.model != promoted)])

    def pick(self, plan: Plan) -> Plan:
        """The plan for this request: a challenger's (within the share), the promoted one, or ``plan``."""
        self.seen += 1
        running = self.running
        if running and self.explored + 1 <= self.config.max_share * self.seen:
            self.explored += 1
            self.turn += 1
            arm = running[self.turn % len(running)]
            assert arm.plan is not None
            return arm.plan
        if self.promoted is not None and plan is self.base:
            return self.promoted
        return plan

    def spec(self) -> RouteSpec:
        """What the store sync needs to know."""
        return RouteSpec(self.route, self.config, self.incumbent, self.incumbent_price,
                         {m: a.price for m, a in self.arms.items()})

    def take_counts(self) -> dict[str, tuple[int, float]]:
        """Counts since the last sync (reset)."""
        counts = {m: (a.requests, a.spend) for m, a in self.arms.items()}
        for arm in self.arms.values():
            arm.requests, arm.spend = 0, 0.0
        return counts

    def give_back(self, counts: Mapping[str, tuple[int, float]]) -> None:
        """Counts a failed sync could not write: kept for the next one."""
        for model, (requests, spend) in counts.items():
            arm = self.arms[model]
            arm.requests += requests
            arm.spend += spend


def _target(router: Router, model: str) -> Target:
    plan = router.plans.get(model)
    if plan is None:
        raise KeyError(model)
    return plan.targets[0]


class Experiments:
    """Every route's experiment on this instance; syncs with the store in the background."""

    def __init__(self, config: GatewayConfig, store: Store) -> None:
        self.store = store
        self.routes = {name: RouteExperiment(name, route.experiment) for name, route in config.routes.items()
                       if route.experiment is not None}
        self._router: Router | None = None
        self._arms: dict[int, tuple[RouteExperiment, Arm]] = {}
        self._task: asyncio.Task[None] | None = None

    def bind(self, router: Router) -> None:
        """(Re)build every experiment's plans on the router's plans."""
        self._router = router
        self._arms = {}
        for name, exp in self.routes.items():
            base = router.plans.get(name)
            if base is None:
                continue
            exp.bind(base, router)
            for arm in exp.arms.values():
                if arm.plan is not None:
                    self._arms[id(arm.plan)] = (exp, arm)

    def choose(self, plan: Plan, router: Router) -> Plan:
        """The plan that serves this request (see the module docstring)."""
        exp = self.routes.get(plan.name)
        if exp is None:
            return plan
        if router is not self._router:
            self.bind(router)
        return exp.pick(plan)

    def arm_of(self, plan: Plan) -> Arm | None:
        """The challenger a plan explores, or None for every other plan."""
        found = self._arms.get(id(plan)) if self._arms else None
        return found[1] if found is not None and found[1].plan is plan else None

    async def sync(self) -> None:
        """Send counts to the store, re-test, and apply the store's decisions to this instance."""
        for exp in self.routes.values():
            if exp.base is None:
                continue
            counts = exp.take_counts()
            try:
                rows = await asyncio.to_thread(sync_route, self.store, exp.spec(), counts)
            except BaseException:
                exp.give_back(counts)
                raise
            states = {r.model: r.state for r in rows}
            for model, arm in exp.arms.items():
                arm.state = states.get(model, arm.state)
            promoted = next((r.model for r in rows if r.state == "promoted"), None)
            if promoted != exp.promoted_model:
                log.warning("gateway: %s now serves %s first (promoted by its experiment)", exp.route, promoted)
            assert self._router is not None
            exp.apply(promoted, self._router)

    async def _run(self) -> None:
        interval = min(e.config.check_s for e in self.routes.values())
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sync()
            except Exception:  # keep serving on the decisions we have; the next round tries again
                log.exception("gateway: syncing experiments failed")

    async def start(self, router: Router) -> None:
        """Bind to the router, read decisions from the store (before serving), start the background sync."""
        if not self.routes:
            return
        self.bind(router)
        await self.sync()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="satisfice-experiments")

    async def stop(self) -> None:
        """Stop the background sync and write the last counts."""
        if self._task is None:
            return
        task, self._task = self._task, None
        await cancel(task)
        try:
            await self.sync()
        except Exception:
            log.exception("gateway: last experiment sync failed")


__all__ = ["Arm", "Experiments", "RouteExperiment", "blended"]
