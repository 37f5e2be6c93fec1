"""The shared budget ledger in the store: what each key spent per period, and the headroom instances lease.

Every gateway instance on one store (processes of ``--workers N``, or hosts behind a load balancer) goes through
these transactions, so one budget holds across all of them:

* :meth:`SharedLedger.grant` gives an instance a *lease*, a slice of a key's headroom. In one write transaction
  (SQLite: ``BEGIN IMMEDIATE``, which serialises writers across processes; PostgreSQL: ``SELECT ... FOR UPDATE``
  on the key's ledger row) it reads the key's budget from ``gateway_keys`` (so a lowered budget or a revocation
  applies to the next grant), the period's ``spent_usd`` and the sum of live leases, and grants only from
  ``budget - spent - leases``. Hence at every commit ``spent + live leases <= budget``, except by the amount
  requests cost beyond their reservation.
* :meth:`SharedLedger.write` inserts spend rows and, in the same transaction, adds their cost to the period's
  ``spent_usd`` and takes it off the writer's lease (money moves from leased to spent). Rows carry a unique
  ``entry_id``; a replay of a crashed instance's journal skips rows already present, so nothing counts twice.
* Leases carry a heartbeat. One not renewed for ``ttl_s`` no longer counts (a dead host's headroom comes back);
  an instance whose own lease expired learns it at its next heartbeat and writes the lost amount off.

A ledger row for a key and period is created on first use from the sum of that key's logged spend in the period,
so a store upgraded from a version without this table starts from everything already spent.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, insert, text

from satisfice.gateway.money.keys import tag_bounds
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewayJournalIncident, GatewayShadow, GatewaySpend

EPS = 1e-12
log = logging.getLogger("satisfice.gateway")


class SpendRow(NamedTuple):
    """One row of :class:`~satisfice.store.schema_gateway.GatewaySpend`.

    A tuple: cheap to build, and handed to the driver's ``executemany`` as is; built by keyword (the journal's
    replay, whose records are in field order, uses ``_make``). ``created_at`` is a ``time.time()`` float; the
    writer makes it a date.
    """

    created_at: float
    key_id: str | None
    route: str
    endpoint: str
    stream: bool
    models_tried: str
    model: str | None
    upstream: str | None
    input_tokens: int
    output_tokens: int
    tokens_estimated: bool
    """The token counts (and cost) are the gateway's estimate: the upstream's usage was missing or invalid, or the
    instance was paused mid-call and billed the reservation."""
    cost_usd: float
    reference_cost_usd: float | None
    latency_ms: float
    escalations: int
    errors: str
    status: int
    outcome: str
    entry_id: str | None = None
    usage_invalid: bool = False
    """The upstream reported a usage that failed the checks (negative, fractional, inconsistent, ...)."""
    over_reservation: bool = False
    reserved_usd: float | None = None
    upstream_api: str | None = None
    """The API spoken to the upstream that served: the client's own (pass-through) or ``chat`` (translated)."""
    lease_epoch: int | None = None


_SPEND_COLUMNS = SpendRow._fields
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy keeps DateTime values in SQLite


def insert_spend(conn: Connection, rows: list[SpendRow]) -> None:
    """One ``executemany`` straight to the driver.

    Rows are already tuples in column order, so the only Python work per row is making its date. SQLAlchemy's
    per-row parameter processing is skipped: it held the GIL long enough to slow the event loop at thousands
    of rows per second.
    """
    dialect = conn.dialect
    when = dt.datetime.fromtimestamp
    utc = dt.UTC
    if dialect.paramstyle not in ("qmark", "format", "pyformat"):
        conn.execute(insert(GatewaySpend), [
            {**r._asdict(), "created_at": when(r.created_at, utc).replace(tzinfo=None)} for r in rows])
        return
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {GatewaySpend.__tablename__} ({', '.join(_SPEND_COLUMNS)}) "
           f"VALUES ({', '.join([mark] * len(_SPEND_COLUMNS))})")
    values: list[tuple[Any, ...]]
    if dialect.name == "sqlite":
        values = [(when(r.created_at, utc).strftime(_SQLITE_TIME), *r[1:]) for r in rows]
    else:
        values = [(when(r.created_at, utc).replace(tzinfo=None), *r[1:]) for r in rows]
    conn.exec_driver_sql(sql, values)


@dataclass(frozen=True, slots=True)
class Grant:
    """The outcome of a lease request."""

    granted: float
    """Added to the instance's lease (0 when the headroom is too small, the key is revoked or unknown)."""
    free_after: float
    """Headroom left in the store for other instances after this grant."""
    budget: float | None
    """The key's budget as stored now (None: no limit, or no such active key)."""
    epoch: int | None = None
    """Generation of the instance's lease after this grant (the fencing token its requests settle under)."""


