"""The HTTP/1.1 client under every model call: POST a body, get the answer whole or streamed, on pooled connections.

A bare ``asyncio.Protocol`` on httptools' C parser, chosen over aiohttp's ``ClientSession`` by measurement
(``benchmarks/post_client_cpu.py``: about a third of the CPU per POST). What it guarantees:

* **A connection cap per origin** (``max_connections``): a request beyond it waits for a free connection.
* **One host-name look-up per origin** for many connections, kept ``dns_ttl_s`` seconds
  (:mod:`satisfice.clients.resolver`); the addresses are tried in turn.
* **One total deadline** per request, from the first attempt to connect to the last byte (or, for a stream, to
  the headers; then the same time between chunks).
* **Size caps**: an answer larger than ``max_response_bytes`` fails, counted after decompression too (gzip and
  deflate answers are inflated in bounded steps).
* **One transparent retry** when a kept-alive connection turns out to be closed before any byte of the answer
  arrived (the server closed it while idle); otherwise a request is never sent twice.
* TLS for ``https`` (the system's certificate store, or the ``ssl_context`` given).

Not supported, on purpose: redirects, proxies from the environment, ``Expect: 100-continue``, HTTP/2.
Failures raise :class:`~satisfice.errors.ProviderError` subclasses or ConfigError without the URL (the caller,
:mod:`satisfice.clients.http`, adds it).
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import AsyncIterator, Coroutine, Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from satisfice.clients.http_conn import Conn, no_answer, until
from satisfice.clients.http_wire import Origin, header_block, inflate, request_target
from satisfice.clients.resolver import Resolver
from satisfice.errors import ProviderError, Timeout, UpstreamUnavailable

_DRAIN_BYTES, _DRAIN_S = 65536, 1.0  # what is read after a stream reader stopped, to keep its connection


class LeanStream:
    """An answer whose headers have arrived; :meth:`iter_chunks` yields the body as it comes."""

    __slots__ = ("_conn", "_gap_s", "_pool", "_origin", "headers", "status")

    def __init__(self, pool: LeanPool, origin: Origin, conn: Conn, gap_s: float) -> None:
        self._pool, self._origin, self._conn, self._gap_s = pool, origin, conn, gap_s
        self.status = conn.status
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict(conn.headers))

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive; Timeout when none come for ``timeout_s``."""
        conn = self._conn
        loop = asyncio.get_running_loop()
        while True:
            if conn.body:
                yield conn.take()
                continue
            if conn.error is not None:
                raise conn.error
            if conn.complete:
                return
            conn.wake = loop.create_future()
            try:
                await until(conn.wake, loop.time() + self._gap_s,
                             f"no data for {self._gap_s:g} s in the middle of the answer")
            finally:
                conn.wake = None

    async def read(self) -> bytes:
        """The rest of the body in one piece."""
        return b"".join([chunk async for chunk in self.iter_chunks()])

    def abort(self) -> None:
        """Drop the connection now (the reader gets UpstreamUnavailable)."""
        self._conn.fail(UpstreamUnavailable("stream closed by the gateway"))

    def release(self) -> None:
        """Give the connection back: kept when the answer was read to its end, dropped otherwise.

        A reader that stopped at the stream's last event leaves the final bytes of the body unread: they are
        awaited in the background (at most ``_DRAIN_BYTES``, ``_DRAIN_S`` apart) so the connection can be reused.
        """
        conn = self._conn
        if conn.error is None and not conn.closed and not conn.complete:
            self._pool.background(self._drain())
            return
        self._finish()

    async def _drain(self) -> None:
        self._gap_s = _DRAIN_S
        left = _DRAIN_BYTES
        try:
            async for chunk in self.iter_chunks():
                left -= len(chunk)
                if left < 0:
                    self.abort()
                    break
        except ProviderError:
            pass
        self._finish()

    def _finish(self) -> None:
        conn = self._conn
        conn.streaming = False
        if conn.complete and conn.error is None:
            conn.take()
            self._pool.release(self._origin, conn)
        else:
            self._pool.discard(self._origin, conn)


