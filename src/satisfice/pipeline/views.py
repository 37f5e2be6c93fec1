"""What the pipeline shows: its status (last run, next run) and what changed since a time.

Both return plain JSON-able dicts: the documents ``satisfice pipeline status --json`` and
``satisfice pipeline changes --json`` print, for the CLI and the dashboard alike.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from satisfice.store import Store
from satisfice.store.schema import Meta, ModelRecord
from satisfice.store.schema_pipeline import (
    ChangeRecord,
    ListingRecord,
    LockRecord,
    RunRecord,
    SnapshotRecord,
    WatchRecord,
)

SCHEDULE_KEY = "pipeline_schedule"
HEARTBEAT_S = 30.0
"""The scheduler renews its heartbeat at least this often while it waits for the next run."""
HEARTBEAT_STALE_S = 4 * HEARTBEAT_S
"""A scheduler not seen for this long (and not running) was stopped: it has no next run."""
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_span(text: str, option: str = "--since") -> dt.timedelta:
    """``30m``, ``6h``, ``7d``, ``2w`` as a timedelta; anything else is a ValueError naming the option."""
    m = _SPAN.match(text)
    if m is None or float(m[1]) <= 0:
        raise ValueError(f"{option} {text!r}: expected a span like 30m, 6h, 7d or 2w")
    return dt.timedelta(seconds=float(m[1]) * _UNITS[m[2]])


@contextmanager
def _reading(source: Store | Session) -> Iterator[Session]:
    """A session to read with: the caller's own, or a new one from the store (closed afterwards)."""
    if isinstance(source, Session):
        yield source
        return
    with source.session() as session:
        yield session


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def scheduler_state(schedule: dict[str, Any] | None, now: dt.datetime, running: bool) -> tuple[str, str | None]:
    """The scheduler's state and when it was last seen (its heartbeat, ISO, UTC).

    ``running`` while it runs or its heartbeat is fresh, ``stopped`` once the heartbeat is older than
    :data:`HEARTBEAT_STALE_S` (a killed scheduler cannot clear its entry), ``not scheduled`` without an entry.
    """
    if not schedule:
        return "not scheduled", None
    seen = schedule.get("heartbeat_at") or schedule.get("last_started_at")
    try:
        when = dt.datetime.fromisoformat(str(seen).rstrip("Z"))
    except ValueError:
        return "stopped", seen
    alive = running or (now - when).total_seconds() <= HEARTBEAT_STALE_S
    return ("running" if alive else "stopped"), seen


def status(store: Store | Session) -> dict[str, Any]:
    """``{last_run, next_run, schedule, running_since, runs, snapshots, listings, models, watches}``.

    ``store`` is a :class:`Store` or an open SQLAlchemy session on one.
    """
    with _reading(store) as s:
        last = s.scalars(select(RunRecord).where(RunRecord.finished_at.is_not(None))
                         .order_by(RunRecord.id.desc())).first()
        lock = s.get(LockRecord, "run")
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        running = lock.acquired_at if lock is not None and lock.holder and lock.expires_at and lock.expires_at > now \
            else None
        runs = s.scalar(select(func.count()).select_from(RunRecord)) or 0
        meta = s.get(Meta, SCHEDULE_KEY)
        snapshots = {}
        for snap in s.scalars(select(SnapshotRecord).where(SnapshotRecord.applied.is_(True))
                              .order_by(SnapshotRecord.id)):
            snapshots[snap.source] = {"location": snap.location, "version": snap.version,
                                      "fetched_at": _iso(snap.fetched_at), "size": snap.size, "sha256": snap.sha256}
        listed = s.scalar(select(func.count()).select_from(ListingRecord).where(ListingRecord.gone_since.is_(None)))
        gone = s.scalar(select(func.count()).select_from(ListingRecord).where(ListingRecord.gone_since.is_not(None)))
        watches = s.scalar(select(func.count()).select_from(WatchRecord)) or 0
        models = s.scalar(select(func.count()).select_from(ModelRecord)) or 0
    schedule = json.loads(meta.value) if meta is not None else None
    scheduler, seen = scheduler_state(schedule, now, running is not None)
    last_run = None
    if last is not None:
        report = json.loads(last.report or "{}")
        last_run = {"run": last.id, "started_at": _iso(last.started_at), "finished_at": _iso(last.finished_at),
                    "status": last.status, "trigger": last.trigger, "totals": report.get("totals", {}),
                    "sources": [{k: src.get(k) for k in ("source", "outcome", "error", "new_models", "changed_prices",
                                                          "new_offers", "scheduled", "unchanged", "gone", "new_scores",
                                                          "changed_scores")}
                                for src in report.get("sources", [])]}
    return {
        "last_run": last_run,
        "next_run": schedule.get("next_run") if schedule and scheduler == "running" else None,
        "scheduler": scheduler,
        "scheduler_last_seen": seen,
        "schedule": schedule,
        "running_since": _iso(running),
        "runs": runs,
        "snapshots": snapshots,
        "listings": {"listed": listed or 0, "gone": gone or 0},
        "models": models,
        "watches": watches,
    }


def _price(inp: float | None, out: float | None) -> dict[str, float | None] | None:
    return None if inp is None and out is None else {"input_per_m": inp, "output_per_m": out}


def changes(store: Store | Session, since: dt.datetime | dt.timedelta, *, now: dt.datetime | None = None,
            limit: int = 500) -> dict[str, Any]:
    """Changes recorded since a time (or within a span before ``now``), grouped by kind.

    Returns ``{since, new_models, price_cuts, price_raises, new_offers, scheduled, gone, watches, new_scores,
    changed_scores, counts}``;
    each list holds at most ``limit`` entries, newest first (``counts`` has the full numbers).
    """
    current = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    start = current - since if isinstance(since, dt.timedelta) else since
    groups: dict[str, list[dict[str, Any]]] = {k: [] for k in ("new_model", "price_cut", "price_raise", "new_offer",
                                                                "scheduled", "gone", "watch", "new_score",
                                                                "score_changed")}
    counts = dict.fromkeys(groups, 0)
    with _reading(store) as s:
        names = {m.id: m.name for m in s.scalars(select(ModelRecord))}
        rows = s.scalars(select(ChangeRecord).where(ChangeRecord.at >= start)
                         .order_by(ChangeRecord.at.desc(), ChangeRecord.id.desc()))
        for c in rows:
            counts[c.kind] = counts.get(c.kind, 0) + 1
            bucket = groups.setdefault(c.kind, [])
            if len(bucket) >= limit:
                continue
            bucket.append({"at": _iso(c.at), "run": c.run_id, "source": c.source, "model": c.model_id,
                           "name": names.get(c.model_id, c.model_id), "provider": c.provider,
                           "effective_date": c.effective_date, "old": _price(c.old_input_per_m, c.old_output_per_m),
                           "new": _price(c.new_input_per_m, c.new_output_per_m), "pct": c.pct, "detail": c.detail})
    return {"since": _iso(start), "until": _iso(current), "counts": counts,
            "new_models": groups["new_model"], "price_cuts": groups["price_cut"],
            "price_raises": groups["price_raise"], "new_offers": groups["new_offer"],
            "scheduled": groups["scheduled"], "gone": groups["gone"], "watches": groups["watch"],
            "new_scores": groups["new_score"], "changed_scores": groups["score_changed"]}
