"""The one HTTP transport for model calls (aiohttp), and the mapping of HTTP answers to satisfice errors.

Evals and the gateway both send their upstream requests through :class:`HttpTransport`: one pooled
``aiohttp.ClientSession`` per event loop, created lazily. aiohttp was chosen by measurement
(~6,400 relayed requests/s against ~450-730 for ``httpx.AsyncClient`` on 2 cores). With ``lean_posts`` (the
gateway) whole-answer POSTs go through :mod:`satisfice.clients.lean_http` instead, about 3x less CPU each.

The transport returns every HTTP answer as it came (:class:`RawResponse`); deciding what a status means is
:func:`error_for_status`'s job. Failures below HTTP become errors: connection refused or reset ->
:class:`~satisfice.errors.UpstreamUnavailable`, truncated or unreadable body ->
:class:`~satisfice.errors.BadResponse`, no answer in time -> :class:`~satisfice.errors.Timeout`.
Error messages name the URL (without its query string) and never echo request headers or API keys.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from satisfice.clients.lean_http import LeanPool
from satisfice.errors import (
    BadResponse,
    ConfigError,
    ProviderError,
    RateLimited,
    Timeout,
    UpstreamUnavailable,
)

_EXCERPT_CHARS = 200
_DEFAULT_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
_KEY_PATTERNS = re.compile(r"(?i)(bearer\s+)\S+|\b(?:sk|gsk|xai|tgp|fw)[-_][A-Za-z0-9_\-]{12,}")


@dataclass(frozen=True, slots=True)
class RawResponse:
    """An HTTP answer as received: status, headers (case-insensitive mapping) and the full body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class StreamResponse:
    """An open streamed HTTP answer; read it with :meth:`iter_chunks` (or :meth:`read` for the rest)."""

    __slots__ = ("_resp", "_url", "headers", "status")

    def __init__(self, resp: aiohttp.ClientResponse, url: str) -> None:
        self._resp = resp
        self._url = url
        self.status: int = resp.status
        self.headers: Mapping[str, str] = resp.headers

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """Yield body bytes as they arrive; a connection lost mid-body raises a ProviderError."""
        try:
            async for chunk in self._resp.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _map_exception(exc, self._url) from None

    async def read(self) -> bytes:
        """The rest of the body in one piece."""
        try:
            return await self._resp.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _map_exception(exc, self._url) from None


class _StreamContext(AbstractAsyncContextManager[StreamResponse]):
    """Opens the request on enter, releases the connection on exit."""

    __slots__ = ("_body", "_headers", "_resp", "_timeout", "_transport", "_url")

    def __init__(self, transport: HttpTransport, url: str, body: bytes, headers: Mapping[str, str],
                 timeout: aiohttp.ClientTimeout) -> None:
        self._transport = transport
        self._url = url
        self._body = body
        self._headers = headers
        self._timeout = timeout
        self._resp: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> StreamResponse:
        session = self._transport._session_for_loop()
        try:
            self._resp = await session.post(self._url, data=self._body, headers=self._headers,
                                            timeout=self._timeout, allow_redirects=False)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _map_exception(exc, self._url) from None
        return StreamResponse(self._resp, self._url)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        resp, self._resp = self._resp, None
        if resp is not None:
            if exc_type is None and resp.content.at_eof():
                resp.release()
            else:
                resp.close()  # not read to the end: the connection cannot be reused


