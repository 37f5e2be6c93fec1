"""What the runner writes to the store: the content-keyed response cache, and each run's errors and scores.

The cache key is ``sha256`` of the model's wire identity (id, provider, base_url, provider model name) and the
full request (messages or prompt, max_tokens, temperature, stop, extra params). The API key is not part of it.
Every write is committed before the caller goes on, so a process killed at any moment loses at most what it had
not yet written; :mod:`satisfice.evals.writer` commits the runner's writes in groups (one transaction for every
write that arrived meanwhile) through :meth:`ResponseCache.write_batch`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from satisfice.core import Completion, CompletionRequest, ModelRef, Usage
from satisfice.store import Store
from satisfice.store.schema_evals import (
    EvalErrorRecord,
    EvalRunRecord,
    EvalScoreRecord,
    ResponseRecord,
)

KEY_VERSION = 1


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def request_payload(request: CompletionRequest) -> dict[str, Any]:
    """The request as a plain JSON-able dict (everything that can change the answer)."""
    return {
        "messages": [[m.role, m.content] for m in request.messages],
        "prompt": request.prompt,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "stop": list(request.stop) if request.stop is not None else None,
        "extra": request.extra,
    }


def model_identity(ref: ModelRef) -> dict[str, Any]:
    """What identifies the model on the wire (the API key variable is deliberately left out)."""
    return {"id": ref.id, "provider": ref.provider, "base_url": (ref.base_url or "").rstrip("/") or None,
            "provider_model": ref.wire_name}


def canonical_json(value: Any) -> str:
    """Stable JSON text: sorted keys, no spaces, non-JSON values as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def request_key(ref: ModelRef, request: CompletionRequest) -> str:
    """Hex sha256 of (model wire identity, full request)."""
    return key_of(canonical_json(model_identity(ref)), request_json(request))


def request_json(request: CompletionRequest) -> str:
    """The request's canonical JSON: what the ``eval_responses`` row keeps and what its key hashes."""
    return canonical_json(request_payload(request))


def key_of(identity_json: str, request_text: str) -> str:
    """:func:`request_key` from the canonical JSON of the model identity and of the request.

    The text hashed is ``canonical_json({"v", "model", "request"})`` spliced from its parts (sorted keys:
    model, request, v), so a caller that needs the request's JSON anyway encodes it once.
    """
    text = f'{{"model":{identity_json},"request":{request_text},"v":{KEY_VERSION}}}'
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedResponse:
    """A stored response, enough to score it and to count its cost again."""

    key: str
    completion: Completion
    cost_usd: float | None
    attempts: int


def _to_cached(row: ResponseRecord) -> CachedResponse:
    completion = Completion(
        text=row.text,
        usage=Usage(row.input_tokens, row.output_tokens, row.cached_input_tokens),
        model=row.model_id,
        finish_reason=row.finish_reason,
        latency_s=row.latency_s,
        cost_usd=row.billed_cost_usd,
    )
    return CachedResponse(row.key, completion, row.cost_usd, row.attempts)


def response_row(key: str, ref: ModelRef, request: CompletionRequest, completion: Completion,
                 cost_usd: float | None, attempts: int, request_text: str | None = None) -> dict[str, Any]:
    """The ``eval_responses`` row of one answer (``request_text``: the request's JSON when already encoded)."""
    return {"key": key, "model_id": ref.id, "base_url": ref.base_url, "provider_model": ref.provider_model,
            "request": request_json(request) if request_text is None else request_text, "text": completion.text,
            "input_tokens": completion.usage.input_tokens, "output_tokens": completion.usage.output_tokens,
            "cached_input_tokens": completion.usage.cached_input_tokens, "latency_s": completion.latency_s,
            "billed_cost_usd": completion.cost_usd, "cost_usd": cost_usd,
            "finish_reason": completion.finish_reason[:50] if completion.finish_reason else None,
            "attempts": attempts, "created_at": _now()}


def score_row(run_id: int, model: str, item_id: str, index: int, key: str, score: float, explanation: str,
              judge_cost: float) -> dict[str, Any]:
    """The ``eval_scores`` row of one scored item."""
    return {"run_id": run_id, "model_id": model, "item_id": item_id[:200], "item_index": index,
            "request_key": key, "score": score, "explanation": explanation[:4000], "judge_cost_usd": judge_cost}


def error_row(run_id: int, model: str, item_id: str, key: str, attempts: int, kind: str,
              message: str) -> dict[str, Any]:
    """The ``eval_errors`` row of one failed item."""
    return {"run_id": run_id, "model_id": model, "item_id": item_id[:200], "request_key": key,
            "attempts": attempts, "kind": kind[:50], "message": message[:4000], "created_at": _now()}


def _table(record: type[Any]) -> Table:
    """The Core table of a record class."""
    table: Table = record.__table__
    return table


