"""`satisfice gateway` commands: serve, check a config, manage virtual keys, report spend and drift."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from satisfice.cli.common import Json, console, err_console, in_range, money, print_json, state
from satisfice.errors import ConfigError
from satisfice.formatting import count

gateway_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                          help="Serve tasks from their cheapest good-enough model (OpenAI-compatible).")
keys_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                       help="Virtual keys: create (shown once), list, revoke, set-budget.")
gateway_app.add_typer(keys_app, name="keys")

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Gateway config (YAML).")]
JsonOpt = Json


@gateway_app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    config: ConfigOpt,
    host: Annotated[str, typer.Option(help="Interface to bind (default: loopback only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    workers: Annotated[int, typer.Option(help="Worker processes sharing the port, the store and every budget.",
                                         min=1, max=256)] = 1,
) -> None:
    """Run the gateway until interrupted; on SIGTERM/SIGINT in-flight requests finish and spend rows are written."""
    from satisfice.gateway.http.server import build_gateway, serve
    from satisfice.ports import check_port_free

    check_port_free(host, port)  # before the store and routes are loaded: a busy port says so at once
    gateway = build_gateway(config, state(ctx).store())
    serve(gateway, host=host, port=port, log_level=log_level, workers=workers, config_path=config)


@gateway_app.command("check")
def check_cmd(ctx: typer.Context, config: ConfigOpt, as_json: JsonOpt = False) -> None:
    """Validate a config and show what each route and model resolves to."""
    from satisfice.gateway.http.server import build_gateway

    gateway = build_gateway(config, state(ctx).store())
    plans: list[dict[str, Any]] = []
    for name, plan in sorted(gateway.router.plans.items()):
        plans.append({
            "name": name, "route": plan.is_route,
            "chain": [{"model": t.model, "upstreams": [u.name for u in t.upstreams],
                       "price_per_m": [[p.input_per_m, p.output_per_m] for p in t.prices]} for t in plan.targets],
            "verifiers": [v.name for v in plan.verifiers],
            "reference": plan.reference.model if plan.reference else None,
            "shadow_share": plan.shadow.share if plan.shadow else 0.0,
        })
    if as_json:
        print_json({"config": str(config), "auth": gateway.config.auth, "plans": plans})
        return
    table = Table("model / route", "chain (model@upstreams)", "verifiers", "reference", "shadow")
    for p in plans:
        chain = " -> ".join(f"{c['model']}@{'|'.join(c['upstreams'])}" for c in p["chain"])
        table.add_row(p["name"], chain, ", ".join(p["verifiers"]) or "-", p["reference"] or "-",
                      f"{p['shadow_share']:.0%}" if p["shadow_share"] else "-")
    console.print(table)


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    budget_usd: Annotated[float | None, typer.Option("--budget-usd", callback=in_range("--budget-usd", 0),
                                                     help="Spend limit per period (USD).")] = None,
    period: Annotated[str, typer.Option(help="day, week, month or total.")] = "month",
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    from satisfice.gateway.money.keys import create_key

    new = create_key(state(ctx).store(bundled=False), budget_usd=budget_usd, period=period, name=name)
    if as_json:
        print_json({"key": new.key, **_key_dict(new.info)})
        return
    console.print(new.key, highlight=False, soft_wrap=True)
    budget = f"{money(new.info.budget_usd)} per {new.info.period}" if new.info.budget_usd is not None else "no limit"
    err_console.print(f"key id {new.info.id} ({budget}). Save the key now: it cannot be shown again.",
                      highlight=False)


@keys_app.command("list")
def keys_list(ctx: typer.Context, show_all: Annotated[bool, typer.Option("--all", help="Include revoked keys.")]
              = False, as_json: JsonOpt = False) -> None:
    """List keys (id, name, prefix, budget, spent this period)."""
    from satisfice.gateway.money.budgets import spent_this_period
    from satisfice.gateway.money.keys import list_keys

    store = state(ctx).store(bundled=False)
    keys = list_keys(store, include_revoked=show_all)
    spent = spent_this_period(store, keys)
    rows = [{**_key_dict(k), "spent_this_period_usd": spent.get(k.id, 0.0)} for k in keys]
    if as_json:
        print_json({"keys": rows})
        return
    table = Table("id", "name", "prefix", "budget", "spent this period", "created", "revoked")
    for r in rows:
        budget = f"{money(r['budget_usd'])}/{r['period']}" if r["budget_usd"] is not None else "no limit"
        table.add_row(r["id"], r["name"] or "-", r["prefix"], budget, money(r["spent_this_period_usd"]),
                      r["created_at"][:19], (r["revoked_at"] or "-")[:19])
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="The key's id (key_...).")],
                as_json: JsonOpt = False) -> None:
    """Revoke a key (every running gateway on this store stops accepting it within a second)."""
    from satisfice.gateway.money.keys import revoke_key

    info = revoke_key(state(ctx).store(bundled=False), key_id)
    if as_json:
        print_json(_key_dict(info))
        return
    console.print(f"revoked {info.id} ({info.name or info.prefix})", highlight=False)


@keys_app.command("set-budget")
def keys_set_budget(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key's id (key_...).")],
    budget_usd: Annotated[float | None, typer.Option("--budget-usd", help="New spend limit per period (USD); "
                                                     "omit for no limit.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a key's budget; every running gateway on this store applies it within a second."""
    from satisfice.gateway.money.keys import set_budget

    info = set_budget(state(ctx).store(bundled=False), key_id, budget_usd)
    if as_json:
        print_json(_key_dict(info))
        return
    budget = f"{money(info.budget_usd)} per {info.period}" if info.budget_usd is not None else "no limit"
    console.print(f"{info.id}: {budget}", highlight=False)