class HttpTransport:
    """A pooled aiohttp client for JSON POSTs to model providers.

    The pool is opened on first use inside the running event loop and belongs to that loop: call
    :meth:`close` before the loop ends. Used again afterwards (or from another loop), it opens a new pool.

    Args:
        timeout_s: Total time allowed for one :meth:`post` (connect, send, read the whole body); for
            :meth:`stream` it is the longest wait for the next bytes.
        connect_timeout_s: Time allowed to open a connection.
        max_connections: Connection pool size across all hosts.
        keepalive_s: How long an idle pooled connection is kept open.
        lean_posts: Send :meth:`post` through :class:`~satisfice.clients.lean_http.LeanPool` (a bare protocol on
            httptools, about 3x less CPU per request than aiohttp here); streams still use aiohttp. The gateway
            turns it on.
    """

    def __init__(self, *, timeout_s: float = 60.0, connect_timeout_s: float = 10.0, max_connections: int = 256,
                 keepalive_s: float = 30.0, lean_posts: bool = False) -> None:
        self._timeout_s = timeout_s
        self._lean: LeanPool | None = None
        self._lean_wanted = lean_posts
        self._lean_loop: asyncio.AbstractEventLoop | None = None
        self._connect_timeout_s = connect_timeout_s
        self._max_connections = max_connections
        self._keepalive_s = keepalive_s
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._stream_timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._default_timeout = self._post_timeout(timeout_s)

    def _post_timeout(self, timeout_s: float) -> aiohttp.ClientTimeout:
        t = self._timeouts.get(timeout_s)
        if t is None:
            t = aiohttp.ClientTimeout(total=timeout_s, sock_connect=self._connect_timeout_s)
            if len(self._timeouts) < 64:
                self._timeouts[timeout_s] = t
        return t

    def _stream_timeout(self, timeout_s: float) -> aiohttp.ClientTimeout:
        t = self._stream_timeouts.get(timeout_s)
        if t is None:
            t = aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout_s, sock_read=timeout_s)
            if len(self._stream_timeouts) < 64:
                self._stream_timeouts[timeout_s] = t
        return t

    def _session_for_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and self._loop is loop and not session.closed:
            return session
        # First use, or a new event loop (a session is bound to the loop it was created in).
        connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0,
                                         keepalive_timeout=self._keepalive_s, ttl_dns_cache=300)
        session = aiohttp.ClientSession(connector=connector, headers=_DEFAULT_HEADERS, timeout=self._default_timeout)
        self._session, self._loop = session, loop
        return session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], *,
                   timeout_s: float | None = None) -> RawResponse:
        """POST ``body`` and return the answer, whatever its status.

        Raises:
            UpstreamUnavailable: connection refused, reset or closed before the answer.
            BadResponse: the body was truncated or the answer was not valid HTTP.
            Timeout: no complete answer within the timeout.
        """
        if self._lean_wanted:
            return await self._lean_post(url, body, headers, self._timeout_s if timeout_s is None else timeout_s)
        session = self._session_for_loop()
        timeout = self._default_timeout if timeout_s is None else self._post_timeout(timeout_s)
        try:
            async with session.post(url, data=body, headers=headers, timeout=timeout,
                                    allow_redirects=False) as resp:
                data = await resp.read()
                return RawResponse(resp.status, resp.headers, data)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _map_exception(exc, url, timeout.total) from None

    async def _lean_post(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> RawResponse:
        loop = asyncio.get_running_loop()
        pool = self._lean
        if pool is None or self._lean_loop is not loop:
            if pool is not None:
                pool.close()
            pool = self._lean = LeanPool(connect_timeout_s=self._connect_timeout_s,
                                         idle_s=min(self._keepalive_s, 4.0))
            self._lean_loop = loop
        try:
            status, got, data = await pool.post(url, body, headers, timeout_s=timeout_s,
                                                on_error=lambda exc: _map_exception(exc, url, timeout_s))
        except (BadResponse, UpstreamUnavailable) as exc:
            raise type(exc)(f"{_safe_url(url)}: {exc}") from None
        return RawResponse(status, got, data)

    def stream(self, url: str, body: bytes, headers: Mapping[str, str], *,
               timeout_s: float | None = None) -> AbstractAsyncContextManager[StreamResponse]:
        """POST ``body`` and stream the answer: ``async with transport.stream(...) as resp``.

        ``timeout_s`` bounds the wait for the answer's headers and between chunks, not the whole stream.
        """
        timeout = self._stream_timeout(self._timeout_s if timeout_s is None else timeout_s)
        return _StreamContext(self, url, body, headers, timeout)

    async def close(self) -> None:
        """Close the pooled connections; the transport may be used again afterwards (it reopens)."""
        lean, self._lean, self._lean_loop = self._lean, None, None
        if lean is not None:
            lean.close()
        session, self._session, self._loop = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

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


def _map_exception(exc: BaseException, url: str, timeout_s: float | None = None) -> ProviderError | ConfigError:
    where = _safe_url(url)
    name = type(exc).__name__
    if isinstance(exc, TimeoutError):  # includes aiohttp's ServerTimeoutError / ConnectionTimeoutError
        within = f"within {timeout_s:g} s" if timeout_s else "in time"
        return Timeout(f"{where}: no answer {within} ({name})")
    if isinstance(exc, aiohttp.InvalidURL):
        return ConfigError(f"invalid URL {where!r}")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return BadResponse(f"{where}: response body truncated or unreadable ({name})")
    if isinstance(exc, aiohttp.ClientResponseError):  # not valid HTTP; message only, never request_info
        return BadResponse(f"{where}: invalid HTTP response ({name}: {exc.message})")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return UpstreamUnavailable(f"{where}: server closed the connection before answering")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamUnavailable(f"{where}: cannot connect ({exc.os_error.strerror or name})")
    if isinstance(exc, OSError):  # includes aiohttp.ClientOSError (connection reset, broken pipe)
        return UpstreamUnavailable(f"{where}: connection failed ({name}: {exc.strerror or exc})")
    return UpstreamUnavailable(f"{where}: request failed ({name})")


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
    """``text`` with the given secrets and anything shaped like an API key or bearer token masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_PATTERNS.sub(lambda m: (m.group(1) or "") + "***", text)


def error_excerpt(body: bytes, *, secrets: Iterable[str] = ()) -> str:
    """A short, one-line, redacted excerpt of a provider's error body (``error.message`` when it is JSON)."""
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
    text = str(message) if message is not None else body[: _EXCERPT_CHARS * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    if len(text) > _EXCERPT_CHARS:
        text = text[: _EXCERPT_CHARS - 3] + "..."
    return redact(text, secrets)


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
