"""The store side of guarded experiments: challenger rows, their evidence, and decisions every instance shares.

:func:`sync_route` runs in a worker thread, in one transaction: it (re)creates the rows of a route's challengers,
adds the requests and spend this instance counted since its last sync, re-tests every running challenger on the
outcomes stored since its experiment started (:func:`satisfice.gateway.loop.sequential.judge`), applies the
decisions and returns the route's rows. States only move forward (``running`` to ``promoted`` or ``stopped``; a
promoted challenger is stopped only when a cheaper one is promoted), so instances deciding at the same time on
the same evidence agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import false, select, update
from sqlalchemy.orm import Session

from satisfice.gateway.loop.outcomes import best_scores
from satisfice.gateway.loop.sequential import judge
from satisfice.gateway.money.keys import utcnow
from satisfice.gateway.routes.loop_config import ExperimentConfig
from satisfice.store import Store
from satisfice.store.schema_outcomes import GatewayExperiment, GatewayOutcome


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """What one instance knows of a route's experiment: its config, incumbent and prices (USD per M, blended)."""

    route: str
    config: ExperimentConfig
    incumbent: str
    incumbent_price: float
    prices: Mapping[str, float]


def evidence(session: Session, route: str, model: str, row: GatewayExperiment, kinds: list[str]) -> list[float]:
    """One score per scored request since the experiment started, in order of arrival.

    When a request has several kinds of outcome, the highest in :data:`EVIDENCE_PRIORITY` stands for it.
    """
    rows = session.execute(
        select(GatewayOutcome.request_id, GatewayOutcome.kind, GatewayOutcome.score)
        .where(GatewayOutcome.route == route, GatewayOutcome.model == model,
               GatewayOutcome.created_at >= row.started_at, GatewayOutcome.superseded.is_(False),
               GatewayOutcome.kind.in_(kinds))
        .order_by(GatewayOutcome.id)).all()
    return list(best_scores((r[0], r[1], r[2]) for r in rows).values())  # in the order requests first scored


def _fresh(spec: RouteSpec, model: str) -> GatewayExperiment:
    cheaper = spec.prices.get(model, float("inf")) < spec.incumbent_price
    return GatewayExperiment(route=spec.route, model=model, incumbent=spec.incumbent, bar=spec.config.bar,
                             confidence=spec.config.confidence, state="running" if cheaper else "stopped",
                             reason="" if cheaper else "not cheaper than the incumbent", started_at=utcnow(),
                             decided_at=None if cheaper else utcnow(), requests=0, scored=0, accuracy=None,
                             ci_low=0.0, ci_high=1.0, spend_usd=0.0)


def _decide(spec: RouteSpec, rows: dict[str, GatewayExperiment], cleared: set[str]) -> None:
    """Promote the cheapest challenger that cleared (or stays promoted); stop those it makes pointless."""
    price = spec.prices.get
    winners = [m for m, r in rows.items() if r.state == "promoted" or m in cleared]
    if not winners:
        return
    best = min(winners, key=lambda m: (price(m, float("inf")), m))
    now = utcnow()
    for model, row in rows.items():
        if model == best:
            if row.state != "promoted":
                row.state, row.decided_at, row.reason = "promoted", now, row.reason or "cleared the bar"
        elif row.state == "promoted" or (row.state == "running" and price(model, 0.0) >= price(best, 0.0)):
            row.state, row.decided_at, row.reason = "stopped", now, f"{best} is cheaper and was promoted"


def sync_route(store: Store, spec: RouteSpec, counted: Mapping[str, tuple[int, float]]) -> list[GatewayExperiment]:
    """Add this instance's counts, re-test running challengers, write decisions; the route's rows after."""
    cfg = spec.config
    cheaper = [m for m in cfg.challengers if spec.prices.get(m, float("inf")) < spec.incumbent_price]
    alpha = (1.0 - cfg.confidence) / max(1, len(cheaper))  # Bonferroni over the challengers tested
    with store.transaction() as session:
        # A write first: SQLite takes its write lock here, so instances syncing at once queue up rather than
        # both reading and then failing to upgrade to writers.
        session.execute(update(GatewayExperiment).where(GatewayExperiment.route == spec.route, false())
                        .values(requests=GatewayExperiment.requests))
        found = {r.model: r for r in session.scalars(select(GatewayExperiment).where(
            GatewayExperiment.route == spec.route))}
        rows: dict[str, GatewayExperiment] = {}
        for model in cfg.challengers:
            row = found.get(model)
            if row is None or row.bar != cfg.bar or row.confidence != cfg.confidence or (
                    row.incumbent != spec.incumbent and row.state != "promoted"):
                if row is not None:
                    session.delete(row)
                    session.flush()
                row = _fresh(spec, model)
                session.add(row)
            rows[model] = row
        session.flush()
        for model, (requests, spend) in counted.items():
            if model in rows and (requests or spend):
                session.execute(update(GatewayExperiment).where(
                    GatewayExperiment.route == spec.route, GatewayExperiment.model == model).values(
                    requests=GatewayExperiment.requests + requests, spend_usd=GatewayExperiment.spend_usd + spend))
        for row in rows.values():
            session.refresh(row)
        cleared: set[str] = set()
        for model, row in rows.items():
            if row.state != "running":
                continue
            verdict = judge(evidence(session, spec.route, model, row, list(cfg.evidence)), cfg.bar, alpha,
                            cfg.horizon)
            row.scored, row.accuracy, row.ci_low, row.ci_high = (verdict.scored, verdict.accuracy, verdict.ci_low,
                                                                 verdict.ci_high)
            if verdict.decision == "promote":
                cleared.add(model)
                row.reason = verdict.reason
            elif verdict.decision == "stop":
                row.state, row.decided_at, row.reason = "stopped", utcnow(), verdict.reason
        _decide(spec, rows, cleared)
        session.flush()
        session.expunge_all()
        return list(rows.values())


def load_experiments(store: Store) -> list[GatewayExperiment]:
    """Every challenger row in the store, by route then model."""
    with store.session() as session:
        rows = list(session.scalars(select(GatewayExperiment).order_by(GatewayExperiment.route,
                                                                        GatewayExperiment.model)))
        session.expunge_all()
        return rows


__all__ = ["RouteSpec", "evidence", "load_experiments", "sync_route"]
