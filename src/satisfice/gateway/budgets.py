"""Spend limits per virtual key, held in memory and enforced by reserving a request's worst case up front.

How reservation works, and what it guarantees
--------------------------------------------
Before a request is sent upstream, :meth:`BudgetLedger.reserve` computes nothing itself: the caller passes the
request's *worst-case* cost (estimated input tokens, body bytes / 3 + 8, priced at the input price, plus
``max_tokens`` x ``n`` — or the configured default cap — priced at the output price; summed over every model of the
chain for routes with verifiers, since a cascade may pay each of them, and the dearest model otherwise, since failed
attempts are not billed). The ledger admits the request only if ``spent + reserved + worst_case <= budget``, and
then adds the worst case to ``reserved``. Check and add run in one synchronous step on the event loop (no ``await``
between them), so concurrent requests cannot both see the same headroom. When the request ends,
:meth:`BudgetLedger.settle` moves the *actual* cost into ``spent`` and releases the reservation.

Guarantee: the spend of a period never exceeds its budget by more than the amount by which requests that were
already admitted cost more than they reserved (an upstream ignoring ``max_tokens``, or a prompt that tokenizes
to more than bytes/3 + 8). If every admitted request costs at most its reservation — the usual case — the budget is
never exceeded at all, however many requests arrive at once; requests beyond the headroom get 429.

``spent`` starts from the spend log (sum of ``cost_usd`` since the period's start) when a key is first seen, then
lives in memory; the spend log written in the background is the durable record. One gateway process per store
is assumed: two processes sharing a key would each hold their own in-memory ledger.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from satisfice.gateway.keys import KeyInfo, period_start, utcnow
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewaySpend


def _timestamp(when: dt.datetime) -> float:
    return when.replace(tzinfo=dt.UTC).timestamp()


def period_bounds(period: str, now: dt.datetime) -> tuple[dt.datetime | None, float, float]:
    """(start, start as a timestamp, end as a timestamp) of the period containing ``now`` (UTC)."""
    start = period_start(period, now)
    if start is None:
        return None, -math.inf, math.inf
    if period == "day":
        end = start + dt.timedelta(days=1)
    elif period == "week":
        end = start + dt.timedelta(days=7)
    else:
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start, _timestamp(start), _timestamp(end)


class _Account:
    __slots__ = ("begin", "budget", "end", "period", "reserved", "spent", "start")

    def __init__(self, budget: float | None, period: str, spent: float, now: dt.datetime) -> None:
        self.budget = budget
        self.period = period
        self.spent = spent
        self.reserved = 0.0
        self.start, self.begin, self.end = period_bounds(period, now)


@dataclass(slots=True)
class Reservation:
    """Money set aside for one admitted request, released by :meth:`BudgetLedger.settle`."""

    key_id: str
    amount: float
    start: dt.datetime | None
    settled: bool = False


class BudgetLedger:
    """Per-key spent and reserved amounts for the current period (see the module docstring for the guarantee)."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}

    def known(self, key_id: str) -> bool:
        """Whether the ledger already tracks this key."""
        return key_id in self._accounts

    def load(self, key: KeyInfo, spent: float, now: dt.datetime | None = None) -> None:
        """Start tracking a key with what it already spent this period (or update its budget if tracked)."""
        account = self._accounts.get(key.id)
        if account is not None:
            account.budget, account.period = key.budget_usd, key.period
            return
        self._accounts[key.id] = _Account(key.budget_usd, key.period, spent, now or utcnow())

    def forget(self, keep: Iterable[str]) -> None:
        """Drop accounts of keys no longer active (revoked), unless they still hold reservations."""
        wanted = set(keep)
        for key_id in [k for k, a in self._accounts.items() if k not in wanted and a.reserved <= 0.0]:
            del self._accounts[key_id]

    def reserve(self, key: KeyInfo, amount: float, now: dt.datetime | None = None) -> Reservation | None:
        """Set ``amount`` aside for a request; None when it does not fit in what is left of the budget."""
        account = self._accounts.get(key.id)
        if account is None:
            account = self._accounts[key.id] = _Account(key.budget_usd, key.period, 0.0, now or utcnow())
        account.budget = key.budget_usd  # the key as cached now (a budget changed in the store applies)
        ts = time.time() if now is None else _timestamp(now)
        if not account.begin <= ts < account.end:  # a new period: spending starts again from zero
            account.start, account.begin, account.end = period_bounds(account.period, now or utcnow())
            account.spent = 0.0
        if account.budget is not None and account.spent + account.reserved + amount > account.budget + 1e-12:
            return None
        account.reserved += amount
        return Reservation(key.id, amount, account.start)

    def settle(self, reservation: Reservation, actual: float) -> None:
        """Release a reservation and record what the request really cost (idempotent)."""
        if reservation.settled:
            return
        reservation.settled = True
        account = self._accounts.get(reservation.key_id)
        if account is None:
            return
        account.reserved = max(0.0, account.reserved - reservation.amount)
        if reservation.start == account.start:
            account.spent += actual

    def remaining(self, key_id: str) -> float | None:
        """Budget left after spent and reserved money; None when the key has no limit or is unknown."""
        account = self._accounts.get(key_id)
        if account is None or account.budget is None:
            return None
        return account.budget - account.spent - account.reserved

    def spent(self, key_id: str) -> float:
        """Spent this period (settled requests only)."""
        account = self._accounts.get(key_id)
        return account.spent if account is not None else 0.0


def spent_this_period(store: Store, keys: Iterable[KeyInfo], now: dt.datetime | None = None) -> dict[str, float]:
    """Sum of logged spend per key since the start of each key's current period."""
    now = now or utcnow()
    by_start: dict[dt.datetime | None, list[str]] = {}
    for key in keys:
        by_start.setdefault(period_start(key.period, now), []).append(key.id)
    out: dict[str, float] = {}
    with store.session() as s:
        for start, ids in by_start.items():
            for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
                query = (select(GatewaySpend.key_id, func.coalesce(func.sum(GatewaySpend.cost_usd), 0.0))
                         .where(GatewaySpend.key_id.in_(chunk)).group_by(GatewaySpend.key_id))
                if start is not None:
                    query = query.where(GatewaySpend.created_at >= start)
                for key_id, total in s.execute(query):
                    out[str(key_id)] = float(total)
    return out


__all__ = ["BudgetLedger", "Reservation", "period_bounds", "spent_this_period"]