@gateway_app.command("report")
def report_cmd(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help="Start: YYYY-MM-DD, or a span back from now like 7d or 12h.")]
    = None,
    confidence: Annotated[float, typer.Option(help="Confidence of the agreement intervals.")] = 0.95,
    as_json: JsonOpt = False,
) -> None:
    """Per route: requests, spend, reference cost (savings), escalation and error rates, shadow agreement."""
    from satisfice.gateway.observability.report import gateway_report

    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"--confidence must be between 0 and 1, got {confidence}")
    from satisfice.gateway.loop.drift import load_drift

    store = state(ctx).store(bundled=False)
    report = gateway_report(store, since=_since(since), confidence=confidence)
    drift = [{"route": d.route, "bar": d.bar, "scored": d.scored, "accuracy": d.accuracy, "ci_low": d.ci_low,
              "ci_high": d.ci_high, "alarm": d.alarm, "checked_at": d.checked_at.isoformat()}
             for d in load_drift(store)]
    if as_json:
        print_json({**asdict(report), "drift": drift})
        return
    table = Table("route", "requests", "spend", "reference cost", "savings", "escalated", "errors",
                  f"agreement ({confidence:.0%} CI)", "threshold", "flag", "usage invalid", "over reservation")
    for r in report.routes:
        agreement = "-" if r.agreement is None else (
            f"{r.agreement:.1%} [{r.agreement_low:.1%}, {r.agreement_high:.1%}] n={r.shadow_scored}")
        table.add_row(r.route, count(r.requests), money(r.spend_usd), money(r.reference_cost_usd),
                      money(r.savings_usd), f"{r.escalation_rate:.1%}", f"{r.error_rate:.1%}", agreement,
                      "-" if r.threshold is None else f"{r.threshold:.0%}", r.flag or "", str(r.usage_invalid),
                      str(r.over_reservation))
    console.print(table)
    if report.upstreams:
        ups = Table("upstream", "requests", "spend", "usage invalid", "over reservation")
        for u in report.upstreams:
            ups.add_row(u.upstream, count(u.requests), money(u.spend_usd), str(u.usage_invalid),
                        str(u.over_reservation))
        console.print(ups)
    if report.journal_incidents:
        err_console.print(f"journal: {report.journal_records_quarantined} records quarantined (not credited), "
                          f"{report.journal_records_lost} lines lost", style="bold red", highlight=False)
        for incident in report.journal_incidents[-10:]:
            err_console.print(f"  {incident.created_at:%Y-%m-%d %H:%M:%S} {incident.kind}: {incident.detail}",
                              highlight=False, markup=False)
    for d in drift:
        state_line = "DRIFT ALARM" if d["alarm"] else "ok"
        console.print(f"drift {d['route']}: {state_line}: recent accuracy at most {d['ci_high']:.1%} "
                      f"(n={d['scored']}, bar {d['bar']:.0%})", highlight=False)
    err_console.print(f"flags: {report.flag_rule}", highlight=False)


def _since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    span = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dhm])\s*", value)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if span:
        amount, unit = float(span.group(1)), span.group(2)
        return now - dt.timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: amount})
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is neither a date (YYYY-MM-DD) nor a span like 7d",
                                 param_hint="--since") from None


def _key_dict(info: Any) -> dict[str, Any]:
    return {"id": info.id, "name": info.name, "prefix": info.prefix, "budget_usd": info.budget_usd,
            "period": info.period, "created_at": info.created_at.isoformat(),
            "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None}


def register(root: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    root.add_typer(gateway_app, name="gateway")
