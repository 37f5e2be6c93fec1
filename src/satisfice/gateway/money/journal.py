"""A gateway instance's write-ahead journal of spend rows: appended before the answer goes out, replayed after a crash.

Each instance appends one JSON line per admitted request to its own segment file with ``write(2)`` on an
``O_APPEND`` descriptor, and the response is released only once that ``write`` has returned (group commit: one
``write`` per loop iteration's lines, on a writer thread). From then on the line is in the kernel's page cache:
it survives ``kill -9`` (and any other death of the process), though not a power loss or a kernel crash. With
``fsync=True`` each batch is also ``fdatasync``'ed before its answers go out, which extends the guarantee to
power loss.

Lines are written to the store in batches by :class:`~satisfice.gateway.money.spendlog.SpendLog`; when everything
appended has been written, the segment is truncated. A segment is held with ``flock`` for as long as its
instance lives, so any other instance (or the next start) can tell an orphan — a segment whose writer died — from
a live one, replay its lines into the store (skipping lines already stored, by ``entry_id``) and delete it.
A line cut short by the crash is the request whose answer was never released, and is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from satisfice.gateway.money.journal_records import BadRecord, base_line, check_record, decode, encode

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
        self._lines = 0  # data lines in the current segment
        self._in_file = 0  # sequence number of the last line handed to the writer
        self._need_base = False
        self.fault: str | None = None
        """Why the journal cannot be written now (disk full, read-only, ...); None when it can."""
        self.failures = 0
        self.on_disk = 0
        """Sequence number of the last line written to the file (kernel page cache)."""
        self.damaged = 0
        """Times the current segment was found deleted or truncated under a live instance."""
        self._old: list[tuple[int, int, Path]] = []  # (fd, last line in it, path) of rotated segments

    def _path(self, segment: int) -> Path:
        return self.directory / f"{self.instance_id}.{segment:06d}{SUFFIX}"

    def open(self) -> None:
        """Create the directory and the first segment (locked), and start the writer thread.

        A directory that cannot be written does not stop the start: :attr:`fault` names the cause, requests
        are refused until :meth:`probe` succeeds.
        """
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="satisfice-journal")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._start_segment(0)
        except OSError as exc:
            self._failed(exc)
            self._need_base = False

    def append(self, record: list[Any]) -> int:
        """Queue one line for the writer thread (no system call here); returns its sequence number."""
        self.seq += 1
        self._batch.append(encode([self.seq, *record]))
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
        """Append ``data`` (``lines`` data lines); on failure the file is cut back to its last whole line."""
        first = self._in_file
        self._in_file += lines  # sequence numbers are used up even when the write fails: no reuse
        try:
            if self._fd < 0:
                self._start_segment(first)
            if self._need_base:  # after a failed write: the lines it lost are not in the file, by design
                data = base_line(first, after_failure=True) + data
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            if self.fsync:
                os.fdatasync(self._fd)
        except OSError as exc:
            self._failed(exc)
            raise JournalUnwritable(self.fault) from exc
        self._need_base = False
        self.fault = None
        self.on_disk = self._in_file
        self._size += len(data)
        self._lines += lines
        if self._size >= self.segment_bytes:
            self._old.append((self._fd, self._in_file, self._path(self._segment)))
            self._segment += 1
            self._fd = -1
            with contextlib.suppress(OSError):  # else the next write tries again
                self._start_segment(self._in_file)

    def _start_segment(self, base: int) -> None:
        fd = _locked_file(self._path(self._segment))
        try:
            line = base_line(base)
            os.write(fd, line)
        except OSError:
            self._path(self._segment).unlink(missing_ok=True)
            os.close(fd)
            raise
        self._fd, self._size, self._lines, self._need_base = fd, len(line), 0, False

    def _failed(self, exc: OSError) -> None:
        self.fault = describe_os_error(exc, self.directory)
        self._need_base = True
        if self._fd >= 0:
            with contextlib.suppress(OSError):  # no half line stays behind for the next write to follow
                os.ftruncate(self._fd, self._size)
        if self.failures == 0 or self.failures % 1000 == 0:
            log.error("journal: cannot write (%s): new requests are refused with 503 until it can", self.fault)
        self.failures += 1

    def _drop(self, upto: int) -> None:
        while self._old and self._old[0][1] <= upto:
            fd, _, path = self._old.pop(0)
            path.unlink(missing_ok=True)
            os.close(fd)
        if upto >= self._in_file and self._lines and self._fd >= 0:
            os.ftruncate(self._fd, 0)
            self._size = self._lines = 0
            try:
                self._write(base_line(self._in_file), 0)  # the mark: lines up to here are in the store
            except OSError:
                pass  # recorded in ``fault``; the next write or probe puts the mark

    def _probe(self) -> None:
        if self._fd >= 0:
            st = os.fstat(self._fd)
            if st.st_nlink == 0 or st.st_size < self._size:
                self.damaged += 1
                log.error("journal %s was %s while in use; starting a new segment (lines not yet in the store "
                          "are still queued in memory)", self._path(self._segment),
                          "deleted" if st.st_nlink == 0 else "truncated")
                os.close(self._fd)
                self._fd = -1
                self._segment += 1
        if self._fd < 0 or self._need_base:
            self._write(b"", 0)

    def probe(self) -> None:
        """Check that the journal can be written (a base mark after a failure) and is still in place (blocking).

        Called about once a second; clears :attr:`fault` once a write succeeds again, so refused requests
        resume by themselves when space returns.
        """
        if self._pool is not None:
            with contextlib.suppress(OSError):
                self._pool.submit(self._probe).result()

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
                with contextlib.suppress(OSError):  # a read-only folder: the next start finds it empty
                    path.unlink(missing_ok=True)
            os.close(fd)
        self._old, self._fd = [], -1


_CAUSES = {errno.ENOSPC: "disk full", errno.EROFS: "read-only file system", errno.EDQUOT: "disk quota exceeded",
           errno.EACCES: "permission denied", errno.EPERM: "permission denied", errno.EFBIG: "file too large",
           errno.EIO: "I/O error"}


def describe_os_error(exc: OSError, directory: Path) -> str:
    """A short cause for a failed journal write, e.g. ``disk full (ENOSPC) in /var/journal``."""
    name = errno.errorcode.get(exc.errno or 0, "error")
    return f"{_CAUSES.get(exc.errno or 0, exc.strerror or 'error')} ({name}) in {directory}"


class JournalUnwritable(OSError):
    """The journal could not be written: the answers waiting on it must not be released as delivered."""


def _settle(done: asyncio.Future[None], written: asyncio.Future[None]) -> None:
    if written.cancelled():
        done.set_exception(JournalUnwritable("journal writer stopped"))
    elif (exc := written.exception()) is not None:
        done.set_exception(exc if isinstance(exc, JournalUnwritable) else JournalUnwritable(str(exc)))
    else:
        done.set_result(None)


@dataclass
class Scan:
    """What a dead instance's journal holds: valid entries, and how many lines were bad or are missing."""

    entries: list[tuple[str | None, list[Any]]] = field(default_factory=list)
    """``(period, spend row fields)`` of every valid record, oldest first."""
    quarantined: int = 0
    missing: int = 0
    """Lines whose sequence numbers are skipped (a segment deleted or cut, lines removed)."""
    last_seq: int | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class Orphan:
    """Segments left by a dead instance, locked by the caller until :meth:`close`."""

    instance_id: str
    paths: list[Path]
    fds: list[int]

    def scan(self, quarantine: Path) -> Scan:
        """Check every line (checksum, sequence, fields); bad ones go to ``quarantine/<segment>.bad``.

        A line cut short at the very end is the request whose answer was never released (a crash mid-write),
        and is skipped quietly; anything else that fails a check is quarantined with its reason, never credited.
        """
        scan = Scan()
        expected: int | None = None
        for n_path, path in enumerate(self.paths):
            data = path.read_bytes()
            lines = data.split(b"\n")
            last = lines.pop()  # after the final newline: b"" unless the last line was cut short
            bad: list[bytes] = []
            for number, line in enumerate(lines, 1):
                try:
                    payload = decode(line)
                    if isinstance(payload, dict):
                        base = payload.get("base")
                        if isinstance(base, bool) or not isinstance(base, int) or base < 0:
                            raise BadRecord("malformed base mark")
                        if expected is not None and base > expected and not payload.get("after_failure"):
                            scan.missing += base - expected
                        expected = base
                        continue
                    seq, period, row = check_record(payload, self.instance_id)
                    if expected is not None and seq <= expected:
                        raise BadRecord(f"seq {seq} out of order (after {expected})")
                    if expected is not None:
                        scan.missing += seq - expected - 1
                    expected = seq
                    scan.entries.append((period, row))
                except BadRecord as exc:
                    scan.quarantined += 1
                    bad.append(b"# line %d: %b\n%b\n" % (number, str(exc).encode(), line[:100_000]))
                    scan.reasons.append(f"{path.name} line {number}: {exc}")
            if last and n_path < len(self.paths) - 1:
                scan.quarantined += 1
                bad.append(b"# line %d: cut short\n%b\n" % (len(lines) + 1, last[:100_000]))
                scan.reasons.append(f"{path.name} line {len(lines) + 1}: cut short")
            elif last:
                log.warning("journal %s: line %d was cut short by a crash; skipped", path, len(lines) + 1)
            if bad:
                quarantine.mkdir(parents=True, exist_ok=True)
                side = quarantine / f"{path.name}.bad"
                with side.open("ab") as f:
                    f.write(b"".join(bad))
                log.error("journal %s: %d bad records quarantined to %s and not credited (%s)", path, len(bad),
                          side, scan.reasons[-1])
        scan.last_seq = expected
        return scan

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


__all__ = ["Journal", "JournalUnwritable", "Orphan", "Scan", "describe_os_error", "orphans"]
