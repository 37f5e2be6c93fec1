"""satisfice's own eval runs as score observations: accuracy, tokens and measured cost per item, per model.

Each complete run of a task gives, per model that answered, one observation of the benchmark named
by the task (slugified), harness ``satisfice``, dated by the run's end: accuracy in per cent, the
mean input and output tokens per answered item and, when the run was priced, its cost per item. These
are the token counts ``market run-cost`` prices at the offer in force.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from satisfice.catalog.batch import slugify
from satisfice.catalog.rows import ScoreRow
from satisfice.evals.results import results_from_dict
from satisfice.store import Store
from satisfice.store.schema_evals import EvalRunRecord

HARNESS = "satisfice"


def eval_observations(store: Store) -> list[ScoreRow]:
    """One observation per model of every complete eval run that has a summary."""
    out: list[ScoreRow] = []
    with store.session() as s:
        runs = list(s.scalars(select(EvalRunRecord).where(EvalRunRecord.status == "complete",
                                                           EvalRunRecord.summary.is_not(None))
                              .order_by(EvalRunRecord.id)))
    for run in runs:
        try:
            results = results_from_dict(json.loads(run.summary or "{}"))
        except (ValueError, TypeError, KeyError):
            continue  # a summary from an older format: not an observation
        for m in results.models:
            if not m.n_responses or m.accuracy is None:
                continue
            out.append(ScoreRow(
                model_id=m.model, benchmark=slugify(run.task), value=100 * m.accuracy, harness=HARNESS,
                source=f"satisfice eval run {run.id} ({run.task}), {m.n_responses} answered items",
                date=run.finished_at.date() if run.finished_at else None,
                input_tokens=m.tokens_in / m.n_responses, output_tokens=m.tokens_out / m.n_responses,
                items=m.n, cost_per_task=m.cost_per_request))
    return out
