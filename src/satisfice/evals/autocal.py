"""First use of a local model in an eval: a short bench on the task's own prompts, saved as the model's dated price.

A ``local/...`` candidate without a self-hosted calibration has no price, so a spend limit cannot be kept and the
candidates' costs cannot be compared. Before the run, each such model is benched for a few seconds on the task's
own requests, sent one at a time as the eval sends them: the prefix every prompt shares (instructions, few-shot
examples) stays in the engine's cache after the first request, so the bench measures it as the eval will meet it,
and prices it as cached input. The result is saved as ``satisfice selfhost bench MODEL --save`` saves it (provider
``self-hosted:this-machine``, dated today), so later runs, ``select`` and the gateway find the price in the catalog
and bench nothing. Priced this way, a request costs the machine time it takes: the model that serves the task
faster on this machine is the cheaper one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from satisfice.core import CompletionRequest
from satisfice.errors import ConfigError, SatisficeError
from satisfice.evals.runner import ProgressSink
from satisfice.formatting import usd
from satisfice.selfhost.economics import LevelStats, RequestSample
from satisfice.store import Store

AUTO_NAME = "this-machine"
"""The self-hosted provider name a first-use calibration is saved under (``self-hosted:this-machine``)."""
REQUESTS = 6
"""Measured requests per model (after one warm-up request that fills the prefix cache)."""
OUTPUT_TOKENS = 16
"""Tokens generated per bench request: enough streamed tokens to time decoding, few enough to stay short."""
N_CTX = 4096
"""Context of the engine the bench loads: the eval's own client reuses that instance (no second load)."""


@dataclass(frozen=True)
class AutoCalibration:
    """What a first-use calibration did for one model: the saved offer, or why there is none."""

    model: str
    saved: dict[str, Any] | None
    seconds: float
    reason: str = ""
    median_ms: float | None = None

    def describe(self) -> str:
        """One line for the terminal and the run's notes."""
        if self.saved is None:
            return f"{self.model}: not calibrated ({self.reason}); its cost stays unknown"
        s = self.saved
        cached = s.get("cached_input_per_m")
        cached_text = f", shared prompt prefix {usd_per_m(cached)}" if cached is not None else ""
        took = f", median {self.median_ms:,.0f} ms a request" if self.median_ms is not None else ""
        return (f"{self.model}: calibrated on this task in {self.seconds:.1f} s{took}, saved at {s['provider']} "
                f"from {s['effective_date']}: {usd_per_m(s['input_per_m'])} in, {usd_per_m(s['output_per_m'])} "
                f"out per M tokens{cached_text}")


def usd_per_m(value: float | None) -> str:
    """USD per million tokens by the one money formatter (``$0.0421``, ``$0``; ``unknown`` when missing)."""
    return usd(value, unknown="unknown")


class _Bar:
    """Bench progress drawn on the eval's progress sink (one bar per model, labelled as a calibration)."""

    def __init__(self, sink: ProgressSink, label: str) -> None:
        self.sink = sink
        self.label = label
        self.done = self.errors = 0

    def level_started(self, concurrency: int, requests: int | None, duration_s: float | None) -> None:
        self.sink.start(self.label, requests or 0)

    def sample(self, sample: RequestSample) -> None:
        self.done += 1
        self.errors += sample.error is not None
        self.sink.update(self.label, done=self.done, errors=self.errors, spent_usd=0.0)

    def level_done(self, stats: LevelStats) -> None:
        """Nothing more to draw: the bar is complete."""


def stderr_line(text: str) -> None:
    """Print one progress line on stderr (the library's default when no callback is given)."""
    print(text, file=sys.stderr, flush=True)


async def _interleaved(streamers: Sequence[Any], bars: Sequence[_Bar | None]) -> list[list[RequestSample]]:
    """One warm-up request per model, then :data:`REQUESTS` rounds of one request per model in turn.

    Taking turns puts every model under the same load from the rest of the machine, so a busy spell slows them
    alike instead of pricing whichever model was benched during it.
    """
    samples: list[list[RequestSample]] = [[] for _ in streamers]
    for bar in bars:
        if bar is not None:
            bar.level_started(1, REQUESTS, None)
    for index in range(REQUESTS + 1):
        for streamer, got, bar in zip(streamers, samples, bars, strict=True):
            sample = await streamer(index)
            if index == 0:
                continue  # the warm-up fills the engine's prefix cache, as the eval's first request will
            got.append(sample)
            if bar is not None:
                bar.sample(sample)
    return samples


