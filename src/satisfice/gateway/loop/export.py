"""Production outcomes as the wide recorded-outcomes table (RouterBench's CSV), for ``select`` and training.

One row per request of a route that has at least one outcome: ``sample_id`` (the request id), ``prompt`` (when
the route logs content), and for each model that has an outcome on it ``<model>`` (its score: the outcome of
the highest kind in :data:`~satisfice.gateway.routes.loop_config.EVIDENCE_PRIORITY`, superseded feedback ignored),
``<model>|total_cost`` (what that model cost on the request: from its verifier outcome, else the spend row when
it answered alone; empty when unknown) and, with content logged, ``<model>|model_response``. Empty cells are
missing outcomes, as :func:`satisfice.evals.outcomes.load_outcomes` reads them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from satisfice.gateway.loop.outcomes import best_scores
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewaySpend
from satisfice.store.schema_outcomes import GatewayContent, GatewayOutcome


@dataclass
class _Item:
    scores: dict[str, float] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)


def export_rows(store: Store, route: str, since: dt.datetime | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """``(columns, rows)`` of the wide table for ``route`` (outcomes at or after ``since``)."""
    query = select(GatewayOutcome).where(GatewayOutcome.route == route, GatewayOutcome.superseded.is_(False))
    if since is not None:
        query = query.where(GatewayOutcome.created_at >= since)
    items: dict[str, _Item] = {}
    with store.session() as session:
        found = list(session.scalars(query.order_by(GatewayOutcome.id)))
        for (request_id, model), score in best_scores(((o.request_id, o.model), o.kind, o.score)
                                                      for o in found).items():
            items.setdefault(request_id, _Item()).scores[model] = score
        for o in found:
            if o.cost_usd is not None and o.kind == "verifier":
                items[o.request_id].costs[o.model] = o.cost_usd
        ids = list(items)
        spend: dict[str, tuple[str | None, float, int]] = {}
        content: dict[str, tuple[str, str, str]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for s in session.scalars(select(GatewaySpend).where(GatewaySpend.entry_id.in_(chunk))):
                spend[str(s.entry_id)] = (s.model, s.cost_usd, s.escalations)
            for c in session.scalars(select(GatewayContent).where(GatewayContent.request_id.in_(chunk))):
                content[c.request_id] = (c.prompt, c.model, c.answer)
    models = sorted({m for item in items.values() for m in item.scores})
    with_responses = bool(content)
    columns = ["sample_id", "prompt"]
    for model in models:
        columns += [model, f"{model}|total_cost"] + ([f"{model}|model_response"] if with_responses else [])
    rows = []
    for request_id, item in items.items():
        served_model, cost, escalations = spend.get(request_id, (None, 0.0, 0))
        prompt, answered_by, answer = content.get(request_id, ("", "", ""))
        row: dict[str, Any] = {"sample_id": request_id, "prompt": prompt}
        for model, score in item.scores.items():
            row[model] = score
            if model in item.costs:
                row[f"{model}|total_cost"] = item.costs[model]
            elif model == served_model and escalations == 0:
                row[f"{model}|total_cost"] = cost
            if with_responses and model == answered_by:
                row[f"{model}|model_response"] = answer
        rows.append(row)
    return columns, rows


def to_csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """The table as CSV text (empty cells for missing values)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


__all__ = ["export_rows", "to_csv"]
