"""A gateway instance's write-ahead journal of spend rows: appended before the answer goes out, replayed after a crash.

Each instance appends one JSON line per admitted request to its own segment file with ``write(2)`` on an
``O_APPEND`` descriptor, and the response is released only once that ``write`` has returned (group commit: one
``write`` per loop iteration's lines, on a writer thread). From then on the line is in the kernel's page cache:
it survives ``kill -9`` (and any other death of the process), though not a power loss or a kernel crash. With
``fsync=True`` each batch is also ``fdatasync``'ed before its answers go out, which extends the guarantee to
power loss.

Lines are written to the store in batches by :class:`~satisfice.gateway.spendlog.SpendLog`; when everything
appended has been written, the segment is truncated. A segment is held with ``flock`` for as long as its
instance lives, so any other instance (or the next start) can tell an orphan — a segment whose writer died — from
a live one, replay its lines into the store (skipping lines already stored, by ``entry_id``) and delete it.
A line cut short by the crash is the request whose answer was never released, and is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("satisfice.gateway")
SUFFIX = ".journal"


def _locked_file(path: Path) -> int:
    """Create ``path`` already locked: created under a hidden name, locked, then renamed into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.rename(tmp, path)
    return fd


class Journal:
    """The append-only journal of one gateway instance; every file operation runs on its own writer thread.

    The event loop only encodes lines and hands them over: lines appended in one loop iteration go to the
    thread as one batch (one ``write``; with ``fsync``, one ``fdatasync``), and :meth:`durable` waits for the
    batch holding the last line. A disk stalled by other processes' I/O thus delays only the answers waiting for
    their line, never the event loop. Truncation and rotation are queued on the same thread, after the writes.
    """

    def __init__(self, directory: Path, instance_id: str, *, fsync: bool = False,
                 segment_bytes: int = 64 * 1024 * 1024) -> None:
        self.directory = directory
        self.instance_id = instance_id
        self.fsync = fsync
        self.segment_bytes = segment_bytes
        self.seq = 0
        """Lines appended so far (the sequence number of the last one)."""
        self._pool: ThreadPoolExecutor | None = None
        self._batch: list[bytes] = []
        self._pending: asyncio.Future[None] | None = None
        self._last: asyncio.Future[None] | None = None
        # writer-thread state
        self._segment = 0
        self._fd = -1
        self._size = 0
        self._in_file = 0  # lines written to the files so far
        self._old: list[tuple[int, int, Path]] = []  # (fd, last line in it, path) of rotated segments

    def _path(self, segment: int) -> Path:
        return self.directory / f"{self.instance_id}.{segment:06d}{SUFFIX}"

    def open(self) -> None:
        """Create the directory and the first segment (locked), and start the writer thread."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fd = _locked_file(self._path(self._segment))
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="satisfice-journal")

    def append(self, record: list[Any]) -> int:
        """Queue one line for the writer thread (no system call here); returns its sequence number."""
        self._batch.append(orjson.dumps(record) + b"\n")
        self.seq += 1
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.create_future()
            loop.call_soon(self._submit)  # after every other append of this loop iteration
        return self.seq

    def _submit(self) -> None:
        lines, done, self._batch, self._pending = self._batch, self._pending, [], None
        assert done is not None and self._pool is not None
        self._last = done
        written = asyncio.wrap_future(self._pool.submit(self._write, b"".join(lines), len(lines)))
        written.add_done_callback(lambda f: _settle(done, f))

    async def durable(self) -> None:
        """Wait until every line appended so far is written (and, with ``fsync``, on disk)."""
        waiting = self._pending or self._last
        if waiting is not None:
            await asyncio.shield(waiting)

    def _write(self, data: bytes, lines: int) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        if self.fsync:
            os.fdatasync(self._fd)
        self._size += len(data)
        self._in_file += lines
        if self._size >= self.segment_bytes:
            self._old.append((self._fd, self._in_file, self._path(self._segment)))
            self._segment += 1
            self._fd = _locked_file(self._path(self._segment))
            self._size = 0

    def _drop(self, upto: int) -> None:
        while self._old and self._old[0][1] <= upto:
            fd, _, path = self._old.pop(0)
            path.unlink(missing_ok=True)
            os.close(fd)
        if upto >= self._in_file and self._size:
            os.ftruncate(self._fd, 0)
            self._size = 0

    def written(self, upto: int) -> None:
        """Lines up to ``upto`` are in the store: drop the segments they cover (on the writer thread).

        Rotated segments they cover are deleted, and the current one is truncated if it holds nothing newer; the
        check runs on the writer thread after every write queued before it.
        """
        if self._pool is not None:
            self._pool.submit(self._drop, upto)

    def close(self, *, remove: bool) -> None:
        """Finish queued writes, close every segment; with ``remove`` (all in the store), delete them too."""
        if self._pending is not None and self._pool is not None:
            self._submit()  # lines appended in this loop iteration still go to the file
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for fd, _, path in [*self._old, (self._fd, self._in_file, self._path(self._segment))]:
            if fd < 0:
                continue
            if remove:
                path.unlink(missing_ok=True)
            os.close(fd)
        self._old, self._fd = [], -1


def _settle(done: asyncio.Future[None], written: asyncio.Future[None]) -> None:
    if written.cancelled():
        done.set_exception(OSError("journal writer stopped"))
    elif (exc := written.exception()) is not None:
        log.error("journal: write failed: %s", exc)
        done.set_exception(exc)
    else:
        done.set_result(None)


@dataclass
class Orphan:
    """Segments left by a dead instance, locked by the caller until :meth:`close`."""

    instance_id: str
    paths: list[Path]
    fds: list[int]

    def records(self) -> Iterator[list[Any]]:
        """Every complete line, oldest first (a line cut short by a crash is skipped)."""
        for path in self.paths:
            with path.open("rb") as f:
                for number, line in enumerate(f, 1):
                    if not line.endswith(b"\n"):
                        log.warning("journal %s: line %d was cut short by a crash; skipped", path, number)
                        continue
                    try:
                        record = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        log.error("journal %s: line %d is not JSON; skipped", path, number)
                        continue
                    if isinstance(record, list):
                        yield record

    def close(self, *, remove: bool) -> None:
        """Unlock (and with ``remove``, delete) the segments."""
        for path, fd in zip(self.paths, self.fds, strict=True):
            if remove:
                path.unlink(missing_ok=True)
            os.close(fd)


def orphans(directory: Path, own: str, *, stale_tmp_s: float = 60.0) -> list[Orphan]:
    """Segments in ``directory`` whose writer is gone (their lock could be taken), grouped by instance.

    An instance with one segment still locked (alive) is left alone entirely.
    """
    if not directory.is_dir():
        return []
    by_instance: dict[str, list[Path]] = {}
    now = time.time()
    for path in sorted(directory.iterdir()):
        if path.name.endswith(".tmp") and path.name.startswith("."):
            with contextlib.suppress(OSError):  # a start that died between create and rename: nothing in it
                if now - path.stat().st_mtime > stale_tmp_s:
                    path.unlink()
            continue
        if path.name.endswith(SUFFIX):
            instance = path.name[: -len(SUFFIX)].rpartition(".")[0]
            if instance and instance != own:
                by_instance.setdefault(instance, []).append(path)
    found = []
    for instance, paths in by_instance.items():
        fds: list[int] = []
        try:
            for path in paths:
                fd = os.open(path, os.O_RDONLY)
                fds.append(fd)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # alive (locked) or just deleted by another instance's replay
            for fd in fds:
                os.close(fd)
            continue
        found.append(Orphan(instance, paths, fds))
    return found


__all__ = ["Journal", "Orphan", "orphans"]