def _result(model_id: str, samples: Sequence[RequestSample], usd_per_hour: float, load_s: float) -> Any:
    from satisfice.selfhost.bench import BenchConfig, BenchResult, describe_machine, measured_weight
    from satisfice.selfhost.driver import LoadPlan
    from satisfice.selfhost.economics import Level, best_level, level_prices, sequential_stats

    config = BenchConfig(model=model_id, levels=[1], plan=LoadPlan(requests=REQUESTS), usd_per_hour=usd_per_hour,
                         prompt_tokens=1, output_tokens=OUTPUT_TOKENS, machine=describe_machine())
    stats = sequential_stats(samples)
    weight, source = measured_weight(config, [[stats]])
    level = Level(stats, level_prices(stats, usd_per_hour, weight, config.input_share))
    best, reason = best_level([level], None)
    return BenchResult(config, [level], weight, source, best, reason, dt.datetime.now(dt.UTC).replace(tzinfo=None),
                       load_s=load_s)


def calibrate_on_task(store: Store, model_ids: Sequence[str], requests: Sequence[CompletionRequest], *, task: str,
                      usd_per_hour: float, progress: ProgressSink | None = None,
                      say: Callable[[str], None] = stderr_line) -> list[AutoCalibration]:
    """Bench ``model_ids`` on ``requests`` (the task's own), taking turns, and save each result as its price.

    Never raises for a bench that fails: that model then stays uncalibrated and the reason is returned.

    Raises:
        ConfigError: a model cannot run here (xllamacpp or its weights missing: the message has the pip command).
    """
    from satisfice.selfhost.calibration import save_calibration
    from satisfice.selfhost.local_stream import LocalStreamer

    if not requests or not model_ids:
        return [AutoCalibration(m, None, 0.0, "the task has no items") for m in model_ids]
    streamers = [LocalStreamer(m, prompt_tokens=1, output_tokens=OUTPUT_TOKENS, slots=1, requests=requests,
                               n_ctx=N_CTX) for m in model_ids]
    say(f"calibrating {', '.join(model_ids)} on {min(len(requests), REQUESTS + 1)} of the task's prompts, taking "
        f"turns (first use of a local model: its price on this machine at {usd(usd_per_hour)}/hour; "
        "--no-calibrate skips) ...")
    started = time.perf_counter()
    bars = [_Bar(progress, f"calibrate {m}") if progress is not None else None for m in model_ids]
    try:
        loads = [s.load() for s in streamers]
        samples = asyncio.run(_interleaved(streamers, bars))
    finally:
        for s in streamers:
            s.close()
    seconds = time.perf_counter() - started
    done = []
    for model_id, got, load_s in zip(model_ids, samples, loads, strict=True):
        result = _result(model_id, got, usd_per_hour, load_s)
        if result.best is None:
            kinds = ", ".join(f"{k} x{n}" for lv in result.levels for k, n in lv.stats.error_kinds.items())
            outcome = AutoCalibration(model_id, None, seconds, f"{result.best_reason}: {kinds or 'no answer'}")
        else:
            try:
                saved = save_calibration(store, result, name=AUTO_NAME, model_id=model_id, replace=True, task=task)
                outcome = AutoCalibration(model_id, saved, seconds, median_ms=result.best.stats.e2e_p50_ms)
            except SatisficeError as exc:
                outcome = AutoCalibration(model_id, None, seconds, str(exc))
        say(outcome.describe())
        done.append(outcome)
    return done


def calibrate_missing(store: Store, model_ids: Sequence[str], requests: Sequence[CompletionRequest], *, task: str,
                      usd_per_hour: float, progress: ProgressSink | None = None,
                      say: Callable[[str], None] = stderr_line) -> list[AutoCalibration]:
    """Calibrate the ``local/...`` models of ``model_ids`` that have no self-hosted price in force today."""
    from satisfice.catalog.repository import load_catalog
    from satisfice.clients.local import local_spec
    from satisfice.evals.pricing import is_local, price_for

    local = [m for m in model_ids if is_local(m)]
    if not local:
        return []
    catalog = load_catalog(store)
    missing = []
    for model in local:
        if price_for(model, catalog=catalog).source != "uncalibrated":
            continue
        try:
            local_spec(model)  # xllamacpp and the weights are installed
        except ConfigError as exc:  # the eval reports the same error for this model
            say(f"{model}: not calibrated ({exc})")
            continue
        missing.append(model)
    return calibrate_on_task(store, missing, requests, task=task, usd_per_hour=usd_per_hour, progress=progress,
                             say=say) if missing else []


__all__ = ["AUTO_NAME", "AutoCalibration", "calibrate_missing", "calibrate_on_task", "stderr_line", "usd_per_m"]
