"""Pipeline tables: fetched snapshots, runs, per-source listings, changes, watches and the run lock.

A listing is what one source last said about one model at one provider (its current price, or a
dated price when the source names a start date); it is what a new fetch is compared with, so an
unchanged price adds nothing and a listing that disappears is marked ``gone_since``, never deleted.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from satisfice.store.schema import Base


class SnapshotRecord(Base):
    """Metadata of one fetched source document (the content itself is not kept)."""

    __tablename__ = "pipeline_snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    location: Mapped[str] = mapped_column(String(1000))
    version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    applied: Mapped[bool] = mapped_column(Boolean, default=False)


class RunRecord(Base):
    """One pipeline run: when, how it ended, and its JSON report."""

    __tablename__ = "pipeline_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False), index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    report: Mapped[str] = mapped_column(Text, default="{}")


class ListingRecord(Base):
    """What one source last listed for a model at a provider; ``starts`` is '' for the current price."""

    __tablename__ = "pipeline_listings"
    __table_args__ = (UniqueConstraint("source", "model_id", "provider", "starts", name="uq_pipeline_listings_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[str] = mapped_column(String(200), index=True)
    provider: Mapped[str] = mapped_column(String(200))
    starts: Mapped[str] = mapped_column(String(10), default="")
    input_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    output_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    cached_input_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    gone_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)


class ChangeRecord(Base):
    """One change a run found: a new model, a price cut or raise, a scheduled price, a listing gone."""

    __tablename__ = "pipeline_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    model_id: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(200), nullable=True)
    effective_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    old_input_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    old_output_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    new_input_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    new_output_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class WatchRecord(Base):
    """A bar a user watches: models clearing ``threshold`` on ``benchmark`` (optionally cheap, open)."""

    __tablename__ = "market_watches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    benchmark: Mapped[str] = mapped_column(String(100))
    threshold: Mapped[float] = mapped_column(Float)
    max_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    open_only: Mapped[bool] = mapped_column(Boolean, default=False)
    input_share: Mapped[float] = mapped_column(Float, default=0.75)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    satisfied: Mapped[str] = mapped_column(Text, default="[]")


class LockRecord(Base):
    """A named lock row: taken by a conditional update, so one run at a time across processes."""

    __tablename__ = "pipeline_lock"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True)
    acquired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)
