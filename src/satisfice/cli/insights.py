"""`satisfice insights` commands: list and show the dated insights, and backfill them from the catalog's history."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from satisfice.cli.common import Json, console, print_json, state
from satisfice.errors import ConfigError

insights_app = typer.Typer(help="What changed in the market: dated findings from pipeline runs and the history.",
                           no_args_is_help=True)


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--since {value!r}: expected a date (YYYY-MM-DD)") from None


def _contract(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["id"], "date": doc["date"], "title": doc["title"], "trigger": doc["trigger"], "run": doc["run"],
            "tldr": doc["tldr"], "findings": doc["findings"]}


@insights_app.command("list")
def list_cmd(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", metavar="D", help="Only insights dated D (YYYY-MM-DD) "
                                              "or later.")] = None,
    as_json: Json = False,
) -> None:
    """Insights, newest first: date, title and the number of findings."""
    from satisfice.insights import list_insights

    docs = list_insights(state(ctx).store(), _date(since))
    if as_json:
        print_json({"insights": [_contract(d) for d in docs]})
        return
    if not docs:
        console.print("no insights yet (satisfice insights backfill replays the catalog's history; every "
                      "pipeline run adds its own)")
        return
    for d in docs:
        console.print(f"{d['id']:>5}  {d['date']}  {d['title']}  [{len(d['findings'])} finding(s), {d['trigger']}]",
                      highlight=False, soft_wrap=True, markup=False)


@insights_app.command("show")
def show_cmd(ctx: typer.Context, insight: Annotated[int, typer.Argument(metavar="ID", help="Insight id.")],
             as_json: Json = False) -> None:
    """One insight: title, TL;DR, metric cards, every finding with its figures, models and sources."""
    from satisfice.insights import get_insight

    doc = get_insight(state(ctx).store(), insight)
    if as_json:
        print_json(doc)
        return
    out = [f"{doc['title']}", f"{doc['date']} ({doc['trigger']}{', run ' + str(doc['run']) if doc['run'] else ''})",
           "", "TL;DR:", *(f"  - {t}" for t in doc["tldr"]), "",
           "  ".join(f"[{c['label']}: {c['value']}]" for c in doc["cards"]), "", "Findings:"]
    out += [f"  - {f['sentence']}" for f in doc["findings"]]
    out += ["", "Models: " + ", ".join(f"{m['name']} ({m['model']})" for m in doc["models"]), "Sources:"]
    out += [f"  - {s['citation']}" + (f" <{s['url']}>" if s["url"] else "") for s in doc["sources"]]
    for line in out:
        console.print(line, highlight=False, soft_wrap=True, markup=False)


@insights_app.command("backfill")
def backfill_cmd(ctx: typer.Context, as_json: Json = False) -> None:
    """Replay the catalog's dated prices and scores and record the findings each date would have produced."""
    from satisfice.insights import backfill

    doc = backfill(state(ctx).store())
    if as_json:
        print_json(doc)
        return
    console.print(f"replayed history: {doc['dates']} date(s) with findings, {doc['findings_found']} finding(s), "
                  f"{doc['findings_added']} new, in {doc['insights']} insight(s)", highlight=False)


def register(root: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    root.add_typer(insights_app, name="insights")
