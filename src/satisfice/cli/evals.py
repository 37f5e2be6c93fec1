"""`satisfice eval TASK_FILE`: evaluate a task's candidates (cached, resumable, budgeted) and report the verdict.

Also `satisfice eval show RUN` (``eval`` stays one command; ``show`` is recognised as its first argument).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from satisfice.cli.common import console, err_console, print_json, state
from satisfice.core import ModelClient
from satisfice.errors import ConfigError, NotFoundError
from satisfice.evals.cache import ResponseCache
from satisfice.evals.calls import Candidate, EvalItem, RunSettings
from satisfice.evals.decisions import save_decision
from satisfice.evals.pricing import PriceInfo, price_for
from satisfice.evals.results import (
    EvalResults,
    apply_adaptive,
    format_usd,
    results_from_dict,
    results_to_dict,
    summarise,
)
from satisfice.evals.runner import EvalRunner
from satisfice.store import Store
from satisfice.tasks.spec import CandidateSpec, TaskSpec, load_task


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
        self.progress.update(self.tasks[model], completed=done, errors=errors, dollars=format_usd(spent_usd))


@contextmanager
def _progress(enabled: bool) -> Iterator[RichProgress | None]:
    if not enabled:
        yield None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("[red]{task.fields[errors]} err"), TextColumn("{task.fields[dollars]}"),
                   TimeRemainingColumn(), console=err_console, transient=False)
    with bar:
        yield RichProgress(bar)


def _select_candidates(spec: TaskSpec, models: list[str] | None) -> list[CandidateSpec]:
    if not models:
        if not spec.candidates:
            raise ConfigError(f"{spec.where()}: no candidates listed; add 'candidates:' or pass --model ID")
        return list(spec.candidates)
    chosen = []
    for model in models:
        cand = spec.candidate(model)
        if cand is None and model.startswith("local/"):
            cand = CandidateSpec(id=model)
        if cand is None:
            known = ", ".join(c.id for c in spec.candidates) or "none"
            raise ConfigError(f"--model {model!r} is not a candidate of {spec.where()} (candidates: {known}); "
                              "only local/... models may be added on the command line")
        chosen.append(cand)
    return chosen


class _Prices:
    """Prices for the run's models: the task's override, else the catalog (read once, only when needed)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._catalog: Any = None

    def __call__(self, model_id: str, override: tuple[float | None, float | None]) -> PriceInfo:
        if override[0] is not None or override[1] is not None or model_id.startswith("local/"):
            return price_for(model_id, input_per_m=override[0], output_per_m=override[1])
        if self._catalog is None:
            from satisfice.catalog.repository import load_catalog

            self._catalog = load_catalog(self.store)
        return price_for(model_id, catalog=self._catalog)


def _concurrency(c: CandidateSpec, override: int | None) -> int:
    """``--concurrency``, else the task's value; local models default to 1 (they answer one at a time)."""
    if override is not None:
        return override
    if c.id.startswith("local/") and "max_concurrency" not in c.model_fields_set:
        return 1
    return c.max_concurrency


def _check_keys(cands: list[CandidateSpec], judge_env: str | None) -> None:
    for name, env in [*((c.id, c.api_key_env) for c in cands), ("judge", judge_env)]:
        if env and not os.environ.get(env):
            raise ConfigError(f"environment variable {env} is not set (API key for {name})")


