"""The one HTTP transport for model calls, and the mapping of HTTP answers to satisfice errors.

Evals, judges and the gateway send every upstream request, whole or streamed, through :class:`HttpTransport`,
which runs on :class:`~satisfice.clients.lean_http.LeanPool` (one pool per event loop, opened lazily): a
connection cap per origin, one total deadline including the connect, a size cap on answers (decompressed too),
and one retry of a kept-alive connection found closed before any byte came back.

The transport returns every HTTP answer as it came (:class:`RawResponse`); deciding what a status means is
:func:`error_for_status`'s job. Failures below HTTP become errors: connection refused or reset ->
:class:`~satisfice.errors.UpstreamUnavailable`, truncated, oversized or unreadable body ->
:class:`~satisfice.errors.BadResponse`, no answer in time -> :class:`~satisfice.errors.Timeout`.
Error messages name the URL (without its query string or credentials) and never echo request headers; text from
a provider is masked (:mod:`satisfice.masking`) before it is shortened.
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from satisfice.clients.lean_http import LeanPool, LeanStream
from satisfice.errors import ProviderError, RateLimited, Timeout, UpstreamUnavailable
from satisfice.masking import mask, shorten

_EXCERPT_CHARS = 200


@dataclass(frozen=True, slots=True)
class RawResponse:
    """An HTTP answer as received: status, headers (case-insensitive mapping) and the full body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class StreamResponse:
    """An open streamed HTTP answer; read it with :meth:`iter_chunks` (or :meth:`read` for the rest)."""

    __slots__ = ("_stream", "_url", "headers", "status")

    def __init__(self, stream: LeanStream, url: str) -> None:
        self._stream = stream
        self._url = url
        self.status: int = stream.status
        self.headers: Mapping[str, str] = stream.headers

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """Yield body bytes as they arrive; a connection lost mid-body raises a ProviderError."""
        try:
            async for chunk in self._stream.iter_chunks():
                yield chunk
        except ProviderError as exc:
            raise _where(exc, self._url) from None

    async def read(self) -> bytes:
        """The rest of the body in one piece."""
        try:
            return await self._stream.read()
        except ProviderError as exc:
            raise _where(exc, self._url) from None

    def abort(self) -> None:
        """Drop the upstream connection now (what a client that went away calls for)."""
        self._stream.abort()


class _StreamContext(AbstractAsyncContextManager[StreamResponse]):
    """Opens the request on enter, gives the connection back (or drops it) on exit."""

    __slots__ = ("_args", "_stream", "_transport")

    def __init__(self, transport: HttpTransport, url: str, body: bytes, headers: Mapping[str, str],
                 timeout_s: float) -> None:
        self._transport = transport
        self._args = (url, body, headers, timeout_s)
        self._stream: LeanStream | None = None

    async def __aenter__(self) -> StreamResponse:
        url, body, headers, timeout_s = self._args
        try:
            self._stream = await self._transport.pool().stream(url, body, headers, timeout_s=timeout_s)
        except ProviderError as exc:
            raise _where(exc, url) from None
        return StreamResponse(self._stream, url)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            if exc_type is not None:
                stream.abort()
            stream.release()


