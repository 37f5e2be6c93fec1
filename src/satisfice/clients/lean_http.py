"""A lean HTTP/1.1 client for one job: POST a body, get the whole answer back, on pooled keep-alive connections.

The gateway's hot path sends one small JSON POST per request. Through
:class:`~satisfice.clients.http.HttpTransport` on aiohttp's ``ClientSession`` that cost 169-182 µs of CPU per
request on this project's 2-core machine, and 50-54 µs through this pool (``benchmarks/post_client_cpu.py``,
both side by side against the fake upstream). :class:`LeanPool` is a bare ``asyncio.Protocol`` on httptools'
C parser, with what production needs around it: a pool of keep-alive connections per origin, TLS for
``https``, a connect timeout and a total deadline, chunked and content-length bodies, gzip/deflate answers,
and the same error mapping as the aiohttp path (see :mod:`satisfice.clients.http`).

Not supported, on purpose: redirects (never followed, as in the aiohttp path), proxies from the environment
(ignored, as in the aiohttp path), streaming (the aiohttp path serves streams), ``Expect: 100-continue``.
An idle connection is closed after ``idle_s`` (below the 5 s keep-alive of common servers such as uvicorn), so
a request is not written to a connection the server is about to close. A request is never sent twice.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

from satisfice.errors import BadResponse, ConfigError, UpstreamUnavailable

Origin = tuple[str, str, int]
_MAX_IDLE_PER_ORIGIN = 256


class _Conn(asyncio.Protocol):
    """One connection: writes a request, parses the answer into a future."""

    __slots__ = ("body", "closed", "complete", "headers", "idle_since", "keep_alive", "parser", "received",
                 "status", "transport", "waiter")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[None] | None = None
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.status = 0
        self.keep_alive = True
        self.received = False
        self.complete = False
        self.closed = False
        self.idle_since = 0.0

    # --- asyncio.Protocol -------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports do not subclass asyncio's

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._finish(BadResponse(f"invalid HTTP response ({type(exc).__name__}: {exc})"))
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is None or self.waiter.done():
            return
        if self.status and not self._length_delimited():
            self.complete = True  # a body that ends when the connection does
            self._finish(None)
        elif self.received:
            self._finish(BadResponse("response body truncated (connection closed before the end)"))
        else:
            self._finish(UpstreamUnavailable("server closed the connection before answering"))

    # --- httptools callbacks ----------------------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.status < 200:  # an interim 1xx answer: the real one follows
            self.headers, self.body, self.status = [], [], 0
            return
        self.complete = True
        self._finish(None)

    # --- use --------------------------------------------------------------------------------------------------

    def _length_delimited(self) -> bool:
        for name, value in self.headers:
            lname = name.lower()
            if lname == "content-length" or (lname == "transfer-encoding" and "chunked" in value.lower()):
                return True
        return False

    def _finish(self, error: BaseException | None) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)

    def start(self, request: bytes, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """Write ``request`` and return the future that completes with the answer (or its error)."""
        self.headers, self.body, self.status = [], [], 0
        self.received = self.complete = False
        self.waiter = loop.create_future()
        assert self.transport is not None
        self.transport.write(request)
        return self.waiter

    def reusable(self, now: float, idle_s: float) -> bool:
        """Whether this idle connection may carry the next request."""
        return (not self.closed and self.transport is not None and not self.transport.is_closing()
                and now - self.idle_since < idle_s)

    def abort(self) -> None:
        """Drop the connection at once."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


def _decoded(body: bytes, encoding: str | None) -> bytes:
    if not encoding or encoding == "identity":
        return body
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)
    raise BadResponse(f"unsupported Content-Encoding {encoding!r}")


