"""Gateway tables: virtual keys (hashed), the spend log, shadow checks, and the shared budget ledger.

The spend log has one row per admitted request; the ledger holds the money spent per key and period, and the
headroom each gateway instance has leased.

Portable SQL only (SQLite and PostgreSQL). Lists (models tried, errors) are stored as JSON text so the
rows stay plain. Keys are never stored in clear: only an HMAC-SHA256 of the key under a per-store salt
(kept in ``satisfice_meta``) and a short display prefix.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from satisfice.store.schema import Base


class GatewayKey(Base):
    """A virtual key: who may call the gateway and how much they may spend per period."""

    __tablename__ = "gateway_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(40))
    budget_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    period: Mapped[str] = mapped_column(String(20), default="month")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)


class GatewaySpend(Base):
    """One admitted request: what was tried, what answered, tokens, cost and outcome."""

    __tablename__ = "gateway_spend"
    __table_args__ = (
        Index("ix_gateway_spend_created_at", "created_at"),
        Index("ix_gateway_spend_key_created", "key_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    route: Mapped[str] = mapped_column(String(300))
    endpoint: Mapped[str] = mapped_column(String(40))
    stream: Mapped[bool] = mapped_column(Boolean, default=False)
    models_tried: Mapped[str] = mapped_column(Text, default="[]")
    model: Mapped[str | None] = mapped_column(String(300), nullable=True)
    upstream: Mapped[str | None] = mapped_column(String(200), nullable=True)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    tokens_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    reference_cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))
    entry_id: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    """``<instance>:<sequence>`` of the journal entry it came from (makes a journal replay idempotent)."""
    usage_invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    """The upstream's usage could not be trusted: the request was billed its estimate."""
    over_reservation: Mapped[bool] = mapped_column(Boolean, default=False)
    """The request cost more than the worst case reserved for it (billed in full)."""
    reserved_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    upstream_api: Mapped[str | None] = mapped_column(String(20), nullable=True)
    """The API spoken to the upstream that served (``endpoint`` is the one the client called): the same one
    when passed through, ``chat`` when translated."""
    lease_epoch: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The generation of the lease the request was admitted under (fencing: an expired one is re-checked)."""


class GatewayLedger(Base):
    """Money spent by one key in one budget period; moved here from leases as spend rows are written."""

    __tablename__ = "gateway_ledger"
    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    """``total``, ``d2025-03-14``, ``w2025-03-10`` or ``m2025-03``."""
    spent_usd: Mapped[float] = mapped_column(Float, default=0.0)


class GatewayLease(Base):
    """Headroom of a key's budget that one gateway instance holds to admit requests without asking the store."""

    __tablename__ = "gateway_leases"
    instance_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    amount_usd: Mapped[float] = mapped_column(Float, default=0.0)
    heartbeat_at: Mapped[float] = mapped_column(Float)
    """Unix time of the holder's last renewal; a lease not renewed for the lease TTL no longer counts."""
    epoch: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Generation of the lease (a fencing token): a new one whenever it is granted again after it expired."""


class GatewayShadow(Base):
    """A shadow check: the route's reference model answered the same request; how well did they agree."""

    __tablename__ = "gateway_shadow"
    __table_args__ = (Index("ix_gateway_shadow_route_created", "route", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    route: Mapped[str] = mapped_column(String(300))
    served_model: Mapped[str] = mapped_column(String(300))
    reference_model: Mapped[str] = mapped_column(String(300))
    method: Mapped[str] = mapped_column(String(40))
    agreement: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


__all__ = ["GatewayKey", "GatewayLease", "GatewayLedger", "GatewayShadow", "GatewaySpend"]


class GatewayJournalMark(Base):
    """How far one live instance's journal and its store writes have got (to tell a lost journal from a clean one).

    ``journaled_seq`` is renewed about once a second, ``written_seq`` with every batch written to the store; a
    journal that is gone while ``journaled_seq > written_seq`` lost the lines in between.
    """

    __tablename__ = "gateway_journal_marks"
    instance_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    directory: Mapped[str] = mapped_column(String(1000))
    journaled_seq: Mapped[int] = mapped_column(Integer, default=0)
    written_seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[float] = mapped_column(Float)


class GatewayJournalIncident(Base):
    """A damaged or lost journal found at replay: records quarantined (never credited) or missing."""

    __tablename__ = "gateway_journal_incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    instance_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    """``quarantined`` (bad records set aside), ``gap`` (sequence numbers missing) or ``missing`` (no journal)."""
    records: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text)
