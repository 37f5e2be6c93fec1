"""Virtual keys: create, list and revoke them in the store, and check them fast from an in-memory cache.

A key is shown once, at creation. The store keeps only ``HMAC-SHA256(salt, key)`` where ``salt`` is a random
per-store secret kept in ``satisfice_meta``, plus a short display prefix. The gateway loads every active key's
hash into a dict at start and refreshes it in the background, so checking a request costs one HMAC and one
dict lookup. Every change to a key (create, revoke, budget change) bumps a version number in
``satisfice_meta`` in the same transaction; running gateways poll that number (a one-row read, every 0.25 s by
default) and reload the keys when it moves, so a change reaches every instance well within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from satisfice.errors import ConfigError, NotFoundError
from satisfice.store import Store
from satisfice.store.schema import Meta
from satisfice.store.schema_gateway import GatewayKey

log = logging.getLogger("satisfice.gateway")

Period = Literal["day", "week", "month", "total"]
PERIODS: tuple[Period, ...] = ("day", "week", "month", "total")
KEY_PREFIX = "sk-sat-"
SALT_META_KEY = "gateway_key_salt"
VERSION_META_KEY = "gateway_keys_version"


def utcnow() -> dt.datetime:
    """Now in UTC as a naive datetime (how the store keeps times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def period_start(period: str, now: dt.datetime) -> dt.datetime | None:
    """Start (UTC) of the budget period containing ``now``; None for ``total`` (the budget never resets)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return None


def period_tag(period: str, now: dt.datetime) -> str:
    """Name of the budget period containing ``now``: ``total``, ``d2025-03-14``, ``w2025-03-10``, ``m2025-03``."""
    start = period_start(period, now)
    if start is None:
        return "total"
    if period == "month":
        return f"m{start:%Y-%m}"
    return f"{period[0]}{start:%Y-%m-%d}"


def tag_bounds(tag: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) in UTC of a period named by :func:`period_tag` (both None for ``total``)."""
    if tag == "total":
        return None, None
    kind, text = tag[0], tag[1:]
    if kind == "m":
        start = dt.datetime.strptime(text, "%Y-%m")
        return start, (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    start = dt.datetime.strptime(text, "%Y-%m-%d")
    return start, start + dt.timedelta(days=1 if kind == "d" else 7)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A virtual key as stored (never the key itself)."""

    id: str
    name: str
    prefix: str
    budget_usd: float | None
    period: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly created key: ``key`` is the secret, shown once."""

    key: str
    info: KeyInfo


def hash_key(salt: bytes, key: str) -> str:
    """The stored form of a key."""
    return hmac.digest(salt, key.encode(), "sha256").hex()


def _salt(store: Store, *, create: bool) -> bytes | None:
    with store.transaction() as s:
        row = s.get(Meta, SALT_META_KEY)
        if row is None:
            if not create:
                return None
            row = Meta(key=SALT_META_KEY, value=secrets.token_hex(32))
            s.add(row)
        return bytes.fromhex(row.value)


def _bump_version(s: Session) -> None:
    row = s.get(Meta, VERSION_META_KEY)
    if row is None:
        s.add(Meta(key=VERSION_META_KEY, value="1"))
    else:
        row.value = str(int(row.value) + 1 if row.value.isdigit() else 1)


def keys_version(store: Store) -> str:
    """The version of the key set (changes with every create, revoke or budget change)."""
    with store.session() as s:
        row = s.get(Meta, VERSION_META_KEY)
        return row.value if row is not None else "0"


def _info(row: GatewayKey) -> KeyInfo:
    return KeyInfo(id=row.id, name=row.name, prefix=row.prefix, budget_usd=row.budget_usd, period=row.period,
                   created_at=row.created_at, revoked_at=row.revoked_at)


def create_key(store: Store, *, budget_usd: float | None = None, period: str = "month",
               name: str = "") -> NewKey:
    """Create a key; only its hash is stored. ``budget_usd=None`` means no spend limit."""
    if period not in PERIODS:
        raise ConfigError(f"--period must be one of {', '.join(PERIODS)}, got {period!r}")
    if budget_usd is not None and not budget_usd >= 0:
        raise ConfigError(f"--budget-usd must be >= 0, got {budget_usd}")
    salt = _salt(store, create=True)
    assert salt is not None
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = GatewayKey(id="key_" + secrets.token_hex(6), name=name, key_hash=hash_key(salt, key),
                     prefix=key[: len(KEY_PREFIX) + 4] + "...", budget_usd=budget_usd, period=period,
                     created_at=utcnow(), revoked_at=None)
    with store.transaction() as s:
        s.add(row)
        _bump_version(s)
    return NewKey(key=key, info=_info(row))


def list_keys(store: Store, *, include_revoked: bool = True) -> list[KeyInfo]:
    """Every key, oldest first."""
    with store.session() as s:
        rows = s.scalars(select(GatewayKey).order_by(GatewayKey.created_at, GatewayKey.id)).all()
        return [_info(r) for r in rows if include_revoked or r.revoked_at is None]


def revoke_key(store: Store, key_id: str) -> KeyInfo:
    """Revoke a key by its id (``key_...``); revoking twice keeps the first revocation time."""
    with store.transaction() as s:
        row = s.get(GatewayKey, key_id)
        if row is None:
            raise NotFoundError(f"no gateway key with id {key_id!r} (see `satisfice gateway keys list`)")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            _bump_version(s)
        return _info(row)


def set_budget(store: Store, key_id: str, budget_usd: float | None) -> KeyInfo:
    """Change a key's budget (None: no limit); running gateways apply it within a second."""
    if budget_usd is not None and not budget_usd >= 0:
        raise ConfigError(f"--budget-usd must be >= 0, got {budget_usd}")
    with store.transaction() as s:
        row = s.get(GatewayKey, key_id)
        if row is None:
            raise NotFoundError(f"no gateway key with id {key_id!r} (see `satisfice gateway keys list`)")
        row.budget_usd = budget_usd
        _bump_version(s)
        return _info(row)


def load_active(store: Store) -> tuple[bytes | None, dict[str, KeyInfo]]:
    """The salt and every active key, by hash (what :class:`KeyCache` holds)."""
    salt = _salt(store, create=False)
    with store.session() as s:
        rows = s.scalars(select(GatewayKey).where(GatewayKey.revoked_at.is_(None))).all()
        return salt, {r.key_hash: _info(r) for r in rows}


def presented(authorization: str | None, api_key: str | None) -> str | None:
    """The credential a client sent, as an ``Authorization`` value: that header, else ``x-api-key`` as Bearer.

    OpenAI's clients send ``Authorization: Bearer``; Anthropic's send ``x-api-key``. Every endpoint that takes a
    key reads it through this one rule.
    """
    return authorization or (f"Bearer {api_key}" if api_key else None)


class KeyCache:
    """Active keys by hash, checked per request without touching the store.

    Tokens already verified are remembered (in memory only, at most ``max_verified``) so a returning client
    costs one dict lookup; the memo is dropped whenever the keys are reloaded, so revocations apply.
    """

    __slots__ = ("_by_hash", "_salt", "_verified", "max_verified")

    def __init__(self, salt: bytes | None = None, keys: dict[str, KeyInfo] | None = None, *,
                 max_verified: int = 10_000) -> None:
        self._salt = salt
        self._by_hash: dict[str, KeyInfo] = keys or {}
        self._verified: dict[str, KeyInfo] = {}
        self.max_verified = max_verified

    def replace(self, salt: bytes | None, keys: dict[str, KeyInfo]) -> None:
        """Swap in a freshly loaded set of keys."""
        self._salt, self._by_hash, self._verified = salt, keys, {}

    def keys(self) -> list[KeyInfo]:
        """Every cached key."""
        return list(self._by_hash.values())

    def lookup(self, authorization: str | None) -> KeyInfo | None:
        """The key named by an ``Authorization: Bearer ...`` header value, or None."""
        if authorization is None:
            return None
        known = self._verified.get(authorization)
        if known is not None:
            return known
        salt = self._salt
        if not authorization or salt is None:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        if not token.startswith(KEY_PREFIX):
            return None
        info = self._by_hash.get(hash_key(salt, token))
        if info is not None:
            if len(self._verified) >= self.max_verified:
                self._verified.clear()
            self._verified[authorization] = info
        return info


class OnMiss:
    """Reload the keys when a request names an unknown key, at most once per ``interval_s`` (shared while running).

    A key created on any instance then works on every instance at once, and at the latest within the key-poll
    interval; unknown keys cost at most one one-row read of the key version per interval, whoever sends them.
    """

    def __init__(self, poll: Callable[[], Awaitable[None]], interval_s: float) -> None:
        self._poll = poll
        self._interval = interval_s
        self._running: asyncio.Future[None] | None = None
        self._at = -math.inf

    async def __call__(self) -> None:
        """Wait for a reload (one already running, or a new one if the last began ``interval_s`` ago)."""
        if self._running is None:
            now = time.monotonic()
            if now - self._at < self._interval:
                return
            self._at = now
            self._running = asyncio.ensure_future(self._poll())
            self._running.add_done_callback(self._done)
        with contextlib.suppress(Exception):  # the store is away: the key stays unknown for now
            await asyncio.shield(self._running)

    def _done(self, task: asyncio.Future[None]) -> None:
        self._running = None
        if not task.cancelled() and task.exception() is not None:
            log.error("gateway: reloading keys failed: %s", task.exception())


__all__ = ["KEY_PREFIX", "KeyCache", "KeyInfo", "NewKey", "OnMiss", "PERIODS", "Period", "create_key", "hash_key",
           "keys_version", "list_keys", "load_active", "period_start", "period_tag", "presented", "revoke_key",
           "set_budget", "tag_bounds", "utcnow"]
