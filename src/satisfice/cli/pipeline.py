"""`satisfice pipeline` commands: run the sources now or on a schedule, show status and what changed."""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated, Any

import typer

from satisfice.cli.common import Json, console, err_console, print_json, state
from satisfice.errors import ConfigError
from satisfice.formatting import and_more, listing, usd

pipeline_app = typer.Typer(help="Keep models and prices current: fetch sources, keep history, report changes.",
                           no_args_is_help=True)

Sources = Annotated[list[str] | None, typer.Option(
    "--source", "-s", help="NAME or NAME=URL_OR_FILE (repeatable; default: SATISFICE_PIPELINE_SOURCES, else every "
                           "source). Sources: models-dev, genai-prices, litellm, openrouter; a file may be a JSON "
                           "file or a package wheel; package:NAME reads an installed package's bundled data.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for one source.", min=0.1, max=600)]
Attempts = Annotated[int, typer.Option("--attempts", help="Tries per source for timeouts and server errors.",
                                       min=1, max=10)]


def _selection(options: list[str] | None) -> dict[str, str]:
    """``--source`` options, else ``SATISFICE_PIPELINE_SOURCES`` (space-separated), else every source's default."""
    from satisfice.pipeline import parse_selection

    configured = os.environ.get("SATISFICE_PIPELINE_SOURCES", "").split()
    return parse_selection(options or configured)


def _identity(ctx: typer.Context) -> Any:
    from satisfice.catalog.identity import Identity

    extra = state(ctx).settings.home / "aliases.csv"
    return Identity.load([extra] if extra.is_file() else [])


def _hooks() -> dict[str, Any]:
    """Every run records what its changes did to the market analyses as an insight."""
    from satisfice.insights import pipeline_hook

    return {"insights": pipeline_hook()}


def _counts_line(src: dict[str, Any]) -> str:
    return (f"  {src['source']}: {src['outcome']}, {src['new_models']} new models, {src['changed_prices']} price "
            f"changes, {src['new_offers']} new offers, {src['scheduled']} scheduled, {src['unchanged']} unchanged, "
            f"{src['gone']} no longer listed, {src.get('new_scores', 0)} new scores, "
            f"{src.get('changed_scores', 0)} changed scores")


def _print_report(report: dict[str, Any]) -> None:
    console.print(f"pipeline run {report.get('run')} ({report.get('started_at')}):", highlight=False)
    for src in report["sources"]:
        if src["error"]:
            err_console.print(f"  [red]{src['source']}: failed[/] ({src['seconds']:.1f} s): {src['error']}",
                              highlight=False, soft_wrap=True)
            continue
        console.print(_counts_line(src) + f" ({src['seconds']:.1f} s)", highlight=False, soft_wrap=True)
        if src["outcome"] == "same":
            console.print(f"    {src.get('detail', 'unchanged content')}", highlight=False, soft_wrap=True)
    for watch in report.get("watches", []):
        names = ", ".join(f"{m['name']} ({m['score']:g}, "
                          f"{'$' + format(m['blended_per_m'], '.3g') if m['blended_per_m'] is not None else 'no price'}"
                          f"/M)" for m in watch["models"])
        console.print(f"[bold green]watch {watch['watch']}:[/] now {watch['description']}: {names}",
                      highlight=False, soft_wrap=True)
    found = report.get("insights") or {}
    if found.get("insight") is not None:
        console.print(f"insight {found['insight']}: {found['findings']} finding(s) (satisfice insights show "
                      f"{found['insight']})", highlight=False)


@pipeline_app.command("run")
def run_cmd(ctx: typer.Context, source: Sources = None, timeout: Timeout = 30.0, attempts: Attempts = 3,
            as_json: Json = False) -> None:
    """Fetch every source (or those named) once and record what changed; exit 1 if any source failed."""
    from satisfice.pipeline import run

    selection = _selection(source)
    report = run(state(ctx).store(), selection, timeout=timeout, attempts=attempts, identity=_identity(ctx),
                 hooks=_hooks())
    if as_json:
        print_json(report)
    else:
        _print_report(report)
    if not report["ok"]:
        raise typer.Exit(1)


@pipeline_app.command("status")
def status_cmd(ctx: typer.Context, as_json: Json = False) -> None:
    """Last run (when, per-source outcome and counts) and next scheduled run."""
    from satisfice.pipeline import status

    doc = status(state(ctx).store())
    if as_json:
        print_json(doc)
        return
    last = doc["last_run"]
    if last is None:
        console.print("no pipeline run yet (satisfice pipeline run)")
    else:
        console.print(f"last run {last['run']}: {last['status']}, started {last['started_at']}, "
                      f"finished {last['finished_at']} ({last['trigger']})", highlight=False)
        for src in last["sources"]:
            extra = f" - {src['error']}" if src["error"] else ""
            console.print(_counts_line(src) + extra, highlight=False, soft_wrap=True)
    console.print(_scheduler_line(doc), highlight=False)


