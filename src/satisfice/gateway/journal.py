"""A gateway instance's write-ahead journal of spend rows: appended before the answer goes out, replayed after a crash.

Each instance appends one JSON line per admitted request to its own segment file with ``write(2)`` on an
``O_APPEND`` descriptor *before* the response is released. Once ``write`` returns, the line is in the kernel's
page cache: it survives ``kill -9`` (and any other death of the process), though not a power loss or a kernel
crash. With ``fsync=True`` the response also waits for ``fdatasync`` (group commit: one sync covers every line
appended meanwhile), which extends the guarantee to power loss.

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
    """The append-only journal of one gateway instance (one open segment, rotated when it grows large)."""

    def __init__(self, directory: Path, instance_id: str, *, fsync: bool = False,
                 segment_bytes: int = 64 * 1024 * 1024) -> None:
        self.directory = directory
        self.instance_id = instance_id
        self.fsync = fsync
        self.segment_bytes = segment_bytes
        self.seq = 0
        """Lines appended so far (the sequence number of the last one)."""
        self._segment = 0
        self._fd = -1
        self._size = 0
        self._old: list[tuple[int, int, Path]] = []  # (fd, last seq in it, path) of rotated segments
        self._waiters: list[asyncio.Future[None]] = []
        self._syncing = False

    def _path(self, segment: int) -> Path:
        return self.directory / f"{self.instance_id}.{segment:06d}{SUFFIX}"

    def open(self) -> None:
        """Create the directory and the first segment (locked)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fd = _locked_file(self._path(self._segment))

    def append(self, record: list[Any]) -> int:
        """Write one line now (a system call, no wait); returns its sequence number."""
        line = orjson.dumps(record) + b"\n"
        written = os.write(self._fd, line)
        if written != len(line):  # a short write to a regular file means the disk is full
            raise OSError(f"journal {self._path(self._segment)}: short write ({written} of {len(line)} bytes)")
        self._size += written
        self.seq += 1
        if self._size >= self.segment_bytes:
            self._rotate()
        return self.seq

    def _rotate(self) -> None:
        if self.fsync:
            os.fsync(self._fd)
        self._old.append((self._fd, self.seq, self._path(self._segment)))
        self._segment += 1
        self._fd = _locked_file(self._path(self._segment))
        self._size = 0

    async def sync(self) -> None:
        """Wait until every line appended so far is on disk (``fdatasync``; batched across concurrent callers)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        if not self._syncing:
            self._syncing = True
            loop.create_task(self._sync_loop())
        await waiter

    async def _sync_loop(self) -> None:
        try:
            while self._waiters:
                waiters, self._waiters = self._waiters, []
                try:
                    await asyncio.to_thread(os.fdatasync, self._fd)
                except OSError as exc:
                    for w in waiters:
                        if not w.done():
                            w.set_exception(exc)
                    continue
                for w in waiters:
                    if not w.done():
                        w.set_result(None)
        finally:
            self._syncing = False

    def written(self, upto: int) -> None:
        """Lines up to ``upto`` are in the store: drop rotated segments they cover; truncate if all are."""
        while self._old and self._old[0][1] <= upto:
            fd, _, path = self._old.pop(0)
            path.unlink(missing_ok=True)
            os.close(fd)
        if upto >= self.seq and self._size:
            os.ftruncate(self._fd, 0)
            self._size = 0

    def close(self, *, remove: bool) -> None:
        """Close every segment; with ``remove`` (everything written to the store), delete them too."""
        for fd, _, path in [*self._old, (self._fd, self.seq, self._path(self._segment))]:
            if fd < 0:
                continue
            if remove:
                path.unlink(missing_ok=True)
            os.close(fd)
        self._old, self._fd = [], -1


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