class HttpTransport:
    """A pooled HTTP client for JSON POSTs to model providers.

    The pool is opened on first use inside the running event loop and belongs to that loop: call
    :meth:`close` before the loop ends. Used again afterwards (or from another loop), it opens a new pool.

    Args:
        timeout_s: Total time allowed for one :meth:`post` (connect, send, read the whole body); for
            :meth:`stream` the time to the answer's headers, then the longest wait for the next bytes.
        connect_timeout_s: Longest time to open a connection (within the total deadline).
        max_connections: Open connections allowed per origin (scheme, host, port); more requests wait.
        keepalive_s: How long an idle pooled connection is kept open.
        max_response_bytes: Largest answer accepted, counted after decompression.
        ssl_context: TLS settings for ``https`` (default: the system's trusted certificates).
        dns_ttl_s: How long a host name's addresses are kept: one look-up per origin serves every connection
            opened meanwhile.
    """

    def __init__(self, *, timeout_s: float = 60.0, connect_timeout_s: float = 10.0, max_connections: int = 100,
                 keepalive_s: float = 30.0, max_response_bytes: int = 32 << 20,
                 ssl_context: ssl.SSLContext | None = None, dns_ttl_s: float = 10.0) -> None:
        self._timeout_s = timeout_s
        self._settings: dict[str, Any] = {
            "connect_timeout_s": connect_timeout_s, "idle_s": min(keepalive_s, 4.0),
            "max_connections": max_connections, "max_response_bytes": max_response_bytes, "ssl_context": ssl_context,
            "dns_ttl_s": dns_ttl_s}
        self._pool: LeanPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def pool(self) -> LeanPool:
        """The connection pool of the running event loop (opened on first use)."""
        loop = asyncio.get_running_loop()
        pool = self._pool
        if pool is None or self._loop is not loop:
            if pool is not None:
                pool.close()
            pool = self._pool = LeanPool(**self._settings)
            self._loop = loop
        return pool

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], *,
                   timeout_s: float | None = None) -> RawResponse:
        """POST ``body`` and return the answer, whatever its status.

        Raises:
            UpstreamUnavailable: connection refused, reset or closed before the answer.
            BadResponse: the body was truncated, too large or the answer was not valid HTTP.
            Timeout: no complete answer within the timeout.
        """
        try:
            status, got, data = await self.pool().post(url, body, headers,
                                                       timeout_s=self._timeout_s if timeout_s is None else timeout_s)
        except ProviderError as exc:
            raise _where(exc, url) from None
        return RawResponse(status, got, data)

    def stream(self, url: str, body: bytes, headers: Mapping[str, str], *,
               timeout_s: float | None = None) -> AbstractAsyncContextManager[StreamResponse]:
        """POST ``body`` and stream the answer: ``async with transport.stream(...) as resp``.

        ``timeout_s`` bounds the wait for the answer's headers (connect included) and between chunks.
        """
        return _StreamContext(self, url, body, headers, self._timeout_s if timeout_s is None else timeout_s)

    async def close(self) -> None:
        """Close the pooled connections; the transport may be used again afterwards (it reopens)."""
        pool, self._pool, self._loop = self._pool, None, None
        if pool is not None:
            pool.close()

    async def __aenter__(self) -> HttpTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _safe_url(url: str) -> str:
    """The URL without query string or credentials, for messages."""
    url = url.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
        return f"{scheme}://{rest}"
    return url


def _where(exc: ProviderError, url: str) -> ProviderError:
    """The same failure, its message prefixed with the URL."""
    exc.args = (mask(f"{_safe_url(url)}: {exc}"),)
    return exc


# --- status -> error -------------------------------------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None or isinstance(headers, CIMultiDictProxy | CIMultiDict):
        return value
    lname = name.lower()
    for key, val in headers.items():
        if key.lower() == lname:
            return val
    return None


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or HTTP-date) or ``retry-after-ms``; None if absent."""
    ms = _header(headers, "retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0.0 and value == value and value != float("inf"):
            return value
    raw = _header(headers, "Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets, remembered ones and anything shaped like an API key masked."""
    return mask(text, secrets)


def error_excerpt(body: bytes, *, secrets: Iterable[str] = ()) -> str:
    """A short, one-line, masked excerpt of a provider's error body (``error.message`` when it is JSON).

    Masking comes first, on the whole message: a key that straddles the cut leaves nothing behind.
    """
    message: Any = None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            message = err.get("message") or err.get("type") or err.get("code")
        elif isinstance(err, str):
            message = err
        if message is None:
            message = data.get("message") or data.get("detail")
    text = str(message) if message is not None else body[:65_536].decode("utf-8", "replace")
    return shorten(text, _EXCERPT_CHARS, secrets, one_line=True)


def error_for_status(status: int, headers: Mapping[str, str], body: bytes, *, where: str,
                     secrets: Iterable[str] = ()) -> ProviderError | None:
    """The error an HTTP status means, or None for 2xx.

    429 -> RateLimited (``retry_after`` from the headers), 408 -> Timeout, 5xx -> UpstreamUnavailable,
    anything else -> ProviderError(retryable=False). The message is ``where``, the status and a short excerpt
    of the provider's error message with ``secrets`` (and key-shaped strings) masked; headers are never echoed.
    """
    if 200 <= status < 300:
        return None
    excerpt = error_excerpt(body, secrets=secrets)
    message = f"{where}: HTTP {status}" + (f": {excerpt}" if excerpt else "")
    if status == 429:
        return RateLimited(message, retry_after=parse_retry_after(headers), status=429)
    if status == 408:
        return Timeout(message, status=408)
    if status >= 500:
        return UpstreamUnavailable(message, status=status)
    return ProviderError(message, status=status, retryable=False)


__all__ = [
    "HttpTransport",
    "RawResponse",
    "StreamResponse",
    "error_excerpt",
    "error_for_status",
    "parse_retry_after",
    "redact",
]