def _scheduler_line(doc: dict[str, Any]) -> str:
    if doc["scheduler"] == "running":
        return f"scheduler running (last seen {doc['scheduler_last_seen']}); next run: {doc['next_run']}"
    if doc["scheduler"] == "stopped":
        return (f"scheduler stopped (last seen {doc['scheduler_last_seen']}); no next run "
                "(satisfice pipeline schedule --every 6h starts it again)")
    return "next run: none scheduled (satisfice pipeline schedule --every 6h)"


@pipeline_app.command("schedule")
def schedule_cmd(
    ctx: typer.Context,
    every: Annotated[str | None, typer.Option("--every", help="Interval: 30m, 6h, 1d.")] = None,
    cron: Annotated[str | None, typer.Option("--cron", help="Five-field cron expression in UTC.")] = None,
    source: Sources = None, timeout: Timeout = 30.0, attempts: Attempts = 3,
) -> None:
    """Run now, then on the schedule until stopped (Ctrl-C); `pipeline status` shows the next run."""
    from satisfice.pipeline import Schedule, run_scheduled

    plan = Schedule.parse(every, cron)
    selection = _selection(source)

    def show(report: dict[str, Any]) -> None:
        if "sources" in report:
            _print_report(report)
        else:
            err_console.print(f"[red]run skipped:[/] {report.get('error')}", highlight=False)

    run_scheduled(state(ctx).store(), plan, selection=selection, on_report=show, timeout=timeout,
                  attempts=attempts, identity=_identity(ctx), hooks=_hooks())


def _since(value: str) -> dt.datetime | dt.timedelta:
    from satisfice.pipeline import parse_span

    try:
        return parse_span(value)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--since {value!r}: expected a span (7d, 12h) or a date (YYYY-MM-DD)") from None


def _price(p: dict[str, float | None] | None) -> str:
    if p is None or p["input_per_m"] is None or p["output_per_m"] is None:
        return "none"
    return f"{usd(p['input_per_m'])}/{usd(p['output_per_m'])} per M"


@pipeline_app.command("changes")
def changes_cmd(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", help="A span (7d, 12h) or a date (YYYY-MM-DD).")] = "7d",
    limit: Annotated[int, typer.Option("--limit", help="Most entries per kind.", min=1, max=100000)] = 50,
    as_json: Json = False,
) -> None:
    """New models, price cuts and raises (with percentages), scheduled prices and newly satisfied watches."""
    from satisfice.pipeline import changes

    doc = changes(state(ctx).store(), _since(since), limit=limit)
    if as_json:
        print_json(doc)
        return
    c = doc["counts"]
    console.print(f"since {doc['since']}: {c['new_model']} new models, {c['price_cut']} price cuts, "
                  f"{c['price_raise']} raises, {c['new_offer']} new offers, {c['scheduled']} scheduled, "
                  f"{c['gone']} no longer listed, {c['watch']} watch hits, {c['new_score']} new scores, "
                  f"{c['score_changed']} changed scores", highlight=False)
    for title, key, kind in (("price cuts", "price_cuts", "price_cut"), ("price raises", "price_raises", "price_raise"),
                             ("scheduled", "scheduled", "scheduled")):
        if doc[key]:
            console.print(f"{title}:", highlight=False)
        for e in doc[key]:
            change = "" if e["pct"] is None else f" ({e['pct']:+.1f}%)"
            console.print(f"  {e['model']} at {e['provider']} from {e['effective_date']}: {_price(e['old'])} -> "
                          f"{_price(e['new'])}{change} [{e['source']}]", highlight=False, soft_wrap=True)
        if more := and_more(c[kind], len(doc[key])):
            console.print(f"  ...{more} (--limit {c[kind]} shows them all)", highlight=False)
    if doc["new_models"]:
        console.print("new models: " + listing([e["model"] for e in doc["new_models"]], c["new_model"])
                      + (f" (--limit {c['new_model']} shows them all)" if c["new_model"] > len(doc["new_models"])
                         else ""), highlight=False, soft_wrap=True)
    for e in doc["changed_scores"]:
        console.print(f"  score changed: {e['model']}: {e['detail']} [{e['source']}]", highlight=False, soft_wrap=True)
    for e in doc["watches"]:
        console.print(f"[bold green]{e['detail']}:[/] {e['model']}", highlight=False)
    if more := and_more(c["watch"], len(doc["watches"])):
        console.print(f"watch hits:{more}", highlight=False)


def register(root: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    root.add_typer(pipeline_app, name="pipeline")