def build_runner(store: Store, spec: TaskSpec, *, models: list[str] | None, limit: int | None,
                 concurrency: int | None, settings: RunSettings, machine_usd_per_hour: float,
                 transport: Any, progress: RichProgress | None, notes: list[str] | None = None) -> EvalRunner:
    """Wire a task to an :class:`EvalRunner`: items, rendered requests, candidates with clients and prices.

    Warnings about the task (e.g. few-shot examples that all share one answer) go to stderr and ``notes``.
    """
    from satisfice.clients import make_client
    from satisfice.tasks.datasets import fewshot_warnings, load_samples
    from satisfice.tasks.scorers import build_scorer
    from satisfice.tasks.templates import render_request

    samples, fewshot = load_samples(spec)
    for warning in fewshot_warnings(fewshot):
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
        if notes is not None:
            notes.append(f"warning: {warning}")
    if limit is not None:
        samples = samples[:limit]
    items = [EvalItem(i, s, render_request(spec, s, fewshot)) for i, s in enumerate(samples)]

    def client(ref: Any) -> ModelClient:
        return make_client(ref, transport=transport, machine_usd_per_hour=machine_usd_per_hour,
                           timeout_s=settings.timeout_s)

    prices = _Prices(store)
    chosen = _select_candidates(spec, models)
    opts = spec.scorer.parsed_options() if spec.scorer.type == "judge" else None
    _check_keys(chosen, opts.api_key_env if opts is not None else None)
    candidates = [Candidate(c.ref(), client(c.ref()), prices(c.id, (c.input_per_m, c.output_per_m)),
                            _concurrency(c, concurrency), c.requests_per_minute, c.tokens_per_minute)
                  for c in chosen]
    judge = None
    if opts is not None:
        judge = Candidate(opts.ref(), client(opts.ref()), prices(opts.model, (opts.input_per_m, opts.output_per_m)),
                          concurrency or (1 if opts.model.startswith("local/") else 4))

    def scorer_factory(judge_client: ModelClient | None) -> Any:
        return build_scorer(spec.scorer, base_dir=spec.base_dir, judge=judge_client)

    return EvalRunner(ResponseCache(store), items, candidates, scorer_factory, settings=settings, judge=judge,
                      progress=progress)


_BINARY_SCORERS = frozenset({"exact", "normalized", "includes", "regex", "choice", "numeric", "json"})


def _selector(spec: TaskSpec, runner: EvalRunner, full_report: bool) -> Any:
    """The adaptive selector for this run (needs a bar: early stopping is defined against one)."""
    from satisfice.evals.adaptive import AdaptiveSelector
    from satisfice.evals.pricing import estimate_cost

    if spec.threshold is None or spec.threshold.bar is None:
        raise ConfigError(f"{spec.where()}: --adaptive needs a threshold with a bar (e.g. 'accuracy >= 0.9')")
    first = runner.items[0].request if runner.items else None
    prices = {c.ref.id: estimate_cost(c.price, first) if first is not None else None for c in runner.candidates}
    return AdaptiveSelector([c.ref.id for c in runner.candidates], len(runner.items), spec.threshold.bar,
                            spec.threshold.confidence, prices=prices, seed=spec.dataset.seed or 0,
                            full_report=full_report, binary=_binary_scores(spec))


def _binary_scores(spec: Any) -> bool:
    """Whether the task's scorer only ever gives 0 or 1 (json with partial credit gives fractions)."""
    return spec.scorer.type in _BINARY_SCORERS and not spec.scorer.options.get("partial_credit", False)


async def _run(runner: EvalRunner, run_id: int, selector: Any, transport: Any) -> Any:
    try:
        if selector is not None:
            return await runner.run_adaptive(run_id, selector)
        return await runner.run(run_id)
    finally:
        for caller in [*runner.callers, *([runner.judge] if runner.judge else [])]:
            close: Callable[[], Any] | None = getattr(caller.candidate.client, "aclose", None)
            if close is not None:
                await close()
        await transport.close()


