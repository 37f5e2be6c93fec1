"""Evaluation tables: runs, the content-keyed response cache, error records, per-item scores, decisions.

Portable SQL only (SQLite and PostgreSQL); JSON values are stored as text. A response row is keyed by a
hash of the model's wire identity and the full request, so it is shared by every run that sends the same
request: re-running a task costs nothing for what is done. Errors are kept apart from responses and are
never cached (a later run tries again).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from satisfice.store.schema import Base


class EvalRunRecord(Base):
    """One invocation of ``satisfice eval``; ``status`` is running, complete, stopped_budget or failed."""

    __tablename__ = "eval_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task: Mapped[str] = mapped_column(String(200), index=True)
    task_hash: Mapped[str] = mapped_column(String(64))
    task_file: Mapped[str] = mapped_column(String(1000), default="")
    models: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)
    spent_usd: Mapped[float] = mapped_column(Float, default=0.0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    cache_hits: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)


class ResponseRecord(Base):
    """A successful model response, keyed by ``sha256(model wire identity + full request)``."""

    __tablename__ = "eval_responses"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200), index=True)
    base_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    provider_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cached_input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    billed_cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    finish_reason: Mapped[str | None] = mapped_column(String(50), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))


class EvalErrorRecord(Base):
    """An item that failed after its bounded attempts (or whose scorer failed); never scored."""

    __tablename__ = "eval_errors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id"), index=True)
    model_id: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str] = mapped_column(String(200))
    request_key: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))


class EvalScoreRecord(Base):
    """The score of one item for one model in one run (judge spend included)."""

    __tablename__ = "eval_scores"
    __table_args__ = (UniqueConstraint("run_id", "model_id", "item_index", name="uq_eval_scores_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id"), index=True)
    model_id: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str] = mapped_column(String(200))
    item_index: Mapped[int] = mapped_column(Integer)
    request_key: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text, default="")
    judge_cost_usd: Mapped[float] = mapped_column(Float, default=0.0)


class EvalDecisionRecord(Base):
    """What a run decided for a task; the gateway's ``from_eval`` policy reads the latest one."""

    __tablename__ = "eval_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task: Mapped[str] = mapped_column(String(200), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("eval_runs.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    threshold: Mapped[str] = mapped_column(Text, default="")
    passing: Mapped[str] = mapped_column(Text, default="[]")
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    recommended: Mapped[str | None] = mapped_column(String(200), nullable=True)
    candidates: Mapped[str] = mapped_column(Text, default="{}")
