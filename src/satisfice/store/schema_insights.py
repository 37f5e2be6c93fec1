"""Insight tables: dated insights (one per pipeline run or replayed date) and the findings each holds.

A finding's ``fingerprint`` names the fact (kind, bar, models, figures), unique across the table: the same
fact found again (a re-run on unchanged data, a second backfill) adds nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from satisfice.store.schema import Base


class InsightRecord(Base):
    """One dated insight: the findings of one pipeline run, or of one date of the replayed history."""

    __tablename__ = "insights"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    trigger: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class InsightFindingRecord(Base):
    """One finding of an insight; ``doc`` is its JSON form (kind, bar, models, numbers, sources)."""

    __tablename__ = "insight_findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    insight_id: Mapped[int] = mapped_column(ForeignKey("insights.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    benchmark: Mapped[str | None] = mapped_column(String(100), nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    doc: Mapped[str] = mapped_column(Text)