class LeanPool:
    """Keep-alive connections per origin, for :meth:`post` (see the module text)."""

    def __init__(self, *, connect_timeout_s: float = 10.0, idle_s: float = 4.0) -> None:
        self._connect_timeout_s = connect_timeout_s
        self._idle_s = idle_s
        self._idle: dict[Origin, list[_Conn]] = {}
        self._busy: set[_Conn] = set()
        self._targets: dict[str, tuple[Origin, bytes]] = {}
        self._ssl: ssl.SSLContext | None = None

    def _target(self, url: str) -> tuple[Origin, bytes]:
        """(origin, the request line and Host header) for ``url``; cached per URL."""
        known = self._targets.get(url)
        if known is not None:
            return known
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ConfigError(f"invalid URL {url.split('?', 1)[0]!r}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"invalid URL {url.split('?', 1)[0]!r}: http(s)://host/... expected")
        if parts.username or parts.password:
            raise ConfigError("credentials in an upstream URL are not supported; use api_key_env")
        host = parts.hostname
        port = port or (443 if parts.scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default = (parts.scheme, port) in (("http", 80), ("https", 443))
        host_header = (f"[{host}]" if ":" in host else host) + ("" if default else f":{port}")
        head = f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\n".encode("latin-1")
        _check_header_text(path)
        target = ((parts.scheme, host, port), head)
        if len(self._targets) < 1024:
            self._targets[url] = target
        return target

    async def _connect(self, origin: Origin, loop: asyncio.AbstractEventLoop) -> _Conn:
        scheme, host, port = origin
        context: ssl.SSLContext | None = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        _, conn = await asyncio.wait_for(
            loop.create_connection(_Conn, host, port, ssl=context, server_hostname=host if context else None),
            self._connect_timeout_s)
        return conn

    def _acquire_idle(self, origin: Origin, now: float) -> _Conn | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if conn.reusable(now, self._idle_s):
                return conn
            conn.abort()
        return None

    def _release(self, origin: Origin, conn: _Conn, now: float) -> None:
        self._busy.discard(conn)
        if conn.complete and conn.keep_alive and not conn.closed:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < _MAX_IDLE_PER_ORIGIN:
                conn.idle_since = now
                idle.append(conn)
                return
        conn.abort()

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], *, timeout_s: float,
                   on_error: Callable[[BaseException], Exception]) -> tuple[int, CIMultiDictProxy[str], bytes]:
        """POST ``body`` and return (status, headers, decoded body).

        ``on_error`` turns a low-level failure (OSError, TimeoutError) into the caller's error type; failures
        this module detects itself (truncated body, invalid HTTP, closed before answering) are raised as
        BadResponse / UpstreamUnavailable, as the aiohttp path does.
        """
        origin, head = self._target(url)
        request = head + _header_block(headers, len(body)) + body
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        conn = self._acquire_idle(origin, loop.time())
        try:
            if conn is None:
                conn = await self._connect(origin, loop)
            self._busy.add(conn)
            waiter = conn.start(request, loop)
            timer = loop.call_at(deadline, _expire, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
        except BaseException as exc:  # failed, timed out or cancelled: the connection cannot be trusted again
            if conn is not None:
                self._busy.discard(conn)
                conn.abort()
            if isinstance(exc, OSError | TimeoutError):  # ssl.SSLError is an OSError
                raise on_error(exc) from None
            raise
        status, raw_headers, chunks = conn.status, conn.headers, conn.body
        self._release(origin, conn, loop.time())
        result = CIMultiDict(raw_headers)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        encoding = result.get("content-encoding")
        if encoding:
            try:
                data = _decoded(data, encoding.strip().lower())
            except zlib.error as exc:
                raise BadResponse(f"response body could not be decoded ({encoding}: {exc})") from None
        return status, CIMultiDictProxy(result), data

    def close(self) -> None:
        """Close every connection, idle or busy."""
        for idle in self._idle.values():
            for conn in idle:
                conn.abort()
        self._idle.clear()
        for conn in list(self._busy):
            conn.abort()
        self._busy.clear()


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def _check_header_text(text: str) -> None:
    if "\r" in text or "\n" in text:
        raise ConfigError("a header or URL contains a line break (refused: it would split the HTTP request)")


def _header_block(headers: Mapping[str, str], length: int) -> bytes:
    lines = []
    has_type = has_accept = has_encoding = False
    for name, value in headers.items():
        lname = name.lower()
        if lname in ("content-length", "host", "transfer-encoding", "connection"):
            continue
        has_type = has_type or lname == "content-type"
        has_accept = has_accept or lname == "accept"
        has_encoding = has_encoding or lname == "accept-encoding"
        text = f"{name}: {value}\r\n"
        _check_header_text(text[:-2])
        lines.append(text)
    if not has_type:
        lines.append("Content-Type: application/json\r\n")
    if not has_accept:
        lines.append("Accept: application/json\r\n")
    if not has_encoding:
        lines.append("Accept-Encoding: gzip, deflate\r\n")
    lines.append(f"Content-Length: {length}\r\n\r\n")
    try:
        return "".join(lines).encode("latin-1")
    except UnicodeEncodeError:
        raise ConfigError("a request header holds a character HTTP headers cannot carry (not Latin-1)") from None


__all__ = ["LeanPool"]
