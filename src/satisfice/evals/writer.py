"""Group commit for an eval run: one writer thread commits answers, scores and errors in batches.

At high concurrency each answer used to cost its own committed transaction on a worker thread. Here every
write is queued to one thread, which takes everything that arrived while the previous batch was committing and
commits it as one transaction (:meth:`~satisfice.evals.cache.ResponseCache.write_batch`). A caller awaits its
write: it returns only once the batch holding it is committed, so an answer is durable before it is scored,
reported or relied on by a resume, exactly as with one transaction per write. A failed batch fails every write
in it (each caller sees the error).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

from satisfice.evals.cache import ResponseCache

MAX_BATCH = 1000
"""Writes committed in one transaction at most."""

_Write = tuple[str, dict[str, Any], asyncio.AbstractEventLoop, "asyncio.Future[None]"]


class GroupWriter:
    """Commits :class:`ResponseCache` writes in groups from one thread; ``await write(...)`` is durable.

    Start it with :meth:`start` (or ``async with``) on the loop that will await writes; :meth:`close` drains
    the queue and stops the thread.
    """

    def __init__(self, cache: ResponseCache) -> None:
        self.cache = cache
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.writes = 0

    def start(self) -> GroupWriter:
        """Start the writer thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="satisfice-eval-writer", daemon=True)
            self._thread.start()
        return self

    async def write(self, kind: str, row: dict[str, Any]) -> None:
        """Queue one write (``"response"``, ``"score"`` or ``"error"``) and wait until it is committed."""
        self.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put((kind, row, loop, future))
        await future

    async def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        if self._thread is None:
            return
        self._queue.put(None)
        thread, self._thread = self._thread, None
        await asyncio.to_thread(thread.join)

    async def __aenter__(self) -> GroupWriter:
        return self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            self._commit(batch)

    def _commit(self, batch: list[_Write]) -> None:
        error: BaseException | None = None
        try:
            self.cache.write_batch([(kind, row) for kind, row, _, _ in batch])
            self.batches += 1
            self.writes += len(batch)
        except BaseException as exc:  # reported to every waiting caller, never swallowed
            error = exc
        for _, _, loop, future in batch:
            try:
                loop.call_soon_threadsafe(_settle, future, error)
            except RuntimeError:  # that caller's loop is closed: nobody is waiting any more
                pass


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
