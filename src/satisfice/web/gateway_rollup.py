"""Gateway spend and shadow checks rolled up per route, key and UTC hour in the database, kept current by id.

The spend log only grows (rows are appended, never changed), so the dashboard keeps the database's grouped
totals (per route, key and hour; one ``GROUP BY`` query) and afterwards asks only for the rows with a higher id
than it has seen, grouped the same way: a page costs a primary-key range scan of the new rows instead of a scan
of the whole log. Totals are kept per day for all time and per hour for the last :data:`HOURLY_DAYS` days.

A row committed with an id below one already read (possible only with several concurrent writers on
PostgreSQL) would be missed by the increments, so the rollup is rebuilt from scratch every :data:`REBUILD_S`
seconds (in the background; pages keep using the previous one until the new one is ready).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select

from satisfice.gateway.observability.spend_totals import SPEND_FIELDS, spend_totals
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewayShadow, GatewaySpend

HOURLY_DAYS = 2
REBUILD_S = 300.0
N_SPEND = len(SPEND_FIELDS)
SHADOW_FIELDS = ("checks", "scored", "agree", "cost")
T = TypeVar("T")


def hour_of(dialect: str, created: Any) -> ColumnElement[str]:
    """The UTC hour of a timestamp as text, ``YYYY-MM-DD HH``."""
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff'
        return func.substr(created, 1, 13)
    return func.to_char(created, "YYYY-MM-DD HH24")


def _zeros(n: int) -> list[float]:
    return [0.0] * n


@dataclass
class Rollup:
    """Spend totals per route or key and day or hour; shadow checks per route and day or hour."""

    spend_id: int = 0
    shadow_id: int = 0
    built_at: float = 0.0
    route_day: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(lambda: _zeros(N_SPEND)))
    route_hour: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(lambda: _zeros(N_SPEND)))
    key_day: dict[tuple[str | None, str], list[float]] = field(default_factory=lambda: defaultdict(
        lambda: _zeros(N_SPEND)))
    key_hour: dict[tuple[str | None, str], list[float]] = field(default_factory=lambda: defaultdict(
        lambda: _zeros(N_SPEND)))
    shadow_day: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(lambda: _zeros(4)))
    shadow_hour: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(lambda: _zeros(4)))
    thresholds: dict[str, float] = field(default_factory=dict)


def _add(target: list[float], values: tuple[Any, ...]) -> None:
    for i, v in enumerate(values):
        target[i] += float(v or 0)


class GatewayRollup:
    """The rollup of one store: read under a lock, brought up to date (new rows only) on every read.

    The first read builds it; afterwards a full rebuild runs in a background thread every :data:`REBUILD_S`
    seconds and replaces the rollup when done, so no page waits for it.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._state = Rollup()
        self._rebuilding = False

    def read(self, now: dt.datetime, use: Callable[[Rollup], T]) -> T:
        """``use(rollup)`` on a rollup that includes every row committed so far (under the lock)."""
        with self._lock:
            state = self._state
            if state.built_at == 0.0:
                state.built_at = time.monotonic()
            elif time.monotonic() - state.built_at > REBUILD_S and not self._rebuilding:
                self._rebuilding = True
                threading.Thread(target=self._rebuild, args=(now,), daemon=True, name="gateway-rollup").start()
            self._refresh(state, now)
            return use(state)

    def _rebuild(self, now: dt.datetime) -> None:
        fresh = Rollup(built_at=time.monotonic())
        try:
            self._refresh(fresh, now)  # the long full scan, outside the lock
            with self._lock:
                self._refresh(fresh, now)
                self._state = fresh
        finally:
            self._rebuilding = False

    def _refresh(self, r: Rollup, now: dt.datetime) -> None:
        sp, sh = GatewaySpend, GatewayShadow
        cutoff = (now - dt.timedelta(days=HOURLY_DAYS)).strftime("%Y-%m-%d %H")
        with self.store.session() as s:
            top_spend = s.execute(select(func.max(sp.id))).scalar() or 0
            top_shadow = s.execute(select(func.max(sh.id))).scalar() or 0
            spend_rows = []
            if top_spend > r.spend_id:
                spend_hour = hour_of(self.store.dialect, sp.created_at).label("hour")
                q = select(sp.route, sp.key_id, spend_hour, *spend_totals()).where(
                    sp.id > r.spend_id, sp.id <= top_spend).group_by(sp.route, sp.key_id, spend_hour)
                spend_rows = list(s.execute(q))
            shadow_rows = []
            if top_shadow > r.shadow_id:
                shadow_hour = hour_of(self.store.dialect, sh.created_at).label("hour")
                q_shadow = select(sh.route, shadow_hour, func.count(), func.count(sh.agreement), func.sum(sh.agreement),
                                  func.sum(sh.cost_usd), func.max(sh.threshold)
                                  ).where(sh.id > r.shadow_id, sh.id <= top_shadow).group_by(sh.route, shadow_hour)
                shadow_rows = list(s.execute(q_shadow))
        for route, key, hour, *values in spend_rows:
            day = hour[:10]
            _add(r.route_day[(route, day)], tuple(values))
            _add(r.key_day[(key, day)], tuple(values))
            if hour >= cutoff:
                _add(r.route_hour[(route, hour)], tuple(values))
                _add(r.key_hour[(key, hour)], tuple(values))
        for route, hour, checks, scored, agree, cost, threshold in shadow_rows:
            _add(r.shadow_day[(route, hour[:10])], (checks, scored, agree, cost))
            if hour >= cutoff:
                _add(r.shadow_hour[(route, hour)], (checks, scored, agree, cost))
            if threshold is not None:
                r.thresholds[route] = max(r.thresholds.get(route, threshold), threshold)
        tables: tuple[dict[Any, list[float]], ...] = (r.route_hour, r.key_hour, r.shadow_hour)
        for table in tables:  # hourly totals are kept for the last days only
            for k in [k for k in table if k[1] < cutoff]:
                del table[k]
        r.spend_id, r.shadow_id = max(r.spend_id, top_spend), max(r.shadow_id, top_shadow)
