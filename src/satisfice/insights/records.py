"""Storing and reading insights: new findings are written once (by fingerprint), read back as articles."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from satisfice.errors import NotFoundError
from satisfice.insights.articles import article
from satisfice.market.findings import Finding
from satisfice.store import Store
from satisfice.store.schema import Source
from satisfice.store.schema_insights import InsightFindingRecord, InsightRecord


def utcnow() -> dt.datetime:
    """Now in UTC, naive (how the store keeps times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def add_findings(s: Session, findings: Sequence[Finding], *, key: str, day: dt.date, trigger: str,
                 run_id: int | None = None, now: dt.datetime | None = None) -> int | None:
    """Write the findings not stored yet under the insight ``key`` (created when needed), inside ``s``.

    Returns the insight's id, or None when every finding was already known (then nothing is written).
    """
    known = set(s.scalars(select(InsightFindingRecord.fingerprint).where(
        InsightFindingRecord.fingerprint.in_([f.fingerprint() for f in findings]))))
    new: dict[str, Finding] = {}
    for f in findings:
        fp = f.fingerprint()
        if fp not in known and fp not in new:
            new[fp] = f
    if not new:
        return None
    rec = s.scalars(select(InsightRecord).where(InsightRecord.key == key)).first()
    if rec is None:
        rec = InsightRecord(key=key, date=day, created_at=now or utcnow(), trigger=trigger, run_id=run_id)
        s.add(rec)
        s.flush()
    for fp, f in new.items():
        s.add(InsightFindingRecord(insight_id=rec.id, fingerprint=fp, kind=f.kind, benchmark=f.benchmark,
                                   threshold=f.threshold, doc=json.dumps(f.to_json())))
    return rec.id


def record(store: Store, findings: Sequence[Finding], *, key: str, day: dt.date, trigger: str,
           run_id: int | None = None, now: dt.datetime | None = None) -> int | None:
    """:func:`add_findings` in a transaction of its own."""
    if not findings:
        return None
    with store.transaction() as s:
        return add_findings(s, findings, key=key, day=day, trigger=trigger, run_id=run_id, now=now)


def _findings(s: Session, insight_ids: Iterable[int]) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = {}
    rows = s.scalars(select(InsightFindingRecord).where(InsightFindingRecord.insight_id.in_(list(insight_ids)))
                     .order_by(InsightFindingRecord.id))
    for row in rows:
        out.setdefault(row.insight_id, []).append(Finding.from_json(json.loads(row.doc)))
    return out


def _urls(s: Session, findings: Iterable[Finding]) -> dict[str, str | None]:
    cited = sorted({c for f in findings for c in f.sources})
    urls: dict[str, str | None] = {}
    for i in range(0, len(cited), 500):
        for src in s.scalars(select(Source).where(Source.citation.in_(cited[i:i + 500]))):
            urls[src.citation] = src.url
    return urls


def _articles(s: Session, recs: Sequence[InsightRecord]) -> list[dict[str, Any]]:
    found = _findings(s, [r.id for r in recs])
    urls = _urls(s, [f for fs in found.values() for f in fs])
    return [article(r.id, r.date, r.trigger, r.run_id, found.get(r.id, []), urls) for r in recs]


def list_insights(store: Store, since: dt.date | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Insights dated ``since`` or later (every one by default), newest first, as articles."""
    with store.session() as s:
        q = select(InsightRecord).order_by(InsightRecord.date.desc(), InsightRecord.id.desc())
        if since is not None:
            q = q.where(InsightRecord.date >= since)
        if limit is not None:
            q = q.limit(limit)
        return _articles(s, list(s.scalars(q)))


def get_insight(store: Store, insight_id: int) -> dict[str, Any]:
    """One insight as an article.

    Raises:
        NotFoundError: no insight with that id.
    """
    with store.session() as s:
        rec = s.get(InsightRecord, insight_id)
        if rec is None:
            raise NotFoundError(f"no insight with id {insight_id} (satisfice insights list shows them)")
        return _articles(s, [rec])[0]
