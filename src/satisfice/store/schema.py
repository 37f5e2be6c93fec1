"""Catalog tables: sources, models, benchmarks, dated offers (prices) and scores.

Portable SQL only (SQLite and PostgreSQL). Prices are observations: a new price is a new
row with its own effective date, never an update of an old one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every satisfice table."""

    metadata = MetaData(naming_convention=NAMING)


class Meta(Base):
    """Small key/value facts about the store itself (e.g. which bundled catalog it holds)."""

    __tablename__ = "satisfice_meta"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Source(Base):
    """A citation that backs an offer or a score."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    citation: Mapped[str] = mapped_column(String(1000), unique=True)
    url: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class ModelRecord(Base):
    """A model: what it is, who made it, whether its weights are open."""

    __tablename__ = "models"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    organization: Mapped[str | None] = mapped_column(String(200), nullable=True)
    open_weights: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    licence: Mapped[str | None] = mapped_column(String(200), nullable=True)
    params_total_b: Mapped[float | None] = mapped_column(Float, nullable=True)
    params_active_b: Mapped[float | None] = mapped_column(Float, nullable=True)
    release_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reasoning: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    """``chat``, ``embedding``, ``image`` ... when a source's metadata says (else the name rule decides)."""


class BenchmarkRecord(Base):
    """A benchmark; ``scale`` is ``percent`` (0-100) or ``elo``."""

    __tablename__ = "benchmarks"
    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scale: Mapped[str] = mapped_column(String(20), default="percent")


class OfferRecord(Base):
    """A dated price point of one model at one provider, in USD per million tokens.

    ``blended_per_m`` is set when a source gives only a blended price (Epoch AI's data);
    ``blend_input_share`` then says which blend it is. ``recorded_at`` is when the price was observed:
    two observations on one day that saw different prices are both kept.
    """

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("model_id", "provider", "effective_date", "recorded_at", name="uq_offers_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"), index=True)
    provider: Mapped[str] = mapped_column(String(200))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    input_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    output_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    cached_input_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    blended_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    blend_input_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    provider_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    """``first-party``, ``serving``, ``reseller`` or ``subscription``, classified at import."""


class ScoreRecord(Base):
    """One observation of a model's score on a benchmark: who ran it (harness), at what effort, when.

    Observations are never overwritten: a newer run of the same harness is a new row with its own
    ``observed_on``. Token counts and cost are per task, when the source publishes them.
    """

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("model_id", "benchmark", "harness", "effort", "observed_on",
                                       name="uq_scores_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"), index=True)
    benchmark: Mapped[str] = mapped_column(ForeignKey("benchmarks.slug"))
    value: Mapped[float] = mapped_column(Float)
    harness: Mapped[str] = mapped_column(String(300), default="")
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    effort: Mapped[str] = mapped_column(String(100), default="")
    observed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    stderr: Mapped[float | None] = mapped_column(Float, nullable=True)
    input_tokens: Mapped[float | None] = mapped_column(Float, nullable=True)
    cached_tokens: Mapped[float | None] = mapped_column(Float, nullable=True)
    output_tokens: Mapped[float | None] = mapped_column(Float, nullable=True)
    items: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost_per_task: Mapped[float | None] = mapped_column(Float, nullable=True)