class LeanPool:
    """Keep-alive connections per origin under a cap (see the module text)."""

    def __init__(self, *, connect_timeout_s: float = 10.0, idle_s: float = 4.0, max_connections: int = 100,
                 max_response_bytes: int = 32 << 20, ssl_context: ssl.SSLContext | None = None,
                 dns_ttl_s: float = 10.0) -> None:
        self._connect_timeout_s = connect_timeout_s
        self.resolver = Resolver(dns_ttl_s)
        self._idle_s = idle_s
        self._cap = max(1, max_connections)
        self.max_response_bytes = max_response_bytes
        self._idle: dict[Origin, list[Conn]] = {}
        self._open: dict[Origin, set[Conn]] = {}
        self._waiters: dict[Origin, collections.deque[asyncio.Future[None]]] = {}
        self._targets: dict[str, tuple[Origin, bytes]] = {}
        self._ssl = ssl_context
        self._tasks: set[asyncio.Task[None]] = set()

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as a task the pool keeps a reference to until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def open_connections(self, url: str) -> int:
        """Connections now open (busy or idle) to the origin of ``url``."""
        return len(self._open.get(self._target(url)[0], ()))

    def _target(self, url: str) -> tuple[Origin, bytes]:
        known = self._targets.get(url)
        if known is None:
            known = request_target(url)
            if len(self._targets) < 1024:
                self._targets[url] = known
        return known

    def _take_idle(self, origin: Origin, now: float) -> Conn | None:
        """A pooled connection still fit to use (stale ones are closed on the way), or None."""
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if conn.reusable(now, self._idle_s):
                return conn
            self.discard(origin, conn)
        return None

    async def _acquire(self, origin: Origin, deadline: float, fresh: bool) -> tuple[Conn, bool]:
        """(connection, reused): an idle one, a new one under the cap, or the next one freed."""
        loop = asyncio.get_running_loop()
        while True:
            conn = None if fresh else self._take_idle(origin, loop.time())
            if conn is not None:
                return conn, True
            idle = self._idle.get(origin)
            opened = self._open.setdefault(origin, set())
            if len(opened) < self._cap:
                return await self._connect(origin, opened, deadline), False
            if fresh and idle:  # make room by closing an idle connection
                self.discard(origin, idle.pop())
                continue
            waiter = loop.create_future()
            self._waiters.setdefault(origin, collections.deque()).append(waiter)
            try:
                await until(waiter, deadline, "no free connection before the deadline")
            except BaseException:
                self._wake_one(origin)  # pass on a wake-up this request can no longer use
                raise

    async def _connect(self, origin: Origin, opened: set[Conn], deadline: float) -> Conn:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        context: ssl.SSLContext | None = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        placeholder = Conn()
        opened.add(placeholder)  # holds the slot while connecting
        wait = max(min(self._connect_timeout_s, deadline - loop.time()), 0.0)
        try:
            conn = await asyncio.wait_for(self._dial(host, port, context), wait)
        except BaseException as exc:
            opened.discard(placeholder)
            self._wake_one(origin)  # the slot is free again
            if isinstance(exc, TimeoutError):
                raise Timeout(f"could not connect within {wait:.3g} s") from None
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise UpstreamUnavailable(f"TLS certificate not trusted ({exc.verify_message})") from None
            if isinstance(exc, OSError):  # ssl.SSLError is one
                raise UpstreamUnavailable(f"cannot connect ({exc.strerror or type(exc).__name__})") from None
            raise
        opened.discard(placeholder)
        opened.add(conn)
        return conn

    async def _dial(self, host: str, port: int, context: ssl.SSLContext | None) -> Conn:
        """A connection to the first of the host's addresses that accepts one (OSError when none does)."""
        loop = asyncio.get_running_loop()
        error: OSError | None = None
        for address in await self.resolver.addresses(host, port):
            try:
                _, conn = await loop.create_connection(Conn, address[0], address[1], ssl=context,
                                                       server_hostname=host if context else None)
                return conn
            except ssl.SSLError:  # the address answered; its certificate or handshake failed
                raise
            except OSError as exc:
                error = exc
                self.resolver.refused(host, port, address)
        self.resolver.forget(host, port)
        raise error or OSError(f"no address for {host}")

    def _wake_one(self, origin: Origin) -> None:
        waiters = self._waiters.get(origin)
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def release(self, origin: Origin, conn: Conn) -> None:
        """Keep a connection whose answer was read to its end (or drop it when it cannot be reused)."""
        if conn.complete and conn.keep_alive and not conn.closed:
            conn.idle_since = asyncio.get_running_loop().time()
            self._idle.setdefault(origin, []).append(conn)
            self._wake_one(origin)
        else:
            self.discard(origin, conn)

    def discard(self, origin: Origin, conn: Conn) -> None:
        """Close a connection and free its slot."""
        conn.abort()
        opened = self._open.get(origin)
        if opened is not None and conn in opened:
            opened.discard(conn)
            self._wake_one(origin)

    async def _exchange(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float,
                        streaming: bool) -> tuple[Origin, Conn]:
        """Send the request and wait for the answer (its headers, when streaming), retrying a stale connection."""
        origin, head = self._target(url)
        request = head + header_block(headers, len(body), streaming) + body
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        fresh = False
        while True:
            conn = None if fresh else self._take_idle(origin, loop.time())
            reused = conn is not None
            if conn is None:
                conn, reused = await self._acquire(origin, deadline, fresh)
            try:
                conn.start(request, loop, self.max_response_bytes, streaming)
                waiter = conn.waiter
                assert waiter is not None
                timer = loop.call_at(deadline, no_answer, waiter, timeout_s)
                try:
                    await waiter
                finally:
                    timer.cancel()
            except UpstreamUnavailable:
                self.discard(origin, conn)
                if reused and not conn.received and not fresh:
                    fresh = True  # closed while idle, before any byte of the answer: once more, on a new one
                    continue
                raise
            except BaseException:
                self.discard(origin, conn)
                raise
            return origin, conn

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], *,
                   timeout_s: float) -> tuple[int, CIMultiDictProxy[str], bytes]:
        """POST ``body`` and return (status, headers, decoded body)."""
        origin, conn = await self._exchange(url, body, headers, timeout_s, False)
        status, got = conn.status, CIMultiDict(conn.headers)
        data = conn.take()
        self.release(origin, conn)
        encoding = got.get("content-encoding")
        if encoding:
            data = inflate(data, encoding.strip().lower(), self.max_response_bytes)
        return status, CIMultiDictProxy(got), data

    async def stream(self, url: str, body: bytes, headers: Mapping[str, str], *, timeout_s: float) -> LeanStream:
        """POST ``body`` and return once the answer's headers are in (asks for an uncompressed answer)."""
        origin, conn = await self._exchange(url, body, headers, timeout_s, True)
        return LeanStream(self, origin, conn, timeout_s)

    def close(self) -> None:
        """Close every connection, idle or busy."""
        for origin, opened in list(self._open.items()):
            for conn in list(opened):
                self.discard(origin, conn)
        self._idle.clear()
        self._open.clear()


__all__ = ["LeanPool", "LeanStream"]
