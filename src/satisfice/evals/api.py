"""``evaluate(task)``: run a task's candidates end to end, store the run and its decision, return the results.

The one way to run an eval, for Python users and the CLI alike: load the task, wire each candidate to its
client (chosen by its provider) and price, run (cached, resumable, budgeted, optionally adaptive), summarise,
and store both the run's summary and the decision the gateway's ``from_eval`` routes read.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from satisfice.clients.providers import PROVIDERS
from satisfice.core import ModelClient, default_provider
from satisfice.errors import ConfigError
from satisfice.evals.cache import ResponseCache
from satisfice.evals.calls import Candidate, EvalItem, RunSettings
from satisfice.evals.decisions import save_decision
from satisfice.evals.pricing import PriceInfo, price_for, unknown_price_message
from satisfice.evals.results import EvalResults, apply_adaptive, results_to_dict, summarise
from satisfice.evals.runner import EvalRunner, ProgressSink
from satisfice.store import Store
from satisfice.tasks.spec import CandidateSpec, TaskSpec, load_task

EvalResult = EvalResults
"""What :func:`evaluate` returns: ``.models`` (one summary per model), ``.recommended``, ``.sentence``."""


def _choose(spec: TaskSpec, models: Sequence[str] | None) -> list[CandidateSpec]:
    if not models:
        if not spec.candidates:
            raise ConfigError(f"{spec.where()}: no candidates listed; add 'candidates:' or pass --model ID")
        return list(spec.candidates)
    chosen = []
    for model in models:
        cand = spec.candidate(model)
        if cand is None and not PROVIDERS.get(default_provider(model)).needs_endpoint:
            cand = CandidateSpec(id=model)
        if cand is None:
            known = ", ".join(c.id for c in spec.candidates) or "none"
            raise ConfigError(f"model {model!r} is not a candidate of {spec.where()} (candidates: {known}); "
                              "only models that need no endpoint (local/...) may be added")
        chosen.append(cand)
    return chosen


class _Prices:
    """Prices for the run's models: the task's override, else the catalog (read once, only when needed)."""

    def __init__(self, store: Store, warn: Callable[[str], None]) -> None:
        self.store = store
        self.warn = warn
        self._catalog: Any = None

    def __call__(self, ref: Any, override: tuple[float | None, float | None]) -> PriceInfo:
        self_hosted = PROVIDERS.get(ref.provider).self_hosted
        if override[0] is not None or override[1] is not None:
            return price_for(ref.id, input_per_m=override[0], output_per_m=override[1])
        if self._catalog is None:
            from satisfice.catalog.repository import load_catalog

            self._catalog = load_catalog(self.store)
        info = price_for(ref.id, catalog=self._catalog, self_hosted=self_hosted)
        if info.source == "uncalibrated":
            self.warn(f"{ref.id} is uncalibrated: its cost shows as unknown, never $0; {info.note}")
        elif not info.known:
            self.warn(unknown_price_message(ref.id))
        return info


def _concurrency(ref: Any, given: int | None, task_value: int, task_set: bool) -> int:
    """The override, else the task's value, else the provider's default (local models answer one at a time)."""
    if given is not None:
        return given
    default = PROVIDERS.get(ref.provider).default_concurrency
    return task_value if task_set or default is None else default


def in_flight_total(spec: TaskSpec, models: Sequence[str] | None, concurrency: int | None) -> int:
    """Requests the run keeps in flight at most: every candidate's concurrency, plus the judge's.

    The shared transport allows this many connections, so its pool never caps what ``--concurrency`` (or the
    task's ``max_concurrency``) asks for.
    """
    total = sum(_concurrency(c.ref(), concurrency, c.max_concurrency, "max_concurrency" in c.model_fields_set)
                for c in _choose(spec, models))
    if spec.scorer.type == "judge":
        total += _concurrency(spec.scorer.parsed_options().ref(), concurrency, 4, False)
    return max(1, total)


def _check_keys(cands: list[CandidateSpec], judge_env: str | None) -> None:
    for name, env in [*((c.id, c.api_key_env) for c in cands), ("judge", judge_env)]:
        if env and not os.environ.get(env):
            raise ConfigError(f"environment variable {env} is not set (API key for {name})")


def task_items(spec: TaskSpec, limit: int | None = None, warn: Callable[[str], None] | None = None) -> list[EvalItem]:
    """The task's items with their rendered requests (the first ``limit``); few-shot warnings go to ``warn``."""
    from satisfice.tasks.datasets import fewshot_warnings, load_samples
    from satisfice.tasks.requests import render_request

    samples, fewshot = load_samples(spec)
    for warning in fewshot_warnings(fewshot):
        if warn is not None:
            warn(warning)
    if limit is not None:
        samples = samples[:limit]
    return [EvalItem(i, s, render_request(spec, s, fewshot)) for i, s in enumerate(samples)]


def _calibrate(db: Store, spec: TaskSpec, candidates: Sequence[str] | None, progress: ProgressSink | None,
               say: Callable[[str], None]) -> list[str]:
    """First-use calibration of the run's uncalibrated local models without a price override; returns notes."""
    from satisfice.config import get_settings
    from satisfice.evals.autocal import calibrate_missing

    chosen = [c for c in _choose(spec, candidates) if c.input_per_m is None and c.output_per_m is None]
    models = [c.id for c in chosen if PROVIDERS.get(c.ref().provider).self_hosted]
    if not models:
        return []
    requests = [item.request for item in task_items(spec)][:16]
    done = calibrate_missing(db, models, requests, task=spec.name, usd_per_hour=get_settings().machine_usd_per_hour,
                             progress=progress, say=say)
    return [f"first use: {d.describe()}" for d in done]


def build_runner(store: Store, spec: TaskSpec, *, models: Sequence[str] | None = None, limit: int | None = None,
                 concurrency: int | None = None, settings: RunSettings | None = None,
                 transport: Any = None, progress: ProgressSink | None = None,
                 warn: Callable[[str], None] | None = None) -> EvalRunner:
    """Wire a task to an :class:`EvalRunner`: items, rendered requests, candidates with clients and prices.

    ``warn`` receives each warning about the task or its candidates (the run goes on).
    """
    from satisfice.clients import make_client
    from satisfice.tasks.scorers import build_scorer

    settings = settings or RunSettings()
    say: Callable[[str], None] = warn or (lambda text: None)
    items = task_items(spec, limit, say)

    def client(ref: Any, in_flight: int) -> ModelClient:
        return make_client(ref, transport=transport, timeout_s=settings.timeout_s, max_connections=in_flight)

    prices = _Prices(store, say)
    chosen = _choose(spec, models)
    opts = spec.scorer.parsed_options() if spec.scorer.type == "judge" else None
    _check_keys(chosen, opts.api_key_env if opts is not None else None)
    candidates = []
    for c in chosen:
        in_flight = _concurrency(c.ref(), concurrency, c.max_concurrency, "max_concurrency" in c.model_fields_set)
        candidates.append(Candidate(c.ref(), client(c.ref(), in_flight),
                                    prices(c.ref(), (c.input_per_m, c.output_per_m)), in_flight,
                                    c.requests_per_minute, c.tokens_per_minute))
    judge = None
    if opts is not None:
        judge_flight = _concurrency(opts.ref(), concurrency, 4, False)
        judge = Candidate(opts.ref(), client(opts.ref(), judge_flight),
                          prices(opts.ref(), (opts.input_per_m, opts.output_per_m)), judge_flight)

    def scorer_factory(judge_client: ModelClient | None) -> Any:
        return build_scorer(spec.scorer, base_dir=spec.base_dir, judge=judge_client)

    return EvalRunner(ResponseCache(store), items, candidates, scorer_factory, settings=settings, judge=judge,
                      progress=progress)


def _selector(spec: TaskSpec, runner: EvalRunner, full_report: bool) -> Any:
    """The adaptive selector for this run (needs a bar: early stopping is defined against one)."""
    from satisfice.evals.adaptive import AdaptiveSelector
    from satisfice.evals.pricing import estimate_cost
    from satisfice.tasks.scorer_registry import is_binary

    if spec.threshold is None or spec.threshold.bar is None:
        raise ConfigError(f"{spec.where()}: --adaptive needs a threshold with a bar (e.g. 'accuracy >= 0.9')")
    first = runner.items[0].request if runner.items else None
    prices = {c.ref.id: estimate_cost(c.price, first) if first is not None else None for c in runner.candidates}
    binary = is_binary(spec.scorer.type, spec.scorer.parsed_options())
    return AdaptiveSelector([c.ref.id for c in runner.candidates], len(runner.items), spec.threshold.bar,
                            spec.threshold.confidence, prices=prices, seed=spec.dataset.seed or 0,
                            full_report=full_report, binary=binary)


async def _run(runner: EvalRunner, run_id: int, selector: Any, transport: Any, into: list[Any]) -> None:
    """Run, putting the outcome in ``into`` rather than returning it.

    The loop's main task must not hold the outcome: when ``asyncio.Runner`` puts back the SIGINT handler
    (Python 3.11) it formats the handler's repr, which holds the main task and so its result, one repr per item
    (tens of milliseconds at 2,000 items).
    """
    try:
        into.append(await (runner.run_adaptive(run_id, selector) if selector is not None else runner.run(run_id)))
    finally:
        for caller in [*runner.callers, *([runner.judge] if runner.judge else [])]:
            close: Callable[[], Any] | None = getattr(caller.candidate.client, "aclose", None)
            if close is not None:
                await close()
        await transport.close()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The run's event loop: uvloop's when installed (``uvicorn[standard]`` brings it), else asyncio's own.

    Every request and answer of a run passes through the loop, and uvloop's spends less CPU on each.
    """
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep what exists before the run out of the garbage collector's passes during it (``gc.freeze``).

    A full collection walks every object of the process (the catalog, SQLAlchemy's metadata...): measured, one
    took 148 ms in the middle of a 1 s run. Frozen objects are only skipped, never lost: they are unfrozen (back
    in the oldest generation) when the run ends.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _open_store(store: Store | str | None) -> Store:
    if isinstance(store, Store):
        return store
    from satisfice.catalog.bundled import ensure_bundled
    from satisfice.config import get_settings
    from satisfice.store import open_store

    settings = get_settings(store)
    opened = open_store(settings.db_url)
    if settings.load_bundled:
        ensure_bundled(opened)
    return opened


def _store_decision(store: Store, spec: TaskSpec, results: EvalResults, runner: EvalRunner, run_id: int) -> None:
    if spec.threshold is None:
        return
    by_id = {m.model: m for m in results.models}
    passing = sorted((m.model for m in results.models if m.decision == "pass"),
                     key=lambda m: (by_id[m].cost_per_request is None, by_id[m].cost_per_request or 0.0))
    save_decision(store, task=spec.name, passing=passing, reference=spec.reference or spec.threshold.non_inferior_to,
                  candidates={c.ref.id: c.ref for c in runner.candidates}, recommended=results.recommended,
                  run_id=run_id, threshold=spec.threshold.describe())


def evaluate(task: str | Path | TaskSpec, *, candidates: Sequence[str] | None = None, adaptive: bool = False,
             max_spend: float | None = None, store: Store | str | None = None, limit: int | None = None,
             concurrency: int | None = None, use_cache: bool = True, timeout_s: float = 60.0,
             max_attempts: int = 4, full_report: bool = False, calibrate: bool = True,
             progress: ProgressSink | None = None, on_warning: Callable[[str], None] | None = None,
             on_progress: Callable[[str], None] | None = None) -> EvalResult:
    """Evaluate a task's candidate models and store the run and its decision.

    Args:
        task: A task file (path) or an already loaded :class:`~satisfice.tasks.spec.TaskSpec`.
        candidates: Evaluate only these model ids (default: every candidate in the task); models that need no
            endpoint (``local/...``) may be added.
        adaptive: Stop each model as soon as an anytime-valid test decides it (needs a threshold with a bar).
        max_spend: Stop before the next request could cross this many USD.
        store: An open store, a database URL, or None for the default store (``SATISFICE_DB`` / home).
        limit: Evaluate only the first N items.
        concurrency: Concurrent requests per model (overrides the task's ``max_concurrency``).
        use_cache: Reuse stored answers (False calls the models again).
        timeout_s: Seconds allowed per request.
        max_attempts: Attempts per request before it is an error.
        full_report: With ``adaptive``: keep examining dearer models after one passes.
        calibrate: Bench each ``local/...`` candidate that has no price yet for a few seconds on the task's own
            prompts first, and save the result as its dated self-hosted price (False: its cost stays unknown).
        progress: Receives per-model progress (the CLI draws bars from it).
        on_warning: Called with each warning as it arises (the CLI prints them); they are also the first
            ``notes`` of the result, prefixed ``warning:``.
        on_progress: Called with each line about a first-use calibration (default: printed on stderr).

    Returns:
        The run's results: ``.models``, ``.recommended`` (the cheapest passing model, or None) and ``.sentence``.

    Raises:
        ConfigError: A bad task file, an unknown candidate or provider, a missing API key variable.
        DataError: A bad dataset.
    """
    if isinstance(task, TaskSpec):
        spec = task
        task_file = str(spec.source) if spec.source is not None else ""
        text = spec.source.read_bytes() if spec.source is not None else spec.model_dump_json().encode()
        task_hash = hashlib.sha256(text).hexdigest()
    else:
        path = Path(task)
        spec = load_task(path)  # a bad task file fails here, before the store is opened
        task_file, task_hash = str(path), hashlib.sha256(path.read_bytes()).hexdigest()
    db = _open_store(store)
    try:
        return _evaluate(db, spec, task_file, task_hash, candidates=candidates, adaptive=adaptive,
                         full_report=full_report, progress=progress, on_warning=on_warning, limit=limit,
                         concurrency=concurrency, calibrate=calibrate, on_progress=on_progress,
                         settings=RunSettings(max_attempts=max_attempts, timeout_s=timeout_s, max_spend=max_spend,
                                              use_cache=use_cache))
    finally:
        if db is not store:  # opened here, so closed here
            db.close()


def _evaluate(db: Store, spec: TaskSpec, task_file: str, task_hash: str, *, candidates: Sequence[str] | None,
              adaptive: bool, full_report: bool, progress: ProgressSink | None,
              on_warning: Callable[[str], None] | None, limit: int | None,
              concurrency: int | None, settings: RunSettings, calibrate: bool = True,
              on_progress: Callable[[str], None] | None = None) -> EvalResult:
    from satisfice.clients import HttpTransport
    from satisfice.evals.autocal import stderr_line

    warnings: list[str] = []

    def warn(text: str) -> None:
        warnings.append(text)
        if on_warning is not None:
            on_warning(text)

    calibrated = _calibrate(db, spec, candidates, progress, on_progress or stderr_line) if calibrate else []
    transport = HttpTransport(timeout_s=settings.timeout_s,
                              max_connections=in_flight_total(spec, candidates, concurrency))
    cache = ResponseCache(db)
    runner = build_runner(db, spec, models=candidates, limit=limit, concurrency=concurrency, settings=settings,
                          transport=transport, progress=progress,
                          warn=warn)
    model_ids = [c.ref.id for c in runner.candidates]
    selector = _selector(spec, runner, full_report) if adaptive else None
    run_id = cache.start_run(spec.name, task_hash, task_file, model_ids)
    status = "failed"
    try:
        into: list[Any] = []
        with _frozen_heap(), asyncio.Runner(loop_factory=_loop_factory()) as loop:
            loop.run(_run(runner, run_id, selector, transport, into))
        outcome = into[0]
        status = outcome.status
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if status in ("failed", "interrupted"):
            cache.finish_run(run_id, status=status, spent_usd=runner.guard.spent, calls=0, cache_hits=0, summary=None)
    prices = {c.ref.id: c.price for c in runner.candidates}
    results = summarise(spec.name, outcome.outcomes, models=model_ids, threshold=spec.threshold, prices=prices,
                        workload=spec.workload, reference=spec.reference, items=len(runner.items))
    if selector is not None:
        apply_adaptive(results, selector.selection(), prices)
    results.notes[:0] = [f"warning: {w}" for w in warnings] + calibrated
    reached = [f"{c.candidate.ref.id} {c.peak_in_flight} of {c.candidate.max_concurrency}"
               for c in runner.callers if c.calls]
    if reached:
        results.notes.append("requests in flight at most (reached of allowed): " + ", ".join(reached))
    results.run_id, results.status, results.max_spend = run_id, outcome.status, settings.max_spend
    results.spent_usd, results.calls, results.cache_hits = outcome.spent_usd, outcome.calls, outcome.cache_hits
    if runner.judge is not None:
        results.notes.append(f"judge {runner.judge.candidate.ref.id}: its cost is counted in $ spent "
                             "(not in the candidates' $/request)")
    cache.finish_run(run_id, status=outcome.status, spent_usd=outcome.spent_usd, calls=outcome.calls,
                     cache_hits=outcome.cache_hits, summary=results_to_dict(results))
    _store_decision(db, spec, results, runner, run_id)
    return results


__all__ = ["EvalResult", "build_runner", "evaluate"]
