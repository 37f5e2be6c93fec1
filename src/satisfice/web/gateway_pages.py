"""What ``/gateway`` shows: per route and per key over time, from totals the database groups per hour.

The figures come from :class:`~satisfice.web.gateway_rollup.GatewayRollup` (grouped in SQL per route, key and
hour; only new rows are read on each page). Per-route totals over all time equal ``satisfice gateway report``:
same failure, escalation, savings and drift-flag rules (:mod:`satisfice.gateway.observability.report`). A window of
N days is the N calendar days (UTC) up to today; the last day is the last 24 hours, per hour.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from satisfice.evals.stats import clopper_pearson
from satisfice.gateway.money.keys import period_start, period_tag
from satisfice.gateway.observability.report import FLAG_RULE, flag_for
from satisfice.store.schema_gateway import GatewayKey, GatewayLedger
from satisfice.web import charts
from satisfice.web.gateway_rollup import N_SPEND, GatewayRollup, Rollup
from satisfice.web.params import BadParameter, Params

WINDOWS = ("1", "7", "30", "90", "all")
CONFIDENCE = 0.95


Buckets = Mapping[tuple[str, str], list[float]]


def _in_window(buckets: Buckets, start: str | None) -> dict[str, list[float]]:
    """Sum per route of the buckets at or after ``start`` (all when None)."""
    out: dict[str, list[float]] = {}
    for (route, bucket), values in buckets.items():
        if start is None or bucket >= start:
            acc = out.setdefault(route, [0.0] * len(values))
            for i, v in enumerate(values):
                acc[i] += v
    return out


def _route_totals(spend: dict[str, list[float]], shadow: dict[str, list[float]],
                  thresholds: Mapping[str, float]) -> list[dict[str, Any]]:
    routes = []
    for route in sorted(set(spend) | set(shadow), key=lambda x: (not x.startswith("task/"), x)):
        n, errors, esc, cost, n_ref, ref_cost, cost_with_ref, invalid, over = spend.get(route, [0.0] * N_SPEND)
        checks, scored, agree, shadow_cost = shadow.get(route, [0.0] * 4)
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
            "flag": flag_for(agreement, high, threshold), "usage_invalid": int(invalid),
            "over_reservation": int(over)})
    return routes


def _series(spend: Mapping[tuple[Any, str], list[float]], shadow: Buckets, start: str | None,
            route: str | None) -> list[dict[str, Any]]:
    """Totals per time bucket of one route or key (``route``; None: all), with shadow agreement per route."""
    by: dict[str, list[float]] = defaultdict(lambda: [0.0] * N_SPEND)
    agree: dict[str, list[float]] = defaultdict(lambda: [0.0] * 4)
    for table, target in ((spend, by), (shadow, agree)):
        for (r, bucket), values in table.items():
            if (route is None or r == route) and (start is None or bucket >= start):
                acc = target[bucket]
                for i, v in enumerate(values):
                    acc[i] += v
    rows = []
    for b in sorted(set(by) | set(agree)):
        n, err, esc, cost, _, ref, cost_ref, _, _ = by[b] if b in by else [0.0] * N_SPEND
        _, scored, a, _ = agree[b] if b in agree else [0.0] * 4
        rows.append({"bucket": b + ":00" if len(b) == 13 else b, "requests": int(n), "spend_usd": cost,
                     "reference_cost_usd": ref, "savings_usd": ref - cost_ref,
                     "escalation_rate": esc / n if n else None, "error_rate": err / n if n else None,
                     "agreement": a / scored if scored else None, "shadow_scored": int(scored)})
    return rows


def _keys(keys: list[GatewayKey], ledger: Mapping[str, float], rollup: Rollup, start: str | None,
          now: dt.datetime) -> list[dict[str, Any]]:
    """Per key: the window's requests, errors and spend; budget use this period (the shared ledger's figure)."""
    day_starts = {p: period_start(p, now) for p in ("day", "week", "month", "total")}
    window: dict[str | None, list[float]] = {}
    for (key, day), values in rollup.key_day.items():
        if start is None or day >= start[:10]:
            acc = window.setdefault(key, [0.0] * N_SPEND)
            for i, v in enumerate(values):
                acc[i] += v
    out = []
    for k in keys:
        begin = day_starts.get(k.period)
        first = begin.strftime("%Y-%m-%d") if begin is not None else ""
        logged = sum(v[3] for (key, day), v in rollup.key_day.items() if key == k.id and day >= first)
        in_period = ledger.get(k.id, logged)
        w = window.pop(k.id, [0.0] * N_SPEND)
        out.append({"key": k.id, "name": k.name, "prefix": k.prefix, "period": k.period, "budget_usd": k.budget_usd,
                    "revoked": k.revoked_at is not None, "requests": int(w[0]), "errors": int(w[1]),
                    "spend_usd": w[3], "period_tag": period_tag(k.period, now), "period_spend_usd": in_period,
                    "period_spend_source": "ledger" if k.id in ledger else "spend log",
                    "budget_used": in_period / k.budget_usd if k.budget_usd else None})
    for key_id, w in window.items():  # pass-through traffic (no key), or keys no longer in the store
        out.append({"key": key_id, "name": "(no key)" if key_id is None else "(unknown key)", "prefix": None,
                    "period": None, "budget_usd": None, "revoked": False, "requests": int(w[0]),
                    "errors": int(w[1]), "spend_usd": w[3], "period_spend_usd": None, "budget_used": None,
                    "period_tag": None, "period_spend_source": None})
    return out


def _spend_per_key(by_key: Mapping[tuple[str | None, str], list[float]], start: str | None,
                   names: Mapping[str | None, str]) -> tuple[list[str], dict[str, list[float | None]]]:
    """Time buckets and, per key name, the spend in each."""
    buckets = sorted({b for _, b in by_key if start is None or b >= start})
    index = {b: i for i, b in enumerate(buckets)}
    series: dict[str, list[float | None]] = {}
    for (k, b), values in by_key.items():
        if b in index:
            ys = series.setdefault(names.get(k) or "(no key)", [0.0] * len(buckets))
            ys[index[b]] = (ys[index[b]] or 0.0) + values[3]
    return buckets, dict(sorted(series.items()))


def gateway(rollups: GatewayRollup, p: Params, now: dt.datetime | None = None) -> dict[str, Any]:
    """The gateway page: per-route totals, time series (for all, one route or one key), keys and budgets."""
    window = p.choice("days", WINDOWS, "30")
    route, key = p.text("route"), p.text("key")
    if route is not None and key is not None:
        raise BadParameter("choose a route or a key, not both")
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with rollups.store.session() as s:
        keys = list(s.scalars(select(GatewayKey).order_by(GatewayKey.created_at)))
        tags = {k.id: period_tag(k.period, now) for k in keys}
        ledger = {row.key_id: row.spent_usd for row in s.scalars(select(GatewayLedger).where(
            GatewayLedger.period.in_(set(tags.values())))) if tags.get(row.key_id) == row.period}
    page = rollups.read(now, lambda r: _page(r, keys, ledger, window, route, key, now))
    page["data"].update(loop_panel(rollups.store))
    return page


def loop_panel(store: Any) -> dict[str, Any]:
    """The production loop's panel: each experiment's challengers and each watched route's drift check."""
    from satisfice.gateway.loop.drift import load_drift
    from satisfice.gateway.loop.experiment_store import load_experiments

    if "gateway_experiments" not in store.table_names():  # a store from before the production loop
        return {"experiments": [], "drift": []}
    experiments = [{"route": e.route, "incumbent": e.incumbent, "bar": e.bar, "confidence": e.confidence,
                    "model": e.model, "state": e.state, "requests": e.requests, "scored": e.scored,
                    "accuracy": e.accuracy, "ci_low": e.ci_low, "ci_high": e.ci_high, "spend_usd": e.spend_usd,
                    "reason": e.reason} for e in load_experiments(store)]
    drift = [{"route": d.route, "bar": d.bar, "scored": d.scored, "accuracy": d.accuracy, "ci_low": d.ci_low,
              "ci_high": d.ci_high, "alarm": d.alarm} for d in load_drift(store)]
    return {"experiments": experiments, "drift": drift}


