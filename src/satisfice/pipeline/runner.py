"""One pipeline run: fetch every chosen source, apply what changed, check watches, keep a report.

Each source is fetched, parsed and applied on its own, in its own transaction: a source that is
down, times out, sends malformed JSON or a changed schema changes nothing and is reported as
failed, and the others go on. A document identical to the last one applied from that source is
recognised by its hash and not parsed again. Runs are serialised by the run lock.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from satisfice.catalog.identity import Identity, provider_id
from satisfice.pipeline.apply import Observation, fit_to_store
from satisfice.pipeline.fetch import Fetched, FetchError, fetch, shown
from satisfice.pipeline.lock import run_lock
from satisfice.pipeline.score_apply import apply_scores
from satisfice.pipeline.sources import parse_selection, source_spec
from satisfice.pipeline.watches import newly_satisfied
from satisfice.store import Store
from satisfice.store.schema import OfferRecord
from satisfice.store.schema_pipeline import ChangeRecord, RunRecord, SnapshotRecord

Clock = Callable[[], dt.datetime]
RunHook = Callable[[Store], Callable[[dict[str, Any]], Any]]
"""Called before the sources are fetched; what it returns is called with the report, its result kept there."""
COUNT_KEYS = ("new_models", "changed_prices", "new_offers", "scheduled", "unchanged", "gone", "new_scores",
              "changed_scores")


def utcnow() -> dt.datetime:
    """Now in UTC, naive (how the store keeps times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def run(store: Store, selection: dict[str, str] | None = None, *, now: Clock = utcnow, timeout: float = 30.0,
        attempts: int = 3, trigger: str = "manual", identity: Identity | None = None,
        sleep: Callable[[float], None] = time.sleep, hooks: Mapping[str, RunHook] | None = None) -> dict[str, Any]:
    """Run the pipeline over ``selection`` (``{source: location}``; None: every source at its default).

    Returns the run report (the document ``satisfice pipeline run --json`` prints); ``report["ok"]`` is
    False when any source failed. Each of ``hooks`` is started before the fetches and finished with the report,
    whose key of the hook's name holds what it returned (or ``{"error": ...}``).
    """
    chosen = selection if selection is not None else parse_selection([])
    for name in chosen:
        source_spec(name)
    ids = identity or Identity.load()
    started = now()
    with run_lock(store, started):
        with store.transaction() as s:
            rec = RunRecord(started_at=started, status="running", trigger=trigger, report="{}")
            s.add(rec)
            s.flush()
            run_id = rec.id
            last = s.scalar(select(func.max(OfferRecord.recorded_at)))
        observed = _Monotonic(now, last)
        started_hooks = {name: hook(store) for name, hook in (hooks or {}).items()}
        results = [_one(store, run_id, name, location, observed, timeout, attempts, ids, sleep)
                   for name, location in chosen.items()]
        watches = newly_satisfied(store, now().date()) if any(r["outcome"] == "ok" for r in results) else []
        finished = now()
        report = {
            "run": run_id, "trigger": trigger, "started_at": _iso(started), "finished_at": _iso(finished),
            "ok": all(r["outcome"] != "failed" for r in results), "sources": results,
            "totals": {k: sum(int(r[k]) for r in results) for k in COUNT_KEYS},
            "failed": [r["source"] for r in results if r["outcome"] == "failed"], "watches": watches,
        }
        for name, finish in started_hooks.items():
            try:
                report[name] = finish(report)
            except Exception as exc:  # a hook's failure is reported; the catalog changes are already kept
                report[name] = {"error": f"{type(exc).__name__}: {exc}"}
        with store.transaction() as s:
            for w in watches:
                for m in w["models"]:
                    s.add(ChangeRecord(run_id=run_id, source="watch", at=finished, kind="watch", model_id=m["model"],
                                       provider=m["provider"], new_input_per_m=None, pct=None,
                                       detail=f"watch {w['watch']}: {w['description']}"))
            row = s.get(RunRecord, run_id)
            assert row is not None
            row.finished_at = finished
            row.status = "ok" if report["ok"] else "failed"
            row.report = json.dumps(report)
    return report


class _Monotonic:
    """Observation times that always move forward, even when the clock does not (or did not since the last run).

    An offer is keyed by its observation time, so two observations must never share one.
    """

    def __init__(self, now: Clock, last: dt.datetime | None) -> None:
        self.now = now
        self.last = last

    def __call__(self) -> dt.datetime:
        at = self.now()
        if self.last is not None and at <= self.last:
            at = self.last + dt.timedelta(microseconds=1)
        self.last = at
        return at


def _one(store: Store, run_id: int, name: str, location: str, now: Clock, timeout: float, attempts: int,
         ids: Identity, sleep: Callable[[float], None]) -> dict[str, Any]:
    spec = source_spec(name)
    clock = time.perf_counter()
    at = now()
    result: dict[str, Any] = {"source": name, "location": shown(location), "outcome": "failed", "error": None,
                              "version": None, "fetched_at": _iso(at), "size": None, "sha256": None,
                              **dict.fromkeys(COUNT_KEYS, 0), "new_model_ids": [], "seconds": 0.0}
    try:
        fetched = fetch(spec, location, timeout=timeout, attempts=attempts, sleep=sleep)
    except FetchError as exc:
        result["error"] = str(exc)
        result["seconds"] = round(time.perf_counter() - clock, 3)
        return result
    sha = fetched.sha256
    result.update(location=fetched.location, version=fetched.version, size=len(fetched.data), sha256=sha)
    with store.session() as s:
        last = s.scalars(select(SnapshotRecord).where(SnapshotRecord.source == name, SnapshotRecord.applied.is_(True))
                         .order_by(SnapshotRecord.id.desc())).first()
    if last is not None and last.sha256 == sha:
        result["outcome"] = "same"
        result["detail"] = f"content identical to the snapshot applied at {_iso(last.fetched_at)}"
        result["seconds"] = round(time.perf_counter() - clock, 3)
        return result
    try:
        _apply(store, run_id, name, fetched, at, ids, result)
        result["outcome"] = "ok"
    except Exception as exc:  # any failure of one source is reported, and leaves nothing behind
        result["error"] = _message(exc, fetched)
    result["seconds"] = round(time.perf_counter() - clock, 3)
    return result


def _apply(store: Store, run_id: int, name: str, fetched: Fetched, at: dt.datetime, ids: Identity,
           result: dict[str, Any]) -> None:
    spec = source_spec(name)
    with tempfile.TemporaryDirectory(prefix="satisfice-pipeline-") as tmp:
        path = Path(tmp) / f"{name}{fetched.suffix}"
        path.write_bytes(fetched.data)
        try:
            batch = spec.parse(path, as_of=at.date(), ids=ids.canonical)
        except Exception as exc:
            raise _Located(str(exc).replace(str(path), fetched.location)) from exc
    batch, skipped = fit_to_store(batch)
    if skipped:
        result["skipped"] = skipped[:50]
    if not batch.offers and not batch.scores:
        raise _Located(f"{fetched.location}: no prices or scores found (has the format changed?)")
    providers = {o.provider: provider_id(o.provider) for o in batch.offers}
    with store.transaction() as s:
        observation = Observation(s, name, run_id, at, fetched.sha256)
        counts = observation.apply(batch, providers)
        scored = apply_scores(s, name, run_id, at, observation.tag, batch.scores, batch.benchmarks)
        s.add(SnapshotRecord(source=name, location=fetched.location[:1000], version=fetched.version, fetched_at=at,
                             size=len(fetched.data), sha256=fetched.sha256, applied=True))
    for key in COUNT_KEYS:
        result[key] = getattr(scored if key.endswith("_scores") else counts, key)
    result["new_model_ids"] = counts.new_model_ids[:50]


class _Located(Exception):
    """A parse error with the temporary file's name replaced by the source's location."""


def _message(exc: BaseException, fetched: Fetched) -> str:
    if isinstance(exc, _Located):
        return str(exc)
    if isinstance(exc, StatementError):  # its text holds the SQL and its parameters: only the driver's first line
        cause = exc.orig if exc.orig is not None else exc
        first = (str(cause).strip().splitlines() or [""])[0][:300]
        return f"{fetched.location}: database error ({type(cause).__name__}): {first}"
    return f"{fetched.location}: {type(exc).__name__}: {exc}"
