"""What ``/gateway`` shows: per route and per key over time, aggregated in the database.

Three grouped queries (spend by route and time bucket, spend by key, shadow checks by route and time bucket) and
one over the keys; totals per route are sums of the buckets, so the figures equal ``satisfice gateway report``
for the same period (same failure, escalation, savings and flag rules: :mod:`satisfice.gateway.report`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select

from satisfice.evals.stats import clopper_pearson
from satisfice.gateway.keys import period_start
from satisfice.gateway.report import FLAG_RULE, flag_for
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewayKey, GatewayShadow, GatewaySpend
from satisfice.web import charts
from satisfice.web.params import Params

WINDOWS = ("1", "7", "30", "90", "all")
CONFIDENCE = 0.95


def _bucket(dialect: str, created: Any, hourly: bool) -> ColumnElement[str]:
    """The UTC hour or day of a timestamp as text (``YYYY-MM-DD`` or ``YYYY-MM-DD HH:00``)."""
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff'
        return (func.substr(created, 1, 13) + literal(":00")) if hourly else func.substr(created, 1, 10)
    return func.to_char(created, "YYYY-MM-DD HH24:00" if hourly else "YYYY-MM-DD")


def _spend_by_route(store: Store, since: dt.datetime | None, hourly: bool) -> list[Any]:
    sp = GatewaySpend
    bucket = _bucket(store.dialect, sp.created_at, hourly).label("bucket")
    failed = case((sp.status >= 400, 1), (sp.outcome == "interrupted", 1), else_=0)
    q = select(sp.route, bucket, func.count().label("n"), func.sum(failed).label("errors"),
               func.sum(case((sp.escalations > 0, 1), else_=0)).label("escalated"),
               func.coalesce(func.sum(sp.cost_usd), 0.0).label("cost"),
               func.count(sp.reference_cost_usd).label("n_ref"),
               func.coalesce(func.sum(sp.reference_cost_usd), 0.0).label("ref_cost"),
               func.coalesce(func.sum(case((sp.reference_cost_usd.is_not(None), sp.cost_usd), else_=0.0)),
                             0.0).label("cost_with_ref")).group_by(sp.route, bucket)
    if since is not None:
        q = q.where(sp.created_at >= since)
    with store.session() as s:
        return list(s.execute(q))


def _shadow_by_route(store: Store, since: dt.datetime | None, hourly: bool) -> list[Any]:
    sh = GatewayShadow
    bucket = _bucket(store.dialect, sh.created_at, hourly).label("bucket")
    q = select(sh.route, bucket, func.count().label("checks"), func.count(sh.agreement).label("scored"),
               func.coalesce(func.sum(sh.agreement), 0.0).label("agree"), func.max(sh.threshold).label("threshold"),
               func.coalesce(func.sum(sh.cost_usd), 0.0).label("cost")).group_by(sh.route, bucket)
    if since is not None:
        q = q.where(sh.created_at >= since)
    with store.session() as s:
        return list(s.execute(q))


def _keys(store: Store, since: dt.datetime | None, now: dt.datetime) -> list[dict[str, Any]]:
    sp = GatewaySpend
    starts = {p: period_start(p, now) for p in ("day", "week", "month")}
    window = sp.created_at >= since if since is not None else literal(True)
    cols = [func.sum(case((window, 1), else_=0)).label("n"),
            func.coalesce(func.sum(case((window, sp.cost_usd), else_=0.0)), 0.0).label("cost"),
            func.sum(case((window & (sp.status >= 400), 1), else_=0)).label("errors"),
            func.coalesce(func.sum(sp.cost_usd), 0.0).label("total")]
    cols += [func.coalesce(func.sum(case((sp.created_at >= start, sp.cost_usd), else_=0.0)), 0.0).label(p)
             for p, start in starts.items()]
    q = select(sp.key_id, *cols).group_by(sp.key_id)
    with store.session() as s:
        spend = {r.key_id: r for r in s.execute(q)}
        keys = list(s.scalars(select(GatewayKey).order_by(GatewayKey.created_at)))
    out = []
    for k in keys:
        r = spend.pop(k.id, None)
        in_period = float(getattr(r, k.period) if r is not None and k.period in starts else (r.total if r else 0.0))
        out.append({"key": k.id, "name": k.name, "prefix": k.prefix, "period": k.period, "budget_usd": k.budget_usd,
                    "revoked": k.revoked_at is not None, "requests": int(r.n or 0) if r else 0,
                    "spend_usd": float(r.cost) if r else 0.0, "errors": int(r.errors or 0) if r else 0,
                    "period_spend_usd": in_period,
                    "budget_used": in_period / k.budget_usd if k.budget_usd else None})
    for key_id, r in spend.items():  # pass-through traffic (no key) or keys since deleted
        if r.n:
            out.append({"key": key_id, "name": "(no key)" if key_id is None else "(unknown key)", "prefix": None,
                        "period": None, "budget_usd": None, "revoked": False, "requests": int(r.n),
                        "spend_usd": float(r.cost), "errors": int(r.errors or 0), "period_spend_usd": None,
                        "budget_used": None})
    return out


def _route_totals(spend: list[Any], shadow: list[Any]) -> list[dict[str, Any]]:
    tot: dict[str, list[float]] = defaultdict(lambda: [0.0] * 7)
    for r in spend:
        acc = tot[r.route]
        for i, v in enumerate((r.n, r.errors, r.escalated, r.cost, r.n_ref, r.ref_cost, r.cost_with_ref)):
            acc[i] += float(v or 0)
    sh: dict[str, list[float]] = defaultdict(lambda: [0.0] * 4)
    thresholds: dict[str, float] = {}
    for r in shadow:
        acc = sh[r.route]
        for i, v in enumerate((r.checks, r.scored, r.agree, r.cost)):
            acc[i] += float(v or 0)
        if r.threshold is not None:
            thresholds[r.route] = max(thresholds.get(r.route, r.threshold), r.threshold)
    routes = []
    for route in sorted(set(tot) | set(sh), key=lambda x: (not x.startswith("task/"), x)):
        n, errors, esc, cost, n_ref, ref_cost, cost_with_ref = tot.get(route, [0.0] * 7)
        checks, scored, agree, shadow_cost = sh.get(route, [0.0] * 4)
        threshold = thresholds.get(route)
        agreement = low = high = None
        if scored:
            agreement = agree / scored
            low, high = clopper_pearson(agree, int(scored), CONFIDENCE)
        reference = ref_cost if n_ref else None
        routes.append({
            "route": route, "requests": int(n), "errors": int(errors), "error_rate": errors / n if n else 0.0,
            "escalated": int(esc), "escalation_rate": esc / n if n else 0.0, "spend_usd": cost,
            "reference_cost_usd": reference,
            "savings_usd": reference - cost_with_ref if reference is not None else None,
            "shadow_checks": int(checks), "shadow_scored": int(scored), "agreement": agreement,
            "agreement_low": low, "agreement_high": high, "threshold": threshold, "shadow_spend_usd": shadow_cost,
            "flag": flag_for(agreement, high, threshold)})
    return routes


def _series(spend: list[Any], shadow: list[Any], route: str | None) -> dict[str, Any]:
    by: dict[str, list[float]] = defaultdict(lambda: [0.0] * 6)
    for r in spend:
        if route is None or r.route == route:
            acc = by[r.bucket]
            for i, v in enumerate((r.n, r.cost, r.ref_cost, r.cost_with_ref, r.escalated, r.errors)):
                acc[i] += float(v or 0)
    agree: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in shadow:
        if route is None or r.route == route:
            agree[r.bucket][0] += float(r.agree)
            agree[r.bucket][1] += r.scored
    buckets = sorted(set(by) | set(agree))
    rows = []
    for b in buckets:
        n, cost, ref, cost_ref, esc, err = by[b] if b in by else [0.0] * 6
        a, scored = agree[b] if b in agree else (0.0, 0.0)
        rows.append({"bucket": b, "requests": int(n), "spend_usd": cost, "reference_cost_usd": ref,
                     "savings_usd": ref - cost_ref, "escalation_rate": esc / n if n else None,
                     "error_rate": err / n if n else None, "agreement": a / scored if scored else None,
                     "shadow_scored": int(scored)})
    return {"rows": rows}


def gateway(store: Store, p: Params, now: dt.datetime | None = None) -> dict[str, Any]:
    """The gateway page: per-route totals, time series (optionally for one route), keys and budgets."""
    window = p.choice("days", WINDOWS, "30")
    route = p.text("route")
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    since = None if window == "all" else now - dt.timedelta(days=int(window))
    hourly = window == "1"
    spend = _spend_by_route(store, since, hourly)
    shadow = _shadow_by_route(store, since, hourly)
    routes = _route_totals(spend, shadow)
    series = _series(spend, shadow, route)
    keys = _keys(store, since, now)
    rows = series["rows"]
    x = [r["bucket"] for r in rows]
    label = route or "all routes"
    figs = {
        "requests": charts.time_series_figure(f"Requests per {'hour' if hourly else 'day'} ({label})", x,
                                              {"requests": [r["requests"] for r in rows]}, "requests", "bar"),
        "spend": charts.time_series_figure(f"Spend vs what the reference would have cost ({label})", x, {
            "spend": [r["spend_usd"] for r in rows], "reference cost": [r["reference_cost_usd"] for r in rows],
            "savings": [r["savings_usd"] for r in rows]}, "USD"),
        "rates": charts.time_series_figure(f"Escalation, error and shadow agreement rates ({label})", x, {
            "escalation rate": [r["escalation_rate"] for r in rows], "error rate": [r["error_rate"] for r in rows],
            "shadow agreement": [r["agreement"] for r in rows]}, "share of requests / checks"),
    }
    return {"data": {"window_days": window, "since": since.isoformat(timespec="seconds") if since else None,
                     "bucket": "hour" if hourly else "day", "route": route, "confidence": CONFIDENCE,
                     "flag_rule": FLAG_RULE, "routes": routes, "series": rows, "keys": keys,
                     "empty": not routes and not keys}, "charts": figs}
