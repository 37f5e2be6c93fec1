"""`satisfice outcomes export` and `satisfice gateway experiments`: what production taught, read from the store."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from satisfice.cli.common import Json, console, money, print_json, state
from satisfice.cli.gateway import _since, gateway_app

outcomes_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                           help="Outcomes recorded in production (feedback, verifiers, shadow checks).")


@outcomes_app.command("export")
def export_cmd(
    ctx: typer.Context,
    route: Annotated[str, typer.Option("--route", help="The route (task/<name> or <name>).")],
    since: Annotated[str | None, typer.Option(help="Start: YYYY-MM-DD, or a span back from now like 7d or 12h.")]
    = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Write the wide outcomes CSV (the default).")] = False,
    as_json: Json = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """The wide recorded-outcomes table of a route (what `satisfice select --outcomes` reads)."""
    from satisfice.gateway.loop.export import export_rows, to_csv

    if as_csv and as_json:
        raise typer.BadParameter("choose one of --csv and --json", param_hint="--csv")
    name = route if route.startswith("task/") else f"task/{route}"
    columns, rows = export_rows(state(ctx).store(bundled=False), name, _since(since))
    if as_json:
        print_json({"route": name, "columns": columns, "rows": rows})
        return
    text = to_csv(columns, rows)
    if out is None:
        typer.echo(text, nl=False)
        return
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # no partial file if anything fails


def experiments_document(rows: Iterable[Any]) -> dict[str, Any]:
    """The ``--json`` document of ``gateway experiments`` from challenger rows (sorted by route)."""
    routes: dict[str, dict[str, Any]] = {}
    for r in rows:
        exp = routes.setdefault(r.route, {"route": r.route, "incumbent": r.incumbent, "bar": r.bar,
                                          "confidence": r.confidence, "challengers": []})
        exp["challengers"].append({"model": r.model, "requests": r.requests, "scored": r.scored,
                                   "accuracy": r.accuracy, "ci_low": r.ci_low, "ci_high": r.ci_high,
                                   "spend_usd": r.spend_usd, "state": r.state, "reason": r.reason})
    return {"experiments": list(routes.values())}


@gateway_app.command("experiments")
def experiments_cmd(ctx: typer.Context, as_json: Json = False) -> None:
    """Each route's guarded experiment: challengers, evidence, intervals, spend and state."""
    from satisfice.gateway.loop.experiment_store import load_experiments

    doc = experiments_document(load_experiments(state(ctx).store(bundled=False)))
    if as_json:
        print_json(doc)
        return
    table = Table("route", "incumbent", "bar", "challenger", "requests", "scored", "accuracy", "interval",
                  "spend", "state")
    for exp in doc["experiments"]:
        for c in exp["challengers"]:
            accuracy = "-" if c["accuracy"] is None else f"{c['accuracy']:.1%}"
            table.add_row(exp["route"], exp["incumbent"], f"{exp['bar']:.0%} @ {exp['confidence']:.0%}", c["model"],
                          str(c["requests"]), str(c["scored"]), accuracy,
                          f"[{c['ci_low']:.1%}, {c['ci_high']:.1%}]", money(c["spend_usd"]), c["state"])
    console.print(table)


def register(root: typer.Typer) -> None:
    """Attach the outcomes group (and ``gateway experiments``) to the root app."""
    root.add_typer(outcomes_app, name="outcomes")


__all__ = ["experiments_document", "register"]
