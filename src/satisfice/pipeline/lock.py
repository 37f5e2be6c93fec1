"""One pipeline run at a time, across processes and machines sharing a store.

The lock is a row (``pipeline_lock``, name ``run``) taken by one conditional UPDATE: it succeeds
only when the row is free or its holder's lease has expired (a holder that crashed). The UPDATE
is atomic on SQLite and PostgreSQL alike, so two processes can never both take it.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from satisfice.errors import SatisficeError
from satisfice.store import Store
from satisfice.store.schema_pipeline import LockRecord

LEASE = dt.timedelta(hours=1)
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
    try:
        yield holder
    finally:
        with store.transaction() as s:
            s.execute(update(LockRecord).where(LockRecord.name == NAME, LockRecord.holder == holder)
                      .values(holder=None, acquired_at=None, expires_at=None))
