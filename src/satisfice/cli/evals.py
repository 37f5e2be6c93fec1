"""`satisfice eval [run] TASK_FILE`: evaluate a task's candidates and report the verdict; `eval show RUN`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from satisfice.cli.common import Json, console, err_console, in_range, print_json, state, writable_path
from satisfice.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from rich.progress import Progress

    from satisfice.evals.results import EvalResults
    from satisfice.store import Store


class RichProgress:
    """One Rich progress bar per model on stderr: done/total, errors, dollars spent now, ETA."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def start(self, model: str, total: int) -> None:
        """Add a bar for ``model``."""
        self.tasks[model] = self.progress.add_task(model, total=total, errors=0, dollars="$0.00")

    def update(self, model: str, *, done: int, errors: int, spent_usd: float) -> None:
        """Move ``model``'s bar."""
        from satisfice.evals.results import format_usd

        self.progress.update(self.tasks[model], completed=done, errors=errors, dollars=format_usd(spent_usd))


@contextmanager
def _progress(enabled: bool) -> Iterator[RichProgress | None]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("[red]{task.fields[errors]} err"), TextColumn("{task.fields[dollars]}"),
                   TimeRemainingColumn(), console=err_console, transient=False)
    with bar:
        yield RichProgress(bar)


def _output(results: EvalResults, *, as_json: bool, html: Path | None, replay: bool = False) -> None:
    from satisfice.reports.eval_report import print_table, to_html, to_json

    if html is not None:
        tmp = html.with_name(html.name + ".tmp")
        tmp.write_text(to_html(results), encoding="utf-8")
        tmp.replace(html)
    if as_json:
        print_json(to_json(results))
        return
    print_table(results, console, replay=replay)
    if html is not None:
        console.print(f"HTML report: {html}")


def _show(store: Store, run: str, *, as_json: bool, html: Path | None) -> None:
    from satisfice.evals.cache import ResponseCache
    from satisfice.evals.results import results_from_dict

    cache = ResponseCache(store)
    try:
        run_id = cache.latest_run_id() if run == "latest" else int(run)
    except ValueError:
        raise ConfigError(f"RUN must be a run id (a number) or 'latest', got {run!r}") from None
    found = cache.run_summary(run_id) if run_id is not None else None
    if found is None:
        raise NotFoundError(f"no eval run {run!r} in this store")
    record, summary = found
    if summary is None:
        raise NotFoundError(f"eval run {run_id} ({record.task}) has no results: status {record.status} "
                            f"(re-run {record.task_file or 'the task'} to resume; stored answers are reused)")
    _output(results_from_dict(summary), as_json=as_json, html=html, replay=True)


class _RunByDefault(TyperGroup):
    """``satisfice eval TASK`` means ``satisfice eval run TASK``; ``eval show RUN`` is a command of its own."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


Html = Annotated[Path | None, typer.Option(
    "--html", metavar="FILE", callback=writable_path("--html", (".html", ".htm")),
    help="Write a self-contained HTML report with the cost-vs-accuracy chart.")]

eval_app = typer.Typer(cls=_RunByDefault, rich_markup_mode=None, no_args_is_help=True,
                       help="Evaluate a task's candidates (`eval TASK` = `eval run TASK`), or show a stored run.")


@eval_app.command("run")
def run_command(
    ctx: typer.Context,
    task_file: Annotated[Path, typer.Argument(metavar="TASK_FILE", help="Task YAML file.")],
    model: Annotated[list[str] | None, typer.Option("--model", metavar="ID", help="Evaluate only this candidate "
                                                    "(repeatable; local/... models may be added).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N items.")] = None,
    max_spend: Annotated[float | None, typer.Option("--max-spend", metavar="USD", callback=in_range("--max-spend", 0),
                                                    help="Stop before spending more than this.")] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="Concurrent requests per model "
                                                    "(overrides max_concurrency).")] = None,
    as_json: Json = False,
    html: Html = None,
    adaptive: Annotated[bool, typer.Option("--adaptive", help="Stop each model as soon as it is decided "
                                           "(anytime-valid).")] = False,
    full_report: Annotated[bool, typer.Option("--full-report", help="With --adaptive: keep examining "
                                              "dearer models after one passes.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Call the models even for stored answers.")] = False,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds allowed per request.")] = 60.0,
    attempts: Annotated[int, typer.Option(min=1, max=20, help="Attempts per request before it is an error.")] = 4,
    no_calibrate: Annotated[bool, typer.Option("--no-calibrate", help="Do not bench a local model that has no price "
                                               "yet (its cost then stays unknown).")] = False,
) -> None:
    """Evaluate a task's candidate models and name the cheapest that clears the threshold."""
    from satisfice.evals.api import evaluate
    from satisfice.tasks.spec import load_task

    st = state(ctx)
    spec = load_task(task_file)  # a bad task file fails here, before the store is opened
    with _progress(not as_json) as progress:
        results = evaluate(spec, candidates=model, limit=limit, max_spend=max_spend, store=st.store(),
                           concurrency=concurrency, use_cache=not no_cache, timeout_s=timeout,
                           max_attempts=attempts,
                           adaptive=adaptive, full_report=full_report, progress=progress,
                           calibrate=not no_calibrate,
                           on_progress=lambda text: err_console.print(text, highlight=False),
                           on_warning=lambda text: err_console.print(f"[yellow]warning:[/] {text}", highlight=False))
    _output(results, as_json=as_json, html=html)


@eval_app.command("show")
def show_command(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(metavar="RUN", help="A run id, or 'latest'.")],
    as_json: Json = False,
    html: Html = None,
) -> None:
    """Show a stored eval run's results (no model is called)."""
    _show(state(ctx).store(), run, as_json=as_json, html=html)


def register(root: typer.Typer) -> None:
    """Attach ``satisfice eval`` to the root app."""
    root.add_typer(eval_app, name="eval")
