"""``satisfice gateway report``: per route, from the spend log and shadow checks in the store.

For each route (or pass-through model): requests, spend, what the route's reference model would have cost for
the same tokens (and so the savings), escalation rate, error rate, and shadow agreement with its
Clopper-Pearson interval; and, per route and per upstream, how many requests had an upstream report a usage that
failed the checks (``usage_invalid``: billed an estimate instead) and how many cost more than their reservation
(``over_reservation``).

Flag rule (decided here, stated in the output): a route is flagged ``below`` when the *upper* bound of its
agreement interval is under its threshold — the checks show, at the stated confidence, that agreement has
fallen below the bar. It is flagged ``watch`` when only the point estimate is under the threshold (a hint that
needs more shadow checks to confirm). Routes with no scored shadow checks are not flagged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from satisfice.gateway.observability.spend_totals import spend_totals
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewayJournalIncident, GatewayShadow, GatewaySpend

FLAG_RULE = ("below: the upper bound of the agreement interval is under the threshold; "
             "watch: only the point estimate is under it")


@dataclass(frozen=True)
class RouteReport:
    """What one route did over the period."""

    route: str
    requests: int
    errors: int
    error_rate: float
    escalated: int
    escalation_rate: float
    spend_usd: float
    reference_cost_usd: float | None
    savings_usd: float | None
    input_tokens: int
    output_tokens: int
    shadow_checks: int
    shadow_scored: int
    agreement: float | None
    agreement_low: float | None
    agreement_high: float | None
    threshold: float | None
    shadow_spend_usd: float
    flag: str | None
    usage_invalid: int = 0
    over_reservation: int = 0


@dataclass(frozen=True)
class UpstreamReport:
    """What one upstream answered over the period, and how often its usage could not be billed as reported."""

    upstream: str
    requests: int
    spend_usd: float
    usage_invalid: int
    over_reservation: int


@dataclass(frozen=True)
class JournalIncident:
    """A damaged or lost journal found at replay (``quarantined``, ``gap`` or ``missing``)."""

    created_at: dt.datetime
    instance_id: str
    kind: str
    records: int
    detail: str


@dataclass(frozen=True)
class GatewayReport:
    """The report: period, confidence, the flag rule and one entry per route."""

    since: dt.datetime | None
    confidence: float
    flag_rule: str
    routes: list[RouteReport]
    upstreams: list[UpstreamReport]
    journal_records_quarantined: int = 0
    """Journal records found invalid at replay, set aside and never credited."""
    journal_records_lost: int = 0
    """Journal lines found missing at replay (gaps, deleted or truncated journals): rows not in the store."""
    journal_incidents: list[JournalIncident] = field(default_factory=list)


def flag_for(agreement: float | None, high: float | None, threshold: float | None) -> str | None:
    """``below``, ``watch`` or None (see the module docstring)."""
    if agreement is None or high is None or threshold is None:
        return None
    if high < threshold:
        return "below"
    if agreement < threshold:
        return "watch"
    return None


def gateway_report(store: Store, *, since: dt.datetime | None = None, confidence: float = 0.95) -> GatewayReport:
    """Aggregate the spend log and shadow checks per route (in SQL; nothing is loaded row by row)."""
    from satisfice.evals.stats import clopper_pearson

    spend_q = select(
        GatewaySpend.route, *spend_totals(), func.coalesce(func.sum(GatewaySpend.input_tokens), 0),
        func.coalesce(func.sum(GatewaySpend.output_tokens), 0),
    ).group_by(GatewaySpend.route)
    upstream_q = select(GatewaySpend.upstream, *spend_totals()).where(GatewaySpend.upstream.is_not(None)).group_by(
        GatewaySpend.upstream)
    shadow_q = select(
        GatewayShadow.route, func.count(), func.count(GatewayShadow.agreement),
        func.coalesce(func.sum(GatewayShadow.agreement), 0.0), func.max(GatewayShadow.threshold),
        func.coalesce(func.sum(GatewayShadow.cost_usd), 0.0),
    ).group_by(GatewayShadow.route)
    if since is not None:
        spend_q = spend_q.where(GatewaySpend.created_at >= since)
        shadow_q = shadow_q.where(GatewayShadow.created_at >= since)
        upstream_q = upstream_q.where(GatewaySpend.created_at >= since)
    with store.session() as s:
        spend: dict[str, tuple[Any, ...]] = {row[0]: tuple(row[1:]) for row in s.execute(spend_q)}
        shadow: dict[str, tuple[Any, ...]] = {row[0]: tuple(row[1:]) for row in s.execute(shadow_q)}
        upstreams = [UpstreamReport(str(u), int(n), float(c), int(i), int(o))
                     for u, n, _, _, c, _, _, _, i, o in s.execute(upstream_q.order_by(GatewaySpend.upstream))]
        incident_q = select(GatewayJournalIncident).order_by(GatewayJournalIncident.id)
        if since is not None:
            incident_q = incident_q.where(GatewayJournalIncident.created_at >= since)
        incidents = [JournalIncident(i.created_at, i.instance_id, i.kind, i.records, i.detail)
                     for i in s.scalars(incident_q)]
    routes: list[RouteReport] = []
    for route in sorted(set(spend) | set(shadow), key=lambda r: (not r.startswith("task/"), r)):
        n, errors, escalated, cost, n_ref, ref_cost, cost_with_ref, n_invalid, n_over, tin, tout = spend.get(
            route, (0, 0, 0, 0.0, 0, 0.0, 0.0, 0, 0, 0, 0))
        checks, scored, agree_sum, threshold, shadow_cost = shadow.get(route, (0, 0, 0.0, None, 0.0))
        agreement: float | None = None
        low: float | None = None
        high: float | None = None
        if scored:
            agreement = float(agree_sum) / scored
            low, high = clopper_pearson(float(agree_sum), int(scored), confidence)
        reference = float(ref_cost) if n_ref else None
        routes.append(RouteReport(
            route=route, requests=int(n), errors=int(errors or 0), error_rate=(errors or 0) / n if n else 0.0,
            escalated=int(escalated or 0), escalation_rate=(escalated or 0) / n if n else 0.0,
            spend_usd=float(cost), reference_cost_usd=reference,
            savings_usd=reference - float(cost_with_ref) if reference is not None else None,
            input_tokens=int(tin), output_tokens=int(tout), shadow_checks=int(checks), shadow_scored=int(scored),
            agreement=agreement, agreement_low=low, agreement_high=high,
            threshold=float(threshold) if threshold is not None else None, shadow_spend_usd=float(shadow_cost),
            flag=flag_for(agreement, high, float(threshold) if threshold is not None else None),
            usage_invalid=int(n_invalid or 0), over_reservation=int(n_over or 0)))
    return GatewayReport(
        since=since, confidence=confidence, flag_rule=FLAG_RULE, routes=routes, upstreams=upstreams,
        journal_records_quarantined=sum(i.records for i in incidents if i.kind == "quarantined"),
        journal_records_lost=sum(i.records for i in incidents if i.kind != "quarantined"),
        journal_incidents=incidents)


__all__ = ["FLAG_RULE", "GatewayReport", "JournalIncident", "RouteReport", "UpstreamReport", "flag_for",
           "gateway_report"]
