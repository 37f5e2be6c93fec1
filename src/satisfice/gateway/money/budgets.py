"""Spend limits per virtual key, enforced across every gateway instance on one store by leases of headroom.

How admission works, and what it guarantees
-------------------------------------------
Before a request is sent upstream the caller computes its *worst-case* cost (estimated input tokens, body bytes
/ 3 + 8, at the input price, plus ``max_tokens`` x ``n`` — or the configured default cap — at the output price;
summed over every model of the chain for routes with verifiers, the dearest model otherwise) and calls
:meth:`BudgetLedger.reserve`. The instance admits the request from its *lease* of the key's headroom: a slice
granted by the store in one atomic transaction (:meth:`~satisfice.gateway.money.ledger.SharedLedger.grant`) only out of
``budget - spent - every live lease``. Check and subtract run in one synchronous step on the event loop, so
concurrent requests in one instance cannot both take the same headroom either. When the lease is too small, the
instance asks the store for more (``need`` plus ``lease_fraction`` of what is left beyond it, so grants shrink
to single requests near the edge of the budget). :meth:`BudgetLedger.settle` then takes the *actual* cost off the
lease; the spend row, written later, moves the same cost from the lease to the key's spent money in the store.

Guarantee: across all instances, the spend of a period never exceeds its budget by more than what admitted
requests cost beyond their reservations (an upstream ignoring ``max_tokens``, a prompt that tokenizes to more
than bytes/3 + 8); such rows are flagged ``over_reservation``. Leases are renewed every ``ttl_s / 3``; an
instance stops using its leases when it could not renew them for ``ttl_s / 2``, and the store stops counting a
lease after ``ttl_s``, so a dead instance's headroom returns to the others. An instance that was only paused
(SIGSTOP, a VM migration, a partition) past ``ttl_s`` is *fenced*: each reservation carries its lease's epoch,
and the transaction writing its spend rows finds that epoch no longer counted, so those rows are charged against
the key's headroom at that moment instead, and every row past the budget is billed in full and flagged
``over_reservation``. Bound: spend <= budget + the cost of rows flagged ``over_reservation``; the flagged part is
at most what the paused instance had in flight (its admitted requests' actual costs). The one gap: spend a dead instance
had journaled but not yet written (its last ``flush_interval_s``) counts only once its journal is replayed — at
the next start on its host, or within a second by another live instance sharing its journal folder (same host).
A lease not used for ``idle_s`` goes back to the store; near the edge an instance may refuse a request that
fits in headroom another instance holds but is not using for up to ``idle_s``. Budget changes and revocations
apply to the next grant at once, and to leases already held within ``key_poll_s`` (the key reload releases them).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from satisfice.gateway.money.keys import KeyInfo, period_start, period_tag, utcnow
from satisfice.gateway.money.ledger import SharedLedger
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewaySpend

EPS = 1e-12


class LedgerUnavailable(Exception):
    """The store cannot be reached to lease or renew budget: budgeted requests are refused (503), not guessed."""


class _Account:
    __slots__ = ("budget", "epoch", "free", "granting", "lease", "reserved", "tag", "used_at")

    def __init__(self, tag: str, budget: float | None) -> None:
        self.tag = tag
        self.budget = budget
        self.lease = 0.0
        """Granted by the store, less what was settled here and what was given back (negative: a debt)."""
        self.reserved = 0.0
        self.free = budget if budget is not None else 0.0
        """Headroom the store reported beyond every lease, at the last grant (for messages)."""
        self.granting: asyncio.Future[None] | None = None
        self.used_at = 0.0
        self.epoch: int | None = None


@dataclass(slots=True)
class Reservation:
    """Money set aside for one admitted request, released by :meth:`BudgetLedger.settle`."""

    key_id: str | None
    amount: float
    period: str | None
    """The budget period it counts against (None: a key without a budget, or no key)."""
    settled: bool = False
    epoch: int | None = None
    """Generation of the lease it was admitted under (checked when its spend row is written)."""


@dataclass
class BudgetLedger:
    """One instance's view of every budgeted key: its leases and reservations (see the module docstring)."""

    shared: SharedLedger
    instance_id: str
    lease_fraction: float = 0.25
    idle_s: float = 2.0
    clock: Callable[[], float] = time.monotonic
    _accounts: dict[tuple[str, str], _Account] = field(default_factory=dict)
    _usable_until: float = field(default=-math.inf)
    """Leases may be used until then: half their TTL after the last successful renewal."""
    _tried_at: float = field(default=-math.inf)
    _tags: dict[str, str] = field(default_factory=dict)
    _tags_until: float = field(default=-math.inf)

    @property
    def ttl_s(self) -> float:
        """How long the store counts a lease that is not renewed."""
        return self.shared.ttl_s

    def _tag(self, period: str) -> str:
        """The current period's tag, computed at most once a second per period kind (on the hot path)."""
        now = time.time()
        if now >= self._tags_until:
            self._tags, self._tags_until = {}, math.floor(now) + 1.0
        tag = self._tags.get(period)
        if tag is None:
            tag = self._tags[period] = period_tag(period, utcnow())
        return tag

    async def reserve(self, key: KeyInfo, amount: float, now: dt.datetime | None = None) -> Reservation | None:
        """Set ``amount`` aside for a request; None when the key's budget (across instances) cannot cover it.

        Raises:
            LedgerUnavailable: the store could not be reached for a lease, or leases could not be renewed.
        """
        if key.budget_usd is None:
            return Reservation(key.id, amount, None)
        tag = self._tag(key.period) if now is None else period_tag(key.period, now)
        account = self._accounts.get((key.id, tag))
        if account is None:
            account = self._accounts[(key.id, tag)] = _Account(tag, key.budget_usd)
        if self.clock() >= self._usable_until and self.clock() - self._tried_at > 1.0:
            self._tried_at = self.clock()
            try:
                await self.renew()
            except Exception as exc:
                raise LedgerUnavailable(f"cannot renew budget leases in the store: {type(exc).__name__}") from exc
        while True:  # ends: every round either reserves, or a grant (>= its need) succeeds or fails
            if self.clock() >= self._usable_until:
                raise LedgerUnavailable("budget leases could not be renewed for half their TTL")
            if account.lease - account.reserved >= amount - EPS:
                account.reserved += amount
                account.used_at = self.clock()
                return Reservation(key.id, amount, tag, epoch=account.epoch)
            if account.granting is not None:
                await asyncio.shield(account.granting)  # another request is asking the store already
                continue
            if not await self._grant(key.id, account, amount - max(0.0, account.lease - account.reserved)):
                return None

    async def _grant(self, key_id: str, account: _Account, need: float) -> bool:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        account.granting = done
        try:
            grant = await asyncio.to_thread(self.shared.grant, self.instance_id, key_id, account.tag, need,
                                            self.lease_fraction)
        except Exception as exc:
            raise LedgerUnavailable(f"cannot lease budget from the store: {type(exc).__name__}") from exc
        finally:
            account.granting = None
            done.set_result(None)
        account.lease += grant.granted
        account.free = grant.free_after
        if grant.epoch is not None:
            account.epoch = grant.epoch
        account.budget = grant.budget
        return grant.granted > 0

    def settle(self, reservation: Reservation, actual: float) -> None:
        """Release a reservation and take what the request really cost off the lease (idempotent)."""
        if reservation.settled:
            return
        reservation.settled = True
        if reservation.period is None or reservation.key_id is None:
            return
        account = self._accounts.get((reservation.key_id, reservation.period))
        if account is None:
            return
        account.reserved = max(0.0, account.reserved - reservation.amount)
        account.lease -= max(0.0, actual)

    def remaining(self, key_id: str) -> float | None:
        """Headroom this instance knows of (its unused lease plus what the store reported free); None: unknown."""
        left = [a.lease - a.reserved + a.free for (k, _), a in self._accounts.items()
                if k == key_id and a.budget is not None]
        return max(left) if left else None

    # --- background upkeep ---------------------------------------------------------------------------------

    def _give_back(self, accounts: Iterable[tuple[tuple[str, str], _Account]]) -> list[tuple[str, str, float]]:
        items = []
        for (key_id, tag), account in accounts:
            spare = account.lease - account.reserved
            if spare > EPS and account.granting is None:
                account.lease -= spare
                items.append((key_id, tag, spare))
        return items

    async def _release(self, items: list[tuple[str, str, float]]) -> None:
        if not items:
            return
        try:
            await asyncio.to_thread(self.shared.release, self.instance_id, items)
        except Exception:
            for key_id, tag, amount in items:  # still held in the store: keep counting it here
                account = self._accounts.get((key_id, tag))
                if account is not None:
                    account.lease += amount
            raise

    async def renew(self) -> None:
        """Heartbeat the leases (writing off any the store let expire) and give back idle or stale ones."""
        asked_at = self.clock()
        expired = await asyncio.to_thread(self.shared.heartbeat, self.instance_id)
        self._usable_until = asked_at + self.ttl_s / 2
        for (key_id, tag), amount in expired.items():
            account = self._accounts.get((key_id, tag))
            if account is not None:
                account.lease -= amount
        now = utcnow()
        idle = [(k, a) for k, a in self._accounts.items() if asked_at - a.used_at > self.idle_s or _past(a.tag, now)]
        await self._release(self._give_back(idle))
        for k, a in idle:
            if a.reserved <= EPS and _past(a.tag, now):
                del self._accounts[k]

    async def keys_changed(self, before: dict[str, KeyInfo], after: dict[str, KeyInfo]) -> None:
        """Give back the leases of keys revoked or whose budget changed (the next grant applies the new budget)."""
        changed = {k for k, info in before.items()
                   if k not in after or after[k].budget_usd != info.budget_usd or after[k].period != info.period}
        if changed:
            await self._release(self._give_back((k, a) for k, a in self._accounts.items() if k[0] in changed))

    async def close(self) -> None:
        """Give back every unused lease (a clean stop)."""
        await self._release(self._give_back(list(self._accounts.items())))

    def lease_of(self, key_id: str) -> float:
        """This instance's unused lease for the key, all periods (for tests and metrics)."""
        return sum(a.lease - a.reserved for (k, _), a in self._accounts.items() if k == key_id)


def _past(tag: str, now: dt.datetime) -> bool:
    """Whether the period named ``tag`` is over."""
    kind = {"d": "day", "w": "week", "m": "month"}.get(tag[0], "total")
    return period_tag(kind, now) != tag


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


__all__ = ["BudgetLedger", "LedgerUnavailable", "Reservation", "spent_this_period"]
