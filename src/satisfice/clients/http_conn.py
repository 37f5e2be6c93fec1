"""One pooled HTTP/1.1 connection of :mod:`satisfice.clients.lean_http`: writes a request, parses the answer.

The answer is gathered whole (``waiter`` completes at its end) or, for streams, handed over chunk by chunk
(``waiter`` completes with the headers, ``wake`` with each chunk); a reader far behind pauses the socket. The
size cap is counted here, so an oversized answer fails as soon as it passes the cap.
"""

from __future__ import annotations

import asyncio
import collections

import httptools

from satisfice.errors import BadResponse, ProviderError, Timeout, UpstreamUnavailable

PAUSE_AT = 1 << 18
"""A stream reader this many bytes behind pauses the socket."""


class Conn(asyncio.Protocol):
    """One connection: writes a request, parses the answer (whole, or handed to a stream reader chunk by chunk)."""

    __slots__ = ("body", "closed", "complete", "error", "headers", "idle_since", "keep_alive", "limit", "parser",
                 "paused", "queued", "received", "size", "status", "streaming", "transport", "waiter", "wake")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[None] | None = None
        self.wake: asyncio.Future[None] | None = None
        self.headers: list[tuple[str, str]] = []
        self.body: collections.deque[bytes] = collections.deque()
        self.status = self.size = self.queued = 0
        self.limit = 0
        self.keep_alive = True
        self.received = self.complete = self.closed = self.streaming = self.paused = False
        self.error: ProviderError | None = None
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """asyncio: the connection is open."""
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports do not subclass asyncio's

    def data_received(self, data: bytes) -> None:
        """asyncio: bytes arrived; parse them."""
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.fail(BadResponse(f"invalid HTTP response ({type(exc).__name__}: {exc})"))

    def connection_lost(self, exc: Exception | None) -> None:
        """asyncio: the connection closed; end the answer (a body that ends with the connection) or fail it."""
        self.closed = True
        if self.complete or self.error is not None:
            return
        if self.status and not self._length_delimited():
            self.on_message_complete()  # a body that ends when the connection does
        elif self.received:
            self.fail(BadResponse("response body truncated (connection closed before the end)"))
        else:
            self.fail(UpstreamUnavailable("server closed the connection before answering"))

    def on_header(self, name: bytes, value: bytes) -> None:
        """httptools: one header line."""
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        """httptools: status and headers are in (a stream's reader may start)."""
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        if self.streaming and self.status >= 200:
            resolve(self.waiter)

    def on_body(self, body: bytes) -> None:
        """httptools: a piece of the body, counted against the size cap."""
        self.size += len(body)
        if self.size > self.limit:
            self.fail(BadResponse(f"response larger than the limit of {self.limit} bytes"))
            return
        self.body.append(body)
        if self.streaming:
            self.queued += len(body)
            if self.queued > PAUSE_AT and not self.paused and self.transport is not None:
                self.paused = True
                self.transport.pause_reading()
            resolve(self.wake)

    def on_message_complete(self) -> None:
        """httptools: the answer is complete (an interim 1xx answer is dropped)."""
        if self.status < 200:  # an interim 1xx answer: the real one follows
            self.headers, self.status, self.size = [], 0, 0
            self.body.clear()
            return
        self.complete = True
        resolve(self.wake if self.streaming else self.waiter)

    def _length_delimited(self) -> bool:
        return any(n.lower() == "content-length" or (n.lower() == "transfer-encoding" and "chunked" in v.lower())
                   for n, v in self.headers)

    def fail(self, error: ProviderError) -> None:
        """End the exchange with ``error`` and drop the connection."""
        if self.error is None and not self.complete:
            self.error = error
            for fut in (self.waiter, self.wake):
                if fut is not None and not fut.done():
                    fut.set_exception(error)
        self.abort()

    def start(self, request: bytes, loop: asyncio.AbstractEventLoop, limit: int, streaming: bool) -> None:
        """Write ``request``; ``waiter`` completes with the answer (or its headers, when streaming)."""
        self.headers, self.status, self.size, self.queued, self.limit = [], 0, 0, 0, limit
        self.body.clear()
        self.received = self.complete = False
        self.streaming = streaming
        self.error = None
        self.wake = None
        self.waiter = loop.create_future()
        assert self.transport is not None
        self.transport.write(request)

    def take(self) -> bytes:
        """The body bytes received and not yet taken (stream readers)."""
        data = b"".join(self.body) if len(self.body) != 1 else self.body[0]
        self.body.clear()
        self.queued = 0
        if self.paused and self.transport is not None and not self.closed:
            self.paused = False
            self.transport.resume_reading()
        return data

    def reusable(self, now: float, idle_s: float) -> bool:
        """Whether this idle connection may carry the next request."""
        return (not self.closed and self.transport is not None and not self.transport.is_closing()
                and now - self.idle_since < idle_s)

    def abort(self) -> None:
        """Drop the connection at once."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


def resolve(fut: asyncio.Future[None] | None) -> None:
    """Complete ``fut`` unless it is None or done."""
    if fut is not None and not fut.done():
        fut.set_result(None)


def expire(fut: asyncio.Future[None], message: str) -> None:
    """Fail ``fut`` with Timeout(``message``) unless it is done."""
    if not fut.done():
        fut.set_exception(Timeout(message))


def no_answer(fut: asyncio.Future[None], timeout_s: float) -> None:
    """Fail ``fut``: no answer within ``timeout_s``."""
    expire(fut, f"no answer within {timeout_s:g} s")


async def until(fut: asyncio.Future[None], when: float, message: str) -> None:
    """Wait for ``fut``, failing with Timeout(``message``) at loop time ``when``."""
    timer = asyncio.get_running_loop().call_at(when, expire, fut, message)
    try:
        await fut
    finally:
        timer.cancel()


__all__ = ["Conn", "expire", "no_answer", "resolve", "until"]
