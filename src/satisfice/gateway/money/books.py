"""The money side of one gateway instance: journal, spend log and budget ledger, started and stopped together.

Their background upkeep runs here too: lease heartbeats, idle leases given back, dead instances' journals replayed.

Start: replay every orphaned journal in the folder (a previous run of this host that crashed) before serving, so
budgets start from everything that was spent. Clean stop (SIGTERM/SIGINT): write every queued row, give back
unused leases, delete the journal. A crash leaves the journal and the leases; the next start, or any live
instance sharing the folder within about a second, writes the rows and frees the leases in one go.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import socket
from pathlib import Path

from sqlalchemy.engine import make_url

from satisfice.config import get_settings
from satisfice.gateway.money.budgets import BudgetLedger
from satisfice.gateway.money.journal import Journal
from satisfice.gateway.money.ledger import SharedLedger
from satisfice.gateway.money.settings import LedgerConfig, SpendLogConfig
from satisfice.gateway.money.spendlog import SpendLog
from satisfice.store import Store

log = logging.getLogger("satisfice.gateway")


def journal_dir(store: Store, configured: str | None) -> Path:
    """Where this store's journals live: the configured folder, else one per store under SATISFICE_HOME."""
    if configured:
        return Path(configured).expanduser()
    shown = make_url(store.url).render_as_string(hide_password=True)
    return get_settings().home / "gateway-journal" / hashlib.sha256(shown.encode()).hexdigest()[:12]


class Books:
    """Journal + spend log + budget ledger of one instance (see the module docstring)."""

    def __init__(self, cfg: LedgerConfig, spend_log: SpendLogConfig, store: Store) -> None:
        self.instance_id = "gw_" + secrets.token_hex(8)
        self.shared = SharedLedger(store, ttl_s=cfg.lease_ttl_s)
        journal = None
        if cfg.durability != "off":
            journal = Journal(journal_dir(store, cfg.journal_dir), self.instance_id, fsync=cfg.durability == "fsync")
            self.shared.journal_place = (socket.gethostname(), str(journal.directory.resolve()))
        self.spend_log = SpendLog(self.shared, self.instance_id, journal=journal,
                                  flush_interval_s=spend_log.flush_interval_s, batch_size=spend_log.batch_size)
        self.ledger = BudgetLedger(self.shared, self.instance_id, lease_fraction=cfg.lease_fraction,
                                   idle_s=cfg.lease_idle_s)
        self.upkeep_s = min(1.0, cfg.lease_ttl_s / 3)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the journal, replay orphans (before any request), renew leases, start the writer and upkeep."""
        journal = self.spend_log.journal
        if journal is not None:
            await asyncio.to_thread(journal.open)
            try:  # one bad journal never blocks the start: what fails here is tried again by the upkeep
                replayed = await asyncio.to_thread(self.spend_log.replay_orphans)
            except Exception:
                log.exception("gateway: replaying journals of stopped instances failed; trying again later")
                replayed = 0
            if replayed:
                log.warning("gateway: %d spend rows recovered from journals of stopped instances", replayed)
        await self.ledger.renew()
        self.spend_log.start()
        self._task = asyncio.get_running_loop().create_task(self._upkeep(), name="satisfice-ledger-upkeep")

    async def _upkeep(self) -> None:
        while True:
            await asyncio.sleep(self.upkeep_s)
            try:
                await self.ledger.renew()
                journal = self.spend_log.journal
                if journal is not None:
                    await asyncio.to_thread(journal.probe)
                    await asyncio.to_thread(self.shared.mark_journaled, self.instance_id, journal.on_disk)
                    await asyncio.to_thread(self.spend_log.replay_orphans)
            except Exception:  # the store may be unreachable for a while: leases lapse, requests are refused
                log.exception("gateway: ledger upkeep failed")

    async def stop(self) -> None:
        """Write every queued row, then give back the leases (kept if rows could not be written)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.spend_log.stop()
        if self.spend_log.pending:
            return  # the journal and the leases stay; the next start replays the one and frees the other
        try:
            await asyncio.to_thread(self.shared.drop_instance, self.instance_id)
        except Exception:  # they expire after the lease TTL
            log.exception("gateway: could not give back the leases at shutdown")


__all__ = ["Books", "journal_dir"]