def run_task(store: Store, spec: TaskSpec, task_file: Path, *, models: list[str] | None = None,
             limit: int | None = None, max_spend: float | None = None, concurrency: int | None = None,
             use_cache: bool = True, timeout_s: float = 60.0, max_attempts: int = 4, machine_usd_per_hour: float = 0.10,
             show_progress: bool = False, adaptive: bool = False, full_report: bool = False) -> EvalResults:
    """Evaluate a task file end to end: run, summarise, store the summary and the decision."""
    from satisfice.clients import HttpTransport

    task_hash = hashlib.sha256(task_file.read_bytes()).hexdigest()
    settings = RunSettings(max_attempts=max_attempts, timeout_s=timeout_s, max_spend=max_spend, use_cache=use_cache)
    transport = HttpTransport(timeout_s=timeout_s)
    cache = ResponseCache(store)
    warnings: list[str] = []
    with _progress(show_progress) as progress:
        runner = build_runner(store, spec, models=models, limit=limit, concurrency=concurrency, settings=settings,
                              machine_usd_per_hour=machine_usd_per_hour, transport=transport, progress=progress,
                              notes=warnings)
        model_ids = [c.ref.id for c in runner.candidates]
        selector = _selector(spec, runner, full_report) if adaptive else None
        run_id = cache.start_run(spec.name, task_hash, str(task_file), model_ids)
        status = "failed"
        try:
            outcome = asyncio.run(_run(runner, run_id, selector, transport))
            status = outcome.status
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            if status in ("failed", "interrupted"):
                cache.finish_run(run_id, status=status, spent_usd=runner.guard.spent, calls=0, cache_hits=0,
                                 summary=None)
    prices = {c.ref.id: c.price for c in runner.candidates}
    results = summarise(spec.name, outcome.outcomes, models=model_ids, threshold=spec.threshold, prices=prices,
                        workload=spec.workload, reference=spec.reference, items=len(runner.items))
    if selector is not None:
        apply_adaptive(results, selector.selection(), prices)
    results.notes[:0] = warnings
    results.run_id, results.status, results.max_spend = run_id, outcome.status, max_spend
    results.spent_usd, results.calls, results.cache_hits = outcome.spent_usd, outcome.calls, outcome.cache_hits
    if runner.judge is not None:
        results.notes.append(f"judge {runner.judge.candidate.ref.id}: its cost is counted in $ spent "
                             "(not in the candidates' $/request)")
    cache.finish_run(run_id, status=outcome.status, spent_usd=outcome.spent_usd, calls=outcome.calls,
                     cache_hits=outcome.cache_hits, summary=results_to_dict(results))
    if spec.threshold is not None:
        by_id = {m.model: m for m in results.models}
        passing = sorted((m for m in model_ids if by_id[m].decision == "pass"),
                         key=lambda m: (by_id[m].cost_per_request is None, by_id[m].cost_per_request or 0.0))
        save_decision(store, task=spec.name, passing=passing, reference=spec.reference or
                      spec.threshold.non_inferior_to, candidates={c.ref.id: c.ref for c in runner.candidates},
                      recommended=results.recommended, run_id=run_id, threshold=spec.threshold.describe())
    return results


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


def register(root: typer.Typer) -> None:
    """Attach ``satisfice eval`` to the root app."""

    @root.command("eval")
    def eval_command(
        ctx: typer.Context,
        task_file: Annotated[str, typer.Argument(metavar="TASK_FILE",
                                                 help="Task YAML file; or 'show' followed by a run id.")],
        run: Annotated[str | None, typer.Argument(metavar="[RUN]", help="With 'show': run id or 'latest'.")] = None,
        model: Annotated[list[str] | None, typer.Option("--model", metavar="ID", help="Evaluate only this candidate "
                                                        "(repeatable; local/... models may be added).")] = None,
        limit: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N items.")] = None,
        max_spend: Annotated[float | None, typer.Option("--max-spend", min=0.0, metavar="USD",
                                                        help="Stop before spending more than this.")] = None,
        concurrency: Annotated[int | None, typer.Option(min=1, help="Concurrent requests per model "
                                                        "(overrides max_concurrency).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
        html: Annotated[Path | None, typer.Option("--html", metavar="FILE", help="Write a self-contained "
                                                  "HTML report with the cost-vs-accuracy chart.")] = None,
        adaptive: Annotated[bool, typer.Option("--adaptive", help="Stop each model as soon as it is decided "
                                               "(anytime-valid).")] = False,
        full_report: Annotated[bool, typer.Option("--full-report", help="With --adaptive: keep examining "
                                                  "dearer models after one passes.")] = False,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Call the models even for stored answers.")
                            ] = False,
        timeout: Annotated[float, typer.Option(min=0.1, help="Seconds allowed per request.")] = 60.0,
        attempts: Annotated[int, typer.Option(min=1, max=20, help="Attempts per request before it is "
                                              "an error.")] = 4,
    ) -> None:
        """Evaluate a task's candidate models and name the cheapest that clears the threshold."""
        st = state(ctx)
        if task_file == "show" and not Path("show").is_file():
            if run is None:
                raise ConfigError("usage: satisfice eval show RUN (a run id or 'latest')")
            _show(st.store(), run, as_json=as_json, html=html)
            return
        if run is not None:
            raise ConfigError(f"unexpected argument {run!r} (did you mean: satisfice eval show {run}?)")
        path = Path(task_file)
        spec = load_task(path)  # a bad task file fails here, before the store is opened
        results = run_task(st.store(), spec, path, models=model, limit=limit, max_spend=max_spend,
                           concurrency=concurrency, use_cache=not no_cache, timeout_s=timeout, max_attempts=attempts,
                           machine_usd_per_hour=st.settings.machine_usd_per_hour, show_progress=not as_json,
                           adaptive=adaptive, full_report=full_report)
        _output(results, as_json=as_json, html=html)