class SharedLedger:
    """Ledger transactions against one store (each method blocks: run it in a worker thread)."""

    def __init__(self, store: Store, ttl_s: float = 30.0) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.journal_place: tuple[str, str] | None = None
        """``(host, journal folder)`` of the instance, for its journal marks (None: no journal)."""
        self._pg = store.dialect == "postgresql"

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction; on SQLite the write lock is taken at BEGIN, so reads in it are current."""
        with self.store.engine.connect() as conn:
            if not self._pg:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    # --- accounts ------------------------------------------------------------------------------------------

    def _ensure_account(self, conn: Connection, key_id: str, tag: str) -> None:
        """Create the key's ledger row for ``tag`` from its logged spend in that period, if missing."""
        start, end = tag_bounds(tag)
        where = "key_id = :k" + (" AND created_at >= :start AND created_at < :end" if start is not None else "")
        conn.execute(text(
            "INSERT INTO gateway_ledger (key_id, period, spent_usd) "
            f"SELECT CAST(:k AS VARCHAR(40)), CAST(:p AS VARCHAR(20)), COALESCE(SUM(cost_usd), 0.0) FROM gateway_spend "
            f"WHERE {where} "
            "ON CONFLICT (key_id, period) DO NOTHING"), {"k": key_id, "p": tag, "start": start, "end": end})

    def _spent(self, conn: Connection, key_id: str, tag: str) -> float:
        lock = " FOR UPDATE" if self._pg else ""
        value = conn.execute(text(f"SELECT spent_usd FROM gateway_ledger WHERE key_id = :k AND period = :p{lock}"),
                             {"k": key_id, "p": tag}).scalar()
        return float(value or 0.0)

    def _leased(self, conn: Connection, key_id: str, tag: str, now: float) -> float:
        value = conn.execute(text(
            "SELECT COALESCE(SUM(amount_usd), 0.0) FROM gateway_leases WHERE key_id = :k AND period = :p "
            "AND heartbeat_at > :live"), {"k": key_id, "p": tag, "live": now - self.ttl_s}).scalar()
        return float(value or 0.0)

    def grant(self, instance: str, key_id: str, tag: str, need: float, fraction: float,
              now: float | None = None) -> Grant:
        """Lease ``need`` plus ``fraction`` of what is left beyond it, if ``need`` fits in the headroom."""
        now = time.time() if now is None else now
        with self._write() as conn:
            row = conn.execute(text("SELECT budget_usd, revoked_at FROM gateway_keys WHERE id = :k"),
                               {"k": key_id}).first()
            if row is None or row[1] is not None or row[0] is None:
                return Grant(0.0, 0.0, None)
            budget = float(row[0])
            self._ensure_account(conn, key_id, tag)
            spent = self._spent(conn, key_id, tag)
            free = budget - spent - self._leased(conn, key_id, tag, now)
            if need > free + EPS:
                return Grant(0.0, max(free, 0.0), budget)
            amount = min(free, need + max(0.0, free - need) * fraction) if free > 0 else need
            params = {"i": instance, "k": key_id, "p": tag, "a": amount, "now": now, "live": now - self.ttl_s,
                      "e": int(now * 1e6)}
            conn.execute(text(
                "INSERT INTO gateway_leases (instance_id, key_id, period, amount_usd, heartbeat_at, epoch) "
                "VALUES (:i, :k, :p, :a, :now, :e) ON CONFLICT (instance_id, key_id, period) DO UPDATE SET "
                "amount_usd = CASE WHEN gateway_leases.heartbeat_at > :live THEN gateway_leases.amount_usd + :a "
                "ELSE :a END, epoch = CASE WHEN gateway_leases.heartbeat_at > :live THEN gateway_leases.epoch "
                "ELSE :e END, heartbeat_at = :now"), params)
            epoch = conn.execute(text("SELECT epoch FROM gateway_leases WHERE instance_id = :i AND key_id = :k "
                                      "AND period = :p"), params).scalar()
            conn.execute(text("DELETE FROM gateway_leases WHERE key_id = :k AND heartbeat_at < :old"),
                         {"k": key_id, "old": now - 10 * self.ttl_s})
            return Grant(amount, max(free - amount, 0.0), budget, int(epoch) if epoch is not None else None)

    def release(self, instance: str, items: Sequence[tuple[str, str, float]]) -> None:
        """Give back unused lease amounts ``(key_id, period, amount)``."""
        if not items:
            return
        with self._write() as conn:
            for key_id, tag, amount in items:
                conn.execute(text(
                    "UPDATE gateway_leases SET amount_usd = CASE WHEN amount_usd > :a THEN amount_usd - :a ELSE 0 END "
                    "WHERE instance_id = :i AND key_id = :k AND period = :p"),
                    {"a": amount, "i": instance, "k": key_id, "p": tag})

    def heartbeat(self, instance: str, now: float | None = None) -> dict[tuple[str, str], float]:
        """Renew the instance's live leases; delete expired ones and return their amounts (written off)."""
        now = time.time() if now is None else now
        live = now - self.ttl_s
        with self._write() as conn:
            expired = conn.execute(text(
                "SELECT key_id, period, amount_usd FROM gateway_leases WHERE instance_id = :i AND "
                "heartbeat_at <= :live"), {"i": instance, "live": live}).all()
            if expired:
                conn.execute(text("DELETE FROM gateway_leases WHERE instance_id = :i AND heartbeat_at <= :live"),
                             {"i": instance, "live": live})
            conn.execute(text("UPDATE gateway_leases SET heartbeat_at = :now WHERE instance_id = :i"),
                         {"i": instance, "now": now})
        return {(str(k), str(p)): float(a) for k, p, a in expired}

    def drop_instance(self, instance: str) -> None:
        """Delete every lease of an instance (after its journal is written: a clean stop or a replay)."""
        with self._write() as conn:
            conn.execute(text("DELETE FROM gateway_leases WHERE instance_id = :i"), {"i": instance})
            conn.execute(text("DELETE FROM gateway_journal_marks WHERE instance_id = :i"), {"i": instance})

    # --- spend rows ----------------------------------------------------------------------------------------

    def _present(self, conn: Connection, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ", ".join(f":e{n}" for n in range(len(chunk)))
            found.update(conn.execute(text(f"SELECT entry_id FROM gateway_spend WHERE entry_id IN ({marks})"),
                                      {f"e{n}": e for n, e in enumerate(chunk)}).scalars())
        return found

    def write(self, entries: Sequence[tuple[str | None, SpendRow]], shadow: Sequence[dict[str, Any]] = (), *,
              replay: bool = False, mark: tuple[str, int] | None = None,
              amends: Sequence[tuple[str, int, str]] = ()) -> int:
        """Insert spend rows (``(period, row)``) and shadow rows, and move their cost from lease to spent.

        With ``replay``, rows whose ``entry_id`` is already stored are skipped. ``mark``: ``(instance, seq)``,
        every journal line of the instance up to ``seq`` is in the store with this commit. Returns the spend rows
        inserted. ``amends``: ``(entry_id, status, outcome)`` corrections of rows written before.
        """
        with self._write() as conn:
            for entry_id, status, outcome in amends:
                conn.execute(text("UPDATE gateway_spend SET status = :s, outcome = :o WHERE entry_id = :e"),
                             {"s": status, "o": outcome, "e": entry_id})
            if mark is not None and self.journal_place is not None:
                self._mark(conn, mark[0], mark[1], "written_seq")
            if replay and entries:
                present = self._present(conn, [r.entry_id for _, r in entries if r.entry_id])
                entries = [(t, r) for t, r in entries if r.entry_id not in present]
            spent: dict[tuple[str, str], float] = defaultdict(float)
            by_lease: dict[tuple[str, str, str, int | None], list[int]] = defaultdict(list)
            for n, (tag, row) in enumerate(entries):
                if row.key_id is None or tag is None:
                    continue
                spent[(row.key_id, tag)] += row.cost_usd
                if row.entry_id:
                    by_lease[(row.entry_id.rpartition(":")[0], row.key_id, tag, row.lease_epoch)].append(n)
            for key_id, tag in sorted(spent):
                self._ensure_account(conn, key_id, tag)  # before the insert: the sum must not see these rows
                if self._pg:  # ledger row before lease row, in key order: the order grant() locks them in
                    self._spent(conn, key_id, tag)
            entries = list(entries)
            by_instance: dict[tuple[str, str, str], float] = defaultdict(float)
            for (instance, key_id, tag, epoch), rows in by_lease.items():
                if epoch is None or self._lease_holds(conn, instance, key_id, tag, epoch):
                    by_instance[(instance, key_id, tag)] += sum(entries[n][1].cost_usd for n in rows)
                else:
                    self._fence(conn, entries, rows, key_id, tag)
            if entries:
                insert_spend(conn, [r for _, r in entries])
            for (key_id, tag), cost in sorted(spent.items()):
                conn.execute(text("UPDATE gateway_ledger SET spent_usd = spent_usd + :c WHERE key_id = :k AND "
                                  "period = :p"), {"c": cost, "k": key_id, "p": tag})
            for (instance, key_id, tag), cost in by_instance.items():
                conn.execute(text(
                    "UPDATE gateway_leases SET amount_usd = CASE WHEN amount_usd > :c THEN amount_usd - :c ELSE 0 END "
                    "WHERE instance_id = :i AND key_id = :k AND period = :p"),
                    {"c": cost, "i": instance, "k": key_id, "p": tag})
            if shadow:
                conn.execute(insert(GatewayShadow), list(shadow))
            return len(entries)

    # --- fencing --------------------------------------------------------------------------------------------

    def _lease_holds(self, conn: Connection, instance: str, key_id: str, tag: str, epoch: int) -> bool:
        """Whether the store still counts the lease generation ``epoch`` (live, not granted anew since)."""
        lock = " FOR UPDATE" if self._pg else ""
        row = conn.execute(text(f"SELECT epoch, heartbeat_at FROM gateway_leases WHERE instance_id = :i AND "
                                f"key_id = :k AND period = :p{lock}"), {"i": instance, "k": key_id, "p": tag}).first()
        return row is not None and int(row[0]) == epoch and float(row[1]) > time.time() - self.ttl_s

    def _fence(self, conn: Connection, entries: list[tuple[str | None, SpendRow]], rows: list[int], key_id: str,
               tag: str) -> None:
        """Rows admitted under a lease the store no longer counts: charged against the key's headroom now.

        What fits in ``budget - spent - live leases`` is billed as usual; every row past it is billed in full too
        (the upstream answered) and flagged ``over_reservation``.
        """
        budget = conn.execute(text("SELECT budget_usd FROM gateway_keys WHERE id = :k"), {"k": key_id}).scalar()
        free = math.inf if budget is None else (
            float(budget) - self._spent(conn, key_id, tag) - self._leased(conn, key_id, tag, time.time()))
        flagged = 0
        for n in rows:
            tag_n, row = entries[n]
            if row.cost_usd <= free + EPS:
                free -= row.cost_usd
            else:
                entries[n] = (tag_n, row._replace(over_reservation=True))
                flagged += 1
        log.warning("ledger: %d spend rows of key %s were admitted under an expired lease; re-charged against its "
                    "headroom, %d past the budget billed in full and flagged over_reservation", len(rows), key_id,
                    flagged)

    # --- journal marks and incidents ------------------------------------------------------------------------

    def _mark(self, conn: Connection, instance: str, seq: int, column: str) -> None:
        assert self.journal_place is not None and column in ("written_seq", "journaled_seq")
        conn.execute(text(
            "INSERT INTO gateway_journal_marks (instance_id, host, directory, journaled_seq, written_seq, updated_at) "
            "VALUES (:i, :h, :d, :s, :w, :t) ON CONFLICT (instance_id) DO UPDATE SET "
            f"{column} = excluded.{column}, updated_at = excluded.updated_at"),
            {"i": instance, "h": self.journal_place[0], "d": self.journal_place[1], "s": seq,
             "w": seq if column == "written_seq" else 0, "t": time.time()})

    def mark_journaled(self, instance: str, seq: int) -> None:
        """Record that the instance's journal holds lines up to ``seq`` (about once a second)."""
        if self.journal_place is not None:
            with self._write() as conn:
                self._mark(conn, instance, seq, "journaled_seq")

    def journal_marks(self) -> dict[str, tuple[int, int, float]]:
        """``instance -> (journaled_seq, written_seq, updated_at)`` of every instance journaling where this one does."""
        if self.journal_place is None:
            return {}
        with self.store.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT instance_id, journaled_seq, written_seq, updated_at FROM gateway_journal_marks "
                "WHERE host = :h AND directory = :d"), {"h": self.journal_place[0], "d": self.journal_place[1]})
            return {str(i): (int(j), int(w), float(t)) for i, j, w, t in rows}

    def forget_journal(self, instance: str, incidents: Sequence[tuple[str, int, str]] = ()) -> None:
        """Delete the instance's journal mark and record ``(kind, records, detail)`` incidents, in one transaction."""
        with self._write() as conn:
            conn.execute(text("DELETE FROM gateway_journal_marks WHERE instance_id = :i"), {"i": instance})
            if incidents:
                now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
                conn.execute(insert(GatewayJournalIncident), [
                    {"created_at": now, "instance_id": instance, "kind": kind, "records": records, "detail": detail}
                    for kind, records, detail in incidents])


__all__ = ["Grant", "SharedLedger", "SpendRow", "insert_spend"]
