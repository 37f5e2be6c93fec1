"""Applying one source's score observations to the store: new observations, never an overwrite.

For each (model, benchmark, harness, effort) the source reports a value, dated by the source (run or
publication date) or, when it gives none, by the day the pipeline first saw it:

- nothing recorded yet: a ``new_score`` observation and change;
- the latest recorded value is the same and the source gives no date: nothing (``unchanged``);
- a different value, or a newly dated run: a new observation beside the older ones (``score_changed``
  when an observation of the same harness and effort existed, with the old value in the detail);
- the same date with a different value: the source contradicts itself; the source's run fails.

Writes happen in the caller's transaction, so a failure leaves nothing from this source behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from satisfice.catalog.batch import BENCHMARKS
from satisfice.catalog.rows import BenchmarkRow, ScoreRow
from satisfice.errors import DataError
from satisfice.store.schema import BenchmarkRecord, ScoreRecord, Source
from satisfice.store.schema_pipeline import ChangeRecord

_USAGE = ("stderr", "input_tokens", "cached_tokens", "output_tokens", "items", "cost_per_task")


@dataclass
class ScoreCounts:
    """What one source's score observations changed."""

    new_scores: int = 0
    changed_scores: int = 0
    unchanged_scores: int = 0


def apply_scores(s: Session, source: str, run_id: int, at: dt.datetime, tag: str, scores: list[ScoreRow],
                 benchmarks: list[BenchmarkRow]) -> ScoreCounts:
    """Write the observations that are new; return the counts."""
    counts = ScoreCounts()
    if not scores:
        return counts
    known_benchmarks = set(s.scalars(select(BenchmarkRecord.slug)))
    wanted = {b.slug: b for b in benchmarks}
    rows_of = [wanted.get(slug) or BENCHMARKS.get(slug) or BenchmarkRow(slug, slug)
               for slug in sorted({r.benchmark for r in scores} - known_benchmarks)]
    new_benchmarks = [{"slug": b.slug, "name": b.name, "scale": b.scale} for b in rows_of]
    if new_benchmarks:
        s.execute(insert(BenchmarkRecord), new_benchmarks)
    models = {r.model_id for r in scores}
    latest: dict[tuple[str, str, str, str], ScoreRecord] = {}
    exact: dict[tuple[str, str, str, str, dt.date | None], ScoreRecord] = {}
    for rec in s.scalars(select(ScoreRecord).where(ScoreRecord.model_id.in_(models)).order_by(ScoreRecord.id)):
        key = (rec.model_id, rec.benchmark, rec.harness, rec.effort)
        exact[(*key, rec.observed_on)] = rec
        before = latest.get(key)
        if before is None or (rec.observed_on or dt.date.min) >= (before.observed_on or dt.date.min):
            latest[key] = rec
    rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str, dt.date]] = set()
    last = {(r.model_id, r.benchmark, r.harness, r.effort, r.date or at.date()): r for r in scores}
    for row in last.values():  # two runs of one day in one document: the later row stands
        key = (row.model_id, row.benchmark, row.harness, row.effort)
        day = row.date or at.date()
        same_day = exact.get((*key, day))
        before = latest.get(key)
        if same_day is not None or (*key, day) in seen:
            if same_day is not None and abs(same_day.value - row.value) > 1e-9:
                raise DataError(f"{row.model_id} on {row.benchmark} ({row.harness}, {day}): the source now says "
                                f"{row.value:g}, earlier {same_day.value:g} for the same run")
            counts.unchanged_scores += 1
            continue
        if row.date is None and before is not None and abs(before.value - row.value) <= 1e-9:
            counts.unchanged_scores += 1
            continue
        seen.add((*key, day))
        rows.append({"model_id": row.model_id, "benchmark": row.benchmark, "value": row.value,
                     "harness": row.harness, "effort": row.effort, "observed_on": day,
                     "citation": (row.source + tag)[-1000:], **{f: getattr(row, f) for f in _USAGE}})
        kind = "score_changed" if before is not None else "new_score"
        effort = f", {row.effort}" if row.effort else ""
        detail = f"{row.benchmark} {row.value:g} ({row.harness or 'no harness'}{effort})"
        if before is not None:
            detail += f", was {before.value:g}" + (f" on {before.observed_on}" if before.observed_on else "")
            counts.changed_scores += 1
        else:
            counts.new_scores += 1
        changes.append({"run_id": run_id, "source": source, "at": at, "kind": kind, "model_id": row.model_id,
                        "provider": None, "effective_date": day.isoformat(), "detail": detail})
    if rows:
        _write(s, rows)
        s.execute(insert(ChangeRecord), changes)
    return counts


def _write(s: Session, rows: list[dict[str, Any]]) -> None:
    citations = {r["citation"] for r in rows}
    ids = {c: i for c, i in s.execute(select(Source.citation, Source.id).where(Source.citation.in_(citations)))}
    missing = [{"citation": c} for c in sorted(citations - set(ids))]
    if missing:
        s.execute(insert(Source), missing)
        ids = {c: i for c, i in s.execute(select(Source.citation, Source.id).where(Source.citation.in_(citations)))}
    s.execute(insert(ScoreRecord), [{**{k: v for k, v in r.items() if k != "citation"},
                                     "source_id": ids[r["citation"]]} for r in rows])
