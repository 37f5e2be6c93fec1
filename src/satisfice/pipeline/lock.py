"""One pipeline run at a time, across processes and machines sharing a store.

The lock is a row (``pipeline_lock``, name ``run``) taken by one conditional UPDATE: it succeeds
only when the row is free or its holder's lease has expired (a holder that crashed). The UPDATE
is atomic on SQLite and PostgreSQL alike, so two processes can never both take it.

The lease is short (one minute) and renewed by a heartbeat thread every quarter of it for as long as the
run holds the lock, so a run killed with ``kill -9`` frees the lock within a minute.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from satisfice.errors import SatisficeError
from satisfice.store import Store
from satisfice.store.schema_pipeline import LockRecord

LEASE = dt.timedelta(seconds=60)
log = logging.getLogger("satisfice.pipeline")
NAME = "run"


class PipelineBusy(SatisficeError):
    """Another pipeline run holds the lock."""


def _ensure_row(store: Store) -> None:
    with store.session() as s:
        if s.get(LockRecord, NAME) is not None:
            return
    try:
        with store.transaction() as s:
            s.execute(insert(LockRecord).values(name=NAME))
    except IntegrityError:
        pass  # another process inserted it first


def _heartbeat(store: Store, holder: str, taken_at: dt.datetime, lease: dt.timedelta,
               stop: threading.Event) -> None:
    """Extend the lease every quarter of it while the run lasts (on the clock the lock was taken with)."""
    started = time.monotonic()
    while not stop.wait(lease.total_seconds() / 4):
        expires = taken_at + dt.timedelta(seconds=time.monotonic() - started) + lease
        try:
            with store.transaction() as s:
                s.execute(update(LockRecord).where(LockRecord.name == NAME, LockRecord.holder == holder)
                          .values(expires_at=expires))
        except Exception:  # the store is busy or away: the next beat tries again, the lease may lapse
            log.warning("pipeline: could not renew the run lock; trying again in %.0f s", lease.total_seconds() / 4)


@contextmanager
def run_lock(store: Store, now: dt.datetime, lease: dt.timedelta = LEASE) -> Iterator[str]:
    """Hold the run lock for the block; raises :class:`PipelineBusy` when another run holds it."""
    _ensure_row(store)
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with store.transaction() as s:
        taken = s.execute(  # type: ignore[attr-defined]  # an UPDATE's CursorResult has rowcount
            update(LockRecord)
            .where(LockRecord.name == NAME, or_(LockRecord.holder.is_(None), LockRecord.expires_at < now))
            .values(holder=holder, acquired_at=now, expires_at=now + lease)
        ).rowcount
    if taken != 1:
        with store.session() as s:
            row = s.scalars(select(LockRecord).where(LockRecord.name == NAME)).one()
        since = row.acquired_at.isoformat(timespec="seconds") if row.acquired_at else "unknown time"
        raise PipelineBusy(f"another pipeline run is in progress ({row.holder}, since {since}); try again later")
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(store, holder, now, lease, stop), daemon=True,
                            name="satisfice-pipeline-lock")
    beat.start()
    try:
        yield holder
    finally:
        stop.set()
        beat.join(timeout=5)
        with store.transaction() as s:
            s.execute(update(LockRecord).where(LockRecord.name == NAME, LockRecord.holder == holder)
                      .values(holder=None, acquired_at=None, expires_at=None))