def _page(r: Rollup, key_rows: list[GatewayKey], ledger: Mapping[str, float], window: str, route: str | None,
          key: str | None, now: dt.datetime) -> dict[str, Any]:
    hourly = window == "1"
    if hourly:
        start: str | None = (now - dt.timedelta(hours=23)).strftime("%Y-%m-%d %H")
        spend, shadow, by_key = r.route_hour, r.shadow_hour, r.key_hour
    else:
        start = None if window == "all" else (now.date() - dt.timedelta(days=int(window) - 1)).isoformat()
        spend, shadow, by_key = r.route_day, r.shadow_day, r.key_day
    routes = _route_totals(_in_window(spend, start), _in_window(shadow, start), r.thresholds)
    rows = _series(by_key, {}, start, key) if key is not None else _series(spend, shadow, start, route)
    keys = _keys(key_rows, ledger, r, start, now)
    x = [row["bucket"] for row in rows]
    names = {k["key"]: k["name"] or k["prefix"] or k["key"] for k in keys}
    label = f"key {names.get(key, key)}" if key is not None else route or "all routes"
    per_key_x, per_key = _spend_per_key(by_key, start, names)
    bucket = "hour" if hourly else "day"
    span = None if window == "all" or hourly else float(window)  # the axis shows the whole window chosen
    figs = {
        "requests": charts.time_series_figure(f"Requests per {'hour' if hourly else 'day'} ({label})", x,
                                              {"requests": [row["requests"] for row in rows]}, "requests", "bar",
                                              bucket=bucket, min_days=span),
        "spend": charts.time_series_figure(f"Spend vs what the reference would have cost ({label})", x, {
            "spend": [row["spend_usd"] for row in rows],
            "reference cost": [row["reference_cost_usd"] for row in rows],
            "savings": [row["savings_usd"] for row in rows]}, "USD", unit="usd", bucket=bucket, min_days=span),
        "rates": charts.time_series_figure(f"Escalation, error and shadow agreement rates ({label})", x, {
            "escalation rate": [row["escalation_rate"] for row in rows],
            "error rate": [row["error_rate"] for row in rows],
            "shadow agreement": [row["agreement"] for row in rows]}, "share of requests / checks", unit="share",
            bucket=bucket, min_days=span),
        "keys": charts.time_series_figure(f"Spend per key per {'hour' if hourly else 'day'}",
                                          [b + ":00" if len(b) == 13 else b for b in per_key_x], per_key, "USD",
                                          "bar", unit="usd", bucket=bucket, min_days=span),
    }
    since = None if start is None else (start + ":00" if hourly else start)
    return {"data": {"window_days": window, "since": since, "bucket": "hour" if hourly else "day", "route": route,
                     "key": key,
                     "confidence": CONFIDENCE, "flag_rule": FLAG_RULE, "routes": routes, "series": rows,
                     "keys": keys, "empty": not routes and not keys}, "charts": figs}
