"""The spend log: every admitted request's row made durable before its answer is released, then written in batches.

:meth:`SpendLog.add` appends the row to the instance's :class:`~satisfice.gateway.money.journal.Journal` and queues it
in memory; the caller awaits :meth:`SpendLog.durable` (the row's ``write(2)`` returned: it survives ``kill -9``
from then on) before it releases the answer. A background task wakes every
``flush_interval_s`` (or as soon as ``batch_size`` rows are waiting) and writes the queue to the store in one
transaction through :class:`~satisfice.gateway.money.ledger.SharedLedger` (rows inserted, their cost moved from the
instance's lease to the key's spent money); then the journal is truncated. If a write fails, the rows go back
to the front of the queue and are tried again. :meth:`SpendLog.stop` (a clean shutdown: SIGTERM or SIGINT) writes
whatever is still queued. After a crash the journal is replayed (:meth:`SpendLog.replay_orphans`), at start and
periodically by every live instance sharing the journal folder.

With ``durability="off"`` there is no journal: rows live only in memory until the next batch (the behaviour
without the durable ledger, kept to measure what durability costs).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from typing import Any

from satisfice.gateway.money.journal import Journal, Orphan, orphans
from satisfice.gateway.money.ledger import SharedLedger, SpendRow

log = logging.getLogger("satisfice.gateway")

Entry = tuple[str | None, SpendRow]
"""A spend row and the budget period (``period_tag``) its cost counts against (None: no budgeted key)."""


class SpendLog:
    """Journal, queue and background batch writer of spend rows (and the queue of shadow rows)."""

    def __init__(self, ledger: SharedLedger, instance_id: str, *, journal: Journal | None,
                 flush_interval_s: float = 0.5, batch_size: int = 500) -> None:
        self._ledger = ledger
        self.instance_id = instance_id
        self.journal = journal
        self._interval = flush_interval_s
        self._batch = batch_size
        self._ids = itertools.count(1)
        self._spend: list[Entry] = []
        self._shadow: list[dict[str, Any]] = []
        self._amends: list[tuple[str, int, str]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._write_lock = asyncio.Lock()
        self.written = 0
        self.shadow_written = 0
        self.write_failures = 0
        self.replayed = 0
        self.quarantined = 0
        """Journal records of stopped instances set aside as invalid (never credited)."""
        self.lost = 0
        """Journal lines of stopped instances found missing (gaps, deleted or truncated journals)."""

    @property
    def pending(self) -> int:
        """Rows queued and not written yet."""
        return len(self._spend) + len(self._shadow)

    def new_id(self) -> str:
        """A store-wide unique id for the next spend row (``<instance>:<n>``)."""
        return f"{self.instance_id}:{next(self._ids)}"

    def add(self, row: SpendRow, period: str | None = None) -> None:
        """Journal one spend row (durable against a crash once this returns) and queue it for the store."""
        if self.journal is not None:
            self.journal.append([period, *row])
        self._spend.append((period, row))
        if len(self._spend) >= self._batch:
            self._wake.set()

    async def durable(self) -> None:
        """Wait until the rows added so far are in the journal (on disk with ``fsync``); at once without one."""
        if self.journal is not None:
            await self.journal.durable()

    def amend(self, entry_id: str, status: int, outcome: str) -> None:
        """Correct the status of a queued row to what its client received (its answer could not be released).

        A row already taken by a batch is corrected in the store by the next batch.
        """
        for n in range(len(self._spend) - 1, -1, -1):
            period, row = self._spend[n]
            if row.entry_id == entry_id:
                self._spend[n] = (period, row._replace(status=status, outcome=outcome))
                return
        self._amends.append((entry_id, status, outcome))
        self._wake.set()

    def add_shadow(self, row: dict[str, Any]) -> None:
        """Queue one shadow-check row (never blocks)."""
        self._shadow.append(row)

    def start(self) -> None:
        """Start the background writer (inside a running event loop)."""
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self._run(), name="satisfice-spend-log")

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # the rows stay queued; keep serving and try again next round
                log.exception("spend log: write failed; %d rows stay queued", self.pending)
                if not self._stopping:
                    await asyncio.sleep(self._interval)

    async def flush(self) -> int:
        """Write everything queued now; returns the number of rows written."""
        async with self._write_lock:
            spend, self._spend = self._spend, []
            shadow, self._shadow = self._shadow, []
            amends, self._amends = self._amends, []
            if not spend and not shadow and not amends:
                return 0
            upto = self.journal.seq if self.journal is not None else 0
            mark = (self.instance_id, upto) if self.journal is not None else None
            write = asyncio.ensure_future(asyncio.to_thread(self._ledger.write, spend, shadow, mark=mark,
                                                            amends=amends))
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                # The insert already runs in its thread: let it finish, so rows are neither lost nor doubled.
                with contextlib.suppress(Exception):
                    await write
                raise
            except Exception:
                self._spend[:0] = spend
                self._shadow[:0] = shadow
                self._amends[:0] = amends
                self.write_failures += 1
                raise
            if self.journal is not None:
                self.journal.written(upto)
            self.written += len(spend)
            self.shadow_written += len(shadow)
            return len(spend) + len(shadow)

    def replay_orphans(self) -> int:
        """Write the valid rows of every dead instance's journal to the store, release its leases (blocking).

        Bad records are quarantined and never credited; missing lines (a gap in sequence numbers, or a journal
        deleted or cut while lines were not yet in the store) are recorded as incidents. One journal that cannot
        be replayed is logged and left for the next round; it never stops the others or the start.
        """
        if self.journal is None:
            return 0
        count = 0
        found = orphans(self.journal.directory, self.instance_id)
        marks = self._ledger.journal_marks()
        for orphan in found:
            try:
                count += self._replay(orphan, marks.get(orphan.instance_id))
            except Exception:
                orphan.close(remove=False)
                log.exception("spend log: the journal of stopped instance %s could not be replayed; trying again "
                              "later", orphan.instance_id)
                continue
            orphan.close(remove=True)
            log.warning("spend log: replayed the journal of stopped instance %s", orphan.instance_id)
        self._missing_journals(marks, {o.instance_id for o in found})
        self.replayed += count
        return count

    def _replay(self, orphan: Orphan, mark: tuple[int, int, float] | None) -> int:
        assert self.journal is not None
        scan = orphan.scan(self.journal.directory / "quarantine")
        entries = [(period, SpendRow._make(row)) for period, row in scan.entries]
        count = 0
        for i in range(0, len(entries), 5000):
            count += self._ledger.write(entries[i:i + 5000], replay=True)
        incidents = []
        if scan.quarantined:
            incidents.append(("quarantined", scan.quarantined, "; ".join(scan.reasons[:20])))
        missing = scan.missing
        if mark is not None:  # lines journaled (as last reported) beyond what the file and the store hold
            missing += max(0, mark[0] - max(mark[1], scan.last_seq or 0))
        if missing:
            incidents.append(("gap", missing, f"{missing} journal lines of {orphan.instance_id} are missing "
                              "(a deleted or truncated segment): their rows are not in the store"))
            log.error("spend log: the journal of %s lacks %d lines (deleted or truncated): those rows are lost",
                      orphan.instance_id, missing)
        self.quarantined += scan.quarantined
        self.lost += missing
        self._ledger.forget_journal(orphan.instance_id, incidents)
        self._ledger.drop_instance(orphan.instance_id)
        return count

    def _missing_journals(self, marks: dict[str, tuple[int, int, float]], replayed: set[str]) -> None:
        """Instances that journaled here, stopped reporting, and left no journal at all."""
        assert self.journal is not None
        stale = time.time() - max(self._ledger.ttl_s, 5.0)
        present = {p.name.rpartition(".")[0].rpartition(".")[0] for p in self.journal.directory.glob("*.journal")}
        for instance, (journaled, written, updated_at) in marks.items():
            if instance == self.instance_id or instance in replayed or instance in present or updated_at > stale:
                continue
            lost = max(0, journaled - written)
            detail = f"the journal of {instance} is gone; {lost} lines were not yet in the store"
            if lost:
                log.error("spend log: %s: those rows are lost", detail)
            self.lost += lost
            self._ledger.forget_journal(instance, [("missing", lost, detail)] if lost else [])

    async def stop(self) -> None:
        """Stop the background writer and write every queued row; the journal is removed once all are written."""
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for attempt in range(3):
            try:
                await self.flush()
                break
            except Exception:
                log.exception("spend log: final write failed (attempt %d of 3)", attempt + 1)
                await asyncio.sleep(0.2)
        else:
            log.error("spend log: %d rows could not be written at shutdown; they stay in the journal for the "
                      "next start", self.pending)
        if self.journal is not None:
            self.journal.close(remove=not self._spend)


__all__ = ["Entry", "SpendLog"]
