"""The spend log and shadow rows: queued in memory by the request path, written in batches by a background task.

Adding a row is a list append (it never waits for the database). A background task wakes every
``flush_interval_s`` (or as soon as ``batch_size`` rows are waiting), takes everything queued and inserts it in
one transaction in a worker thread. If a write fails, the rows go back to the front of the queue and are tried
again later. :meth:`SpendLog.stop` (called from the server's lifespan on a clean shutdown) writes whatever is
still queued before returning, so no row is lost on a clean shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any, NamedTuple

from sqlalchemy import Connection, insert

from satisfice.store import Store
from satisfice.store.schema_gateway import GatewayShadow, GatewaySpend

log = logging.getLogger("satisfice.gateway")

class SpendRow(NamedTuple):
    """One row of :class:`~satisfice.store.schema_gateway.GatewaySpend`.

    A tuple: cheap to build, and handed to the driver's ``executemany`` as is. ``created_at`` is a ``time.time()``
    float; the writer makes it a date.
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
    cost_usd: float
    reference_cost_usd: float | None
    latency_ms: float
    escalations: int
    errors: str
    status: int
    outcome: str


_SPEND_COLUMNS = SpendRow._fields
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy keeps DateTime values in SQLite


class SpendLog:
    """Queue of spend and shadow rows with a background batch writer."""

    def __init__(self, store: Store, *, flush_interval_s: float = 0.5, batch_size: int = 500) -> None:
        self._store = store
        self._interval = flush_interval_s
        self._batch = batch_size
        self._spend: list[SpendRow] = []
        self._shadow: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._write_lock = asyncio.Lock()
        self.written = 0
        self.shadow_written = 0
        self.write_failures = 0

    @property
    def pending(self) -> int:
        """Rows queued and not written yet."""
        return len(self._spend) + len(self._shadow)

    def add(self, row: SpendRow) -> None:
        """Queue one spend row (never blocks)."""
        self._spend.append(row)
        if len(self._spend) >= self._batch:
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
            if not spend and not shadow:
                return 0
            write = asyncio.ensure_future(asyncio.to_thread(self._write, spend, shadow))
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
                self.write_failures += 1
                raise
            self.written += len(spend)
            self.shadow_written += len(shadow)
            return len(spend) + len(shadow)

    def _write(self, spend: list[SpendRow], shadow: list[dict[str, Any]]) -> None:
        with self._store.engine.begin() as conn:
            if spend:
                self._insert_spend(conn, spend)
            if shadow:
                conn.execute(insert(GatewayShadow), shadow)

    @staticmethod
    def _insert_spend(conn: Connection, rows: list[SpendRow]) -> None:
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

    async def stop(self) -> None:
        """Stop the background writer and write every queued row."""
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for attempt in range(3):
            try:
                await self.flush()
                return
            except Exception:
                log.exception("spend log: final write failed (attempt %d of 3)", attempt + 1)
                await asyncio.sleep(0.2)
        log.error("spend log: %d rows could not be written at shutdown", self.pending)


__all__ = ["SpendLog", "SpendRow"]
