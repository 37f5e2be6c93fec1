"""What ``/evals`` (runs, newest first) and ``/evals/<run>`` (the eval report) show."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from satisfice.errors import NotFoundError
from satisfice.evals.results import results_from_dict
from satisfice.reports.eval_report import report_context, to_json
from satisfice.store import Store
from satisfice.store.schema_evals import EvalDecisionRecord, EvalErrorRecord, EvalRunRecord
from satisfice.web.params import Params

PAGE_SIZE = 100


def runs(store: Store, p: Params) -> dict[str, Any]:
    """One page of runs with their task, status, spend and recommended model (one query per table)."""
    page = p.integer("page", 1, 1, 1_000_000)
    task = p.text("task")
    recommended = (select(EvalDecisionRecord.run_id, func.max(EvalDecisionRecord.recommended).label("rec"))
                   .group_by(EvalDecisionRecord.run_id).subquery())
    errors = (select(EvalErrorRecord.run_id, func.count().label("n")).group_by(EvalErrorRecord.run_id).subquery())
    q = (select(EvalRunRecord.id, EvalRunRecord.task, EvalRunRecord.status, EvalRunRecord.started_at,
                EvalRunRecord.finished_at, EvalRunRecord.spent_usd, EvalRunRecord.calls, EvalRunRecord.cache_hits,
                EvalRunRecord.models, recommended.c.rec, errors.c.n)
         .outerjoin(recommended, recommended.c.run_id == EvalRunRecord.id)
         .outerjoin(errors, errors.c.run_id == EvalRunRecord.id)
         .order_by(EvalRunRecord.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    count = select(func.count()).select_from(EvalRunRecord)
    tasks_q = select(EvalRunRecord.task).distinct().order_by(EvalRunRecord.task)
    if task is not None:
        q, count = q.where(EvalRunRecord.task == task), count.where(EvalRunRecord.task == task)
    with store.session() as s:
        rows = s.execute(q).all()
        total = int(s.execute(count).scalar_one())
        tasks = list(s.scalars(tasks_q))
    out = []
    for r in rows:
        try:
            models = json.loads(r.models or "[]")
        except ValueError:
            models = []
        out.append({"run": r.id, "task": r.task, "status": r.status,
                    "started_at": r.started_at.isoformat(timespec="seconds") if r.started_at else None,
                    "finished_at": r.finished_at.isoformat(timespec="seconds") if r.finished_at else None,
                    "spent_usd": r.spent_usd, "calls": r.calls, "cache_hits": r.cache_hits,
                    "models": models if isinstance(models, list) else [], "recommended": r.rec,
                    "errors": int(r.n or 0)})
    return {"data": {"total": total, "page": page, "page_size": PAGE_SIZE, "task": task, "tasks": tasks,
                     "runs": out}, "charts": {}}


def run(store: Store, run_id: str) -> dict[str, Any]:
    """One run's report: the ``eval --json`` document and the shared template's values."""
    try:
        number = int(run_id)
    except ValueError:
        raise NotFoundError(f"no eval run {run_id!r} (a run id is a number)") from None
    with store.session() as s:
        record = s.get(EvalRunRecord, number)
        if record is None:
            raise NotFoundError(f"no eval run {number} in this store")
        summary = record.summary
        meta = {"run": record.id, "task": record.task, "status": record.status, "task_file": record.task_file}
    if not summary:
        return {"data": {**meta, "results": None,
                         "message": f"run {number} ({meta['task']}) has no results: status {meta['status']}"},
                "charts": {}, "report": None}
    results = results_from_dict(json.loads(summary))
    report = report_context(results)
    return {"data": {**meta, "results": to_json(results)}, "charts": {"eval": report["figure"]}, "report": report}
