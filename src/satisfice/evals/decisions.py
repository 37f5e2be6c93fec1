"""Decisions that evaluation runs leave in the store, for the gateway's ``from_eval`` policy to read.

A decision names the models that passed (cheapest first), the reference, and how to reach each candidate
(``base_url``, ``api_key_env``, ``provider_model``; never a key itself).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from satisfice.core import ModelRef
from satisfice.store import Store
from satisfice.store.schema_evals import EvalDecisionRecord


@dataclass(frozen=True)
class StoredDecision:
    """The latest verdict for a task."""

    task: str
    created_at: dt.datetime
    passing: list[str]
    """Models that passed, cheapest first (models of unknown cost last)."""
    reference: str | None
    candidates: dict[str, dict[str, Any]]
    """model id -> ``{"id", "provider", "base_url", "api_key_env", "provider_model"}``."""
    recommended: str | None = None
    run_id: int | None = None
    threshold: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def ref(self, model: str) -> ModelRef:
        """The ModelRef of a candidate named in this decision."""
        c = self.candidates[model]
        return ModelRef(id=c.get("id", model), provider=c.get("provider") or "",
                        base_url=c.get("base_url"), api_key_env=c.get("api_key_env"),
                        provider_model=c.get("provider_model"))


def ref_dict(ref: ModelRef) -> dict[str, Any]:
    """A ModelRef as the plain dict kept in a decision."""
    return {"id": ref.id, "provider": ref.provider, "base_url": ref.base_url, "api_key_env": ref.api_key_env,
            "provider_model": ref.provider_model}


def save_decision(store: Store, *, task: str, passing: Sequence[str], reference: str | None,
                  candidates: Mapping[str, ModelRef], recommended: str | None, run_id: int | None,
                  threshold: str = "") -> None:
    """Store a run's decision (one committed row)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.transaction() as s:
        s.add(EvalDecisionRecord(task=task, run_id=run_id, created_at=now, threshold=threshold,
                                 passing=json.dumps(list(passing)), reference=reference, recommended=recommended,
                                 candidates=json.dumps({k: ref_dict(v) for k, v in candidates.items()})))


def latest_decision(store: Store, task: str) -> StoredDecision | None:
    """The newest stored decision for ``task``, or None when the task was never evaluated."""
    with store.session() as s:
        row = s.scalars(select(EvalDecisionRecord).where(EvalDecisionRecord.task == task)
                        .order_by(EvalDecisionRecord.created_at.desc(), EvalDecisionRecord.id.desc())
                        .limit(1)).first()
        if row is None:
            return None
        return StoredDecision(task=row.task, created_at=row.created_at, passing=list(json.loads(row.passing)),
                              reference=row.reference, candidates=dict(json.loads(row.candidates)),
                              recommended=row.recommended, run_id=row.run_id, threshold=row.threshold)
