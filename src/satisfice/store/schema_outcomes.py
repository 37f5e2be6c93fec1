"""Production-loop tables: outcomes (feedback, verifier verdicts, shadow agreement), logged content, experiments.

Every source of evidence about a served answer is one ``gateway_outcomes`` row naming its ``kind``; a client's
second feedback for a request marks the first ``superseded`` (history kept). Prompts and answers are kept in
``gateway_contents`` only for routes that opt in (``log_content: true``), masked before they are stored.
``gateway_experiments`` holds each challenger's state and latest evidence; a promotion written here is what every
gateway instance on the store picks up. ``gateway_drift`` holds each watched route's latest drift check.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from satisfice.store.schema import Base


class GatewayOutcome(Base):
    """One piece of evidence on one served request: a score in [0, 1] and where it came from."""

    __tablename__ = "gateway_outcomes"
    __table_args__ = (
        Index("ix_gateway_outcomes_request", "request_id"),
        Index("ix_gateway_outcomes_route_model", "route", "model", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    request_id: Mapped[str] = mapped_column(String(80))
    """The spend row's ``entry_id`` (what the ``x-satisfice-request-id`` header carries)."""
    key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    route: Mapped[str] = mapped_column(String(300))
    model: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    """``feedback``, ``verifier`` or ``shadow``."""
    score: Mapped[float] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(100), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    experiment: Mapped[bool] = mapped_column(Boolean, default=False)
    """The request was sent to this model as an experiment's exploration."""
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)


class GatewayContent(Base):
    """The masked prompt and answer of one request on a route with ``log_content: true``."""

    __tablename__ = "gateway_contents"
    __table_args__ = (Index("ix_gateway_contents_route_created", "route", "created_at"),)
    request_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    route: Mapped[str] = mapped_column(String(300))
    model: Mapped[str] = mapped_column(String(300))
    prompt: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)


class GatewayExperiment(Base):
    """One challenger of one route's experiment: its state and its latest evidence."""

    __tablename__ = "gateway_experiments"
    route: Mapped[str] = mapped_column(String(300), primary_key=True)
    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    incumbent: Mapped[str] = mapped_column(String(300))
    bar: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(20))
    """``running``, ``promoted`` or ``stopped``."""
    reason: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_low: Mapped[float] = mapped_column(Float, default=0.0)
    ci_high: Mapped[float] = mapped_column(Float, default=1.0)
    spend_usd: Mapped[float] = mapped_column(Float, default=0.0)


class GatewayDrift(Base):
    """The latest drift check of a route: the anytime-valid interval on its recent accuracy, and the alarm."""

    __tablename__ = "gateway_drift"
    route: Mapped[str] = mapped_column(String(300), primary_key=True)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    bar: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    window: Mapped[int] = mapped_column(Integer)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_low: Mapped[float] = mapped_column(Float, default=0.0)
    ci_high: Mapped[float] = mapped_column(Float, default=1.0)
    alarm: Mapped[bool] = mapped_column(Boolean, default=False)


__all__ = ["GatewayContent", "GatewayDrift", "GatewayExperiment", "GatewayOutcome"]
