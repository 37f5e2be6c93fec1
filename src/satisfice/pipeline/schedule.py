"""Running the pipeline on a schedule: once at start, then every interval or at each cron time.

The clock and the sleep are injected, so tests run a day of schedule in milliseconds. The next
run time is written to the store, where ``pipeline status`` reads it, with a heartbeat renewed
while the loop waits (every 30 s at most); when the loop stops the entry is cleared, and a loop that
was killed (no ``finally``) shows as stopped once its heartbeat is stale. Cron expressions are read
by croniter (five fields, UTC).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from croniter import croniter

from satisfice.errors import ConfigError
from satisfice.pipeline.lock import PipelineBusy
from satisfice.pipeline.runner import Clock, run, utcnow
from satisfice.pipeline.views import HEARTBEAT_S, SCHEDULE_KEY, parse_span
from satisfice.store import Store
from satisfice.store.schema import Meta


@dataclass(frozen=True)
class Schedule:
    """Every ``every``, or at the times of the cron expression ``cron`` (exactly one of them)."""

    every: dt.timedelta | None = None
    cron: str | None = None

    @classmethod
    def parse(cls, every: str | None, cron: str | None) -> Schedule:
        """From the CLI's ``--every 6h`` or ``--cron '0 */6 * * *'``."""
        if (every is None) == (cron is None):
            raise ConfigError("give exactly one of --every (e.g. 6h) or --cron (e.g. '0 */6 * * *')")
        if every is not None:
            try:
                span = parse_span(every, "--every")
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            if span < dt.timedelta(minutes=1):
                raise ConfigError(f"--every {every!r}: the shortest interval is 1m")
            return cls(every=span)
        assert cron is not None
        if not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise ConfigError(f"--cron {cron!r}: not a five-field cron expression (e.g. '0 */6 * * *')")
        return cls(cron=cron)

    def next_after(self, start: dt.datetime, now: dt.datetime) -> dt.datetime:
        """The next run after a run that started at ``start`` (never before ``now``)."""
        if self.every is not None:
            return max(start + self.every, now)
        nxt: dt.datetime = croniter(self.cron, now).get_next(dt.datetime)
        return nxt

    def describe(self) -> dict[str, Any]:
        """JSON-able form."""
        if self.every is not None:
            return {"every_s": self.every.total_seconds()}
        return {"cron": self.cron}


def _save(store: Store, value: dict[str, Any] | None) -> None:
    with store.transaction() as s:
        row = s.get(Meta, SCHEDULE_KEY)
        if value is None:
            if row is not None:
                s.delete(row)
        elif row is None:
            s.add(Meta(key=SCHEDULE_KEY, value=json.dumps(value)))
        else:
            row.value = json.dumps(value)


def _z(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def run_scheduled(store: Store, schedule: Schedule, *, selection: dict[str, str] | None = None,
                  clock: Clock = utcnow, sleep: Callable[[float], None] = time.sleep,
                  stop: Callable[[], bool] = lambda: False, max_runs: int | None = None,
                  on_report: Callable[[dict[str, Any]], None] | None = None, **run_options: Any) -> int:
    """Run now, then on ``schedule`` until ``stop()`` is true or ``max_runs`` runs were made; returns the runs."""
    runs = 0
    try:
        while True:
            start = clock()
            try:
                report = run(store, selection, now=clock, trigger="schedule", sleep=sleep, **run_options)
            except PipelineBusy as exc:
                report = {"ok": False, "error": str(exc), "started_at": start.isoformat(timespec="seconds") + "Z"}
            runs += 1
            if on_report is not None:
                on_report(report)
            nxt = schedule.next_after(start, clock())
            entry = {**schedule.describe(), "next_run": _z(nxt), "last_started_at": _z(start)}
            _save(store, {**entry, "heartbeat_at": _z(utcnow())})
            if max_runs is not None and runs >= max_runs:
                return runs
            while (left := (nxt - clock()).total_seconds()) > 0:
                if stop():
                    return runs
                sleep(min(left, HEARTBEAT_S))
                _save(store, {**entry, "heartbeat_at": _z(utcnow())})
            if stop():
                return runs
    finally:
        _save(store, None)
