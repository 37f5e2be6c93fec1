"""The money sections of the gateway's config: how spend rows are written and how the shared ledger leases.

Read by :class:`~satisfice.gateway.money.books.Books`; part of the whole config
(:class:`~satisfice.gateway.routes.config.GatewayConfig`, sections ``spend_log`` and ``ledger``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpendLogConfig(_Strict):
    """How the spend log is written in the background."""

    flush_interval_s: float = Field(default=0.5, gt=0)
    batch_size: int = Field(default=500, ge=1)


class LedgerConfig(_Strict):
    """The shared budget ledger and the durability of spend rows."""

    durability: Literal["write", "fsync", "off"] = "write"
    """``write``: each row is journaled with write(2) before its answer is released (survives kill -9);
    ``fsync``: also synced to disk (survives power loss); ``off``: rows wait in memory for the next batch."""
    journal_dir: str | None = None
    """Folder of the instances' journals (default: SATISFICE_HOME/gateway-journal/<store>)."""
    lease_fraction: float = Field(default=0.25, gt=0, le=1)
    lease_ttl_s: float = Field(default=30.0, ge=3)
    lease_idle_s: float = Field(default=2.0, gt=0)
    key_poll_s: float = Field(default=0.25, gt=0, le=1)

    @field_validator("durability", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value  # YAML reads a bare ``off`` as false


__all__ = ["LedgerConfig", "SpendLogConfig"]