class ResponseCache:
    """Successful responses in the store, keyed by content; also the run log (runs, errors, scores)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._statements: dict[tuple[type[Any], tuple[str, ...]], str] = {}

    def get(self, key: str) -> CachedResponse | None:
        """The stored response for ``key``, if any."""
        with self.store.session() as s:
            row = s.get(ResponseRecord, key)
            return _to_cached(row) if row is not None else None

    def get_many(self, keys: Iterable[str]) -> dict[str, CachedResponse]:
        """Stored responses for many keys (queried in chunks)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, CachedResponse] = {}
        with self.store.session() as s:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                for row in s.scalars(select(ResponseRecord).where(ResponseRecord.key.in_(chunk))):
                    found[row.key] = _to_cached(row)
        return found

    def put(self, key: str, ref: ModelRef, request: CompletionRequest, completion: Completion,
            cost_usd: float | None, attempts: int) -> None:
        """Store (or replace) a response and commit before returning."""
        self.write_batch([("response", response_row(key, ref, request, completion, cost_usd, attempts))])

    def write_batch(self, writes: list[tuple[str, dict[str, Any]]]) -> None:
        """Commit many writes in one transaction: ``("response" | "score" | "error", row)`` in order.

        A response replaces a stored one with the same key (the newest answer wins, as with one write at a time).
        On SQLite and PostgreSQL each table's rows go to the driver as one ``executemany`` of plain SQL (an
        upsert for responses): no statement building or per-row type processing on the writer thread.
        """
        responses = list({row["key"]: row for kind, row in writes if kind == "response"}.values())
        groups = [(ResponseRecord, responses), (EvalScoreRecord, [row for k, row in writes if k == "score"]),
                  (EvalErrorRecord, [row for k, row in writes if k == "error"])]
        with self.store.engine.begin() as conn:
            for record, rows in groups:
                if not rows:
                    continue
                if self.store.dialect in ("sqlite", "postgresql"):
                    conn.exec_driver_sql(self._sql(record, tuple(rows[0])), self._params(rows))
                elif record is ResponseRecord:  # any other dialect: one merge per row
                    with Session(bind=conn) as s:
                        for row in rows:
                            s.merge(ResponseRecord(**row))
                        s.flush()
                else:
                    conn.execute(insert(_table(record)), rows)

    def _sql(self, record: type[Any], columns: tuple[str, ...]) -> str:
        """The driver's INSERT (an upsert on ``key`` for responses) for these columns, built once."""
        sql = self._statements.get((record, columns))
        if sql is None:
            mark = ":{}" if self.store.dialect == "sqlite" else "%({})s"
            names = ", ".join(f'"{c}"' for c in columns)
            sql = (f'INSERT INTO "{_table(record).name}" ({names}) '
                   f'VALUES ({", ".join(mark.format(c) for c in columns)})')
            if record is ResponseRecord:
                sql += ' ON CONFLICT ("key") DO UPDATE SET ' + ", ".join(
                    f'"{c}" = excluded."{c}"' for c in columns if c != "key")
            self._statements[(record, columns)] = sql
        return sql

    def _params(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows as the driver takes them: SQLite gets times as text in SQLAlchemy's own format."""
        if self.store.dialect != "sqlite" or "created_at" not in rows[0]:
            return rows
        return [{**row, "created_at": f"{row['created_at']:%Y-%m-%d %H:%M:%S.%f}"} for row in rows]

    # --- the run log -------------------------------------------------------------------------------------

    def start_run(self, task: str, task_hash: str, task_file: str, models: list[str]) -> int:
        """Create a run row (status ``running``) and return its id."""
        with self.store.transaction() as s:
            run = EvalRunRecord(task=task, task_hash=task_hash, task_file=task_file, models=json.dumps(models),
                                status="running", started_at=_now())
            s.add(run)
            s.flush()
            return run.id

    def finish_run(self, run_id: int, *, status: str, spent_usd: float, calls: int, cache_hits: int,
                   summary: dict[str, Any] | None) -> None:
        """Close a run with its status, spend, counts and the result summary (JSON)."""
        with self.store.transaction() as s:
            s.execute(update(EvalRunRecord).where(EvalRunRecord.id == run_id).values(
                status=status, finished_at=_now(), spent_usd=spent_usd, calls=calls, cache_hits=cache_hits,
                summary=json.dumps(summary, default=str) if summary is not None else None))

    def record_error(self, run_id: int, model: str, item_id: str, key: str, attempts: int, kind: str,
                     message: str) -> None:
        """Keep an item's failure (after its bounded attempts), apart from the responses."""
        self.write_batch([("error", error_row(run_id, model, item_id, key, attempts, kind, message))])

    def record_score(self, run_id: int, model: str, item_id: str, index: int, key: str, score: float,
                     explanation: str, judge_cost: float) -> None:
        """Keep one item's score for this run."""
        self.write_batch([("score", score_row(run_id, model, item_id, index, key, score, explanation,
                                              judge_cost))])

    def run_summary(self, run_id: int) -> tuple[EvalRunRecord, dict[str, Any] | None] | None:
        """A run row and its stored summary, or None when there is no such run."""
        with self.store.session() as s:
            run = s.get(EvalRunRecord, run_id)
            if run is None:
                return None
            return run, (json.loads(run.summary) if run.summary else None)

    def latest_run_id(self, task: str | None = None) -> int | None:
        """The newest run (of ``task`` when given)."""
        with self.store.session() as s:
            q = select(EvalRunRecord.id).order_by(EvalRunRecord.id.desc()).limit(1)
            if task is not None:
                q = q.where(EvalRunRecord.task == task)
            return s.scalars(q).first()
