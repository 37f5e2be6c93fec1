"""Streaming relay for routes without verifiers: upstream SSE events go to the client as they arrive.

When escalation and fallback are still possible
-----------------------------------------------
* Routes **with verifiers** never relay: the upstream is called with ``stream: false``, the whole answer is
  verified (and escalated if needed), and only then is it sent to the client as a synthesized SSE stream. So
  every fallback and escalation remains possible, at the price of no incremental output.
* Routes and models **without verifiers** relay. Fallback to the next upstream or model happens while nothing
  has been sent: on a connection error, timeout, 429 or 5xx when opening the stream, and also when the stream
  breaks or sends an error event *before its first data event*. The client's response starts only once the
  first event is in hand. After that, a failure cannot be undone: the stream ends with one
  ``data: {"error": {...}}`` event (never a silent truncation, and no ``[DONE]``).

Usage is requested upstream with ``stream_options.include_usage``; the usage-only chunk is forwarded only when
the client asked for it. Without usage, tokens are estimated (characters / 4) and the spend row says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from satisfice.clients.http import HttpTransport
from satisfice.clients.sse import DONE_DATA, SSEParser, decode_event, event_data, read_chunk
from satisfice.clients.usage import billed_usage
from satisfice.core import Price, Usage
from satisfice.errors import BadResponse, ProviderError, UpstreamUnavailable
from satisfice.gateway.money.journal import JournalUnwritable
from satisfice.gateway.wire.replies import DONE, sse_error
from satisfice.gateway.wire.upstream import OpenStream, Upstream, describe, open_stream
from satisfice.masking import shorten

SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
               (b"x-accel-buffering", b"no")]


class Relay:
    """An upstream stream being relayed: parses events, tracks text, usage and completion."""

    def __init__(self, stream: OpenStream, endpoint: str, price: Price, client_usage: bool,
                 input_estimate: int) -> None:
        self.stream = stream
        self.endpoint = endpoint
        self.price = price
        self.client_usage = client_usage
        self.input_estimate = input_estimate
        self.parser = SSEParser()
        self.chunks: AsyncIterator[bytes] = stream.response.iter_chunks().__aiter__()
        self.pending = b""
        self.text: list[str] = []
        self.usage: Usage | None = None
        self.events = 0
        self.finished = False
        self.done = False

    @property
    def model(self) -> str:
        """The model being relayed."""
        return self.stream.model

    @property
    def upstream(self) -> Upstream:
        """Where it comes from."""
        return self.stream.upstream

    def _event(self, event: bytes) -> bytes | None:
        payload = event_data(event)
        if payload is None:
            return event + b"\n\n"  # comments / keep-alives pass through
        if payload == DONE_DATA:
            self.done = True
            return None
        obj = decode_event(payload, self.upstream.name)  # remembered provider keys are masked in the excerpt
        err = obj.get("error")
        if err is not None:
            message = err.get("message") if isinstance(err, dict) else str(err)
            raise UpstreamUnavailable(f"{self.upstream.name}: error in stream: "
                                      f"{shorten(str(message), 200, self.upstream.secrets(), one_line=True)}")
        self.events += 1
        return self.on_event(obj, event)

    def on_event(self, obj: dict[str, Any], event: bytes) -> bytes | None:
        """Track one decoded chat event (text, usage, finish); the bytes to forward (None: nothing)."""
        text, _, usage, finished, usage_only = read_chunk(obj)
        if usage is not None:
            self.usage = usage
        if text:
            self.text.append(text)
        if finished:
            self.finished = True
        if usage_only and not self.client_usage:
            return None  # the usage chunk we asked for; the client did not
        return event + b"\n\n"

    def tail(self) -> bytes:
        """What ends a complete stream."""
        return DONE

    def stream_error(self, message: str) -> bytes:
        """The event that ends a stream that failed after it started."""
        return sse_error(message)

    def feed(self, chunk: bytes) -> bytes:
        """Bytes to forward for this chunk (may be empty); raises ProviderError on an error event."""
        out = [forward for event in self.parser.feed(chunk) if (forward := self._event(event)) is not None]
        return b"".join(out)

    async def prime(self) -> None:
        """Read until the first data event, so that a failure before it can still fall back."""
        async for chunk in self.chunks:
            self.pending += self.feed(chunk)
            if self.events or self.done:
                return
        raise BadResponse(f"{self.upstream.name}: stream ended before any event")

    def result(self) -> tuple[float, Usage, bool, bool, str]:
        """What was relayed and what it is billed: ``(cost, usage, estimated, usage_invalid, text)``."""
        text = "".join(self.text)
        usage, estimated, invalid = billed_usage(self.usage, self.input_estimate, text)
        return self.price.cost(usage), usage, estimated, invalid, text

    async def close(self, exc: BaseException | None = None) -> None:
        """Release the upstream connection."""
        await self.stream.close(exc)


async def open_relay(transport: HttpTransport, upstream: Upstream, model: str, endpoint: str,
                     payload: dict[str, Any], price: Price, input_estimate: int) -> Relay:
    """Open the upstream stream and read its first event; raises ProviderError when that fails."""
    options = payload.get("stream_options")
    client_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    stream = await open_stream(transport, upstream, model, endpoint, payload)
    return await primed(Relay(stream, endpoint, price, client_usage, input_estimate))


async def primed(relay: Relay) -> Relay:
    """``relay`` once its first event is read; the upstream connection is released when that fails."""
    try:
        await relay.prime()
    except BaseException as exc:
        await relay.close(exc)
        raise
    return relay


Finish = Callable[[Relay, str | None], None]


class RelayResponse:
    """ASGI response relaying an opened stream; ``on_finish(relay, error)`` runs exactly once at the end.

    When the upstream completes, ``on_finish`` runs and ``durable()`` is awaited *before* the stream's last bytes
    are sent, so a client that saw the whole answer has a spend row that survives a crash of the gateway.
    """

    def __init__(self, relay: Relay, headers: list[tuple[bytes, bytes]], on_finish: Finish,
                 durable: Callable[[], Awaitable[None]] | None = None) -> None:
        self.relay = relay
        self.headers = SSE_HEADERS + headers
        self.on_finish = on_finish
        self.durable = durable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the stream; end it with an error event if the upstream fails midway."""
        relay = self.relay
        error: str | None = None
        client_gone = False
        failure: BaseException | None = None
        finished = False
        gone = asyncio.Event()
        watcher = asyncio.get_running_loop().create_task(
            _watch_disconnect(receive, gone, relay.stream.response.abort))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            if relay.pending:
                await send({"type": "http.response.body", "body": relay.pending, "more_body": True})
            if not relay.done:
                async for chunk in relay.chunks:
                    out = relay.feed(chunk)
                    if out:
                        await send({"type": "http.response.body", "body": out, "more_body": True})
                    if relay.done:
                        break
            if gone.is_set():
                raise ConnectionResetError("client disconnected")
            if relay.done or relay.finished:
                tail = relay.tail()
            else:
                error = f"{relay.upstream.name}: stream ended before the answer was complete"
                tail = relay.stream_error("upstream stream ended before the answer was complete")
            finished = True
            self.on_finish(relay, error)  # the row is journaled before the last bytes go out
            if self.durable is not None:
                try:
                    await self.durable()
                except JournalUnwritable as exc:
                    tail = sse_error(f"the gateway could not record this answer ({exc}); it ends here")
            await send({"type": "http.response.body", "body": tail, "more_body": False})
        except ProviderError as exc:
            failure = exc
            if gone.is_set():  # the upstream was dropped because the client went away
                client_gone, error = True, "client disconnected"
            else:
                error = describe(exc, relay.upstream)
                try:
                    await send({"type": "http.response.body",
                                "body": relay.stream_error(f"upstream failed mid-stream: {error}"),
                                "more_body": False})
                except OSError:
                    client_gone = True
        except OSError as exc:  # the client went away (uvicorn raises on send after a disconnect)
            failure, client_gone = exc, True
            error = "client disconnected"
        finally:
            watcher.cancel()
            try:
                if not finished:
                    self.on_finish(relay, error)
            finally:
                await relay.close(failure if (failure is not None or client_gone) else None)


async def _watch_disconnect(receive: Receive, gone: asyncio.Event, drop_upstream: Callable[[], None]) -> None:
    """On the client's disconnect, set ``gone`` and drop the upstream connection at once.

    The body was read already, so nothing else arrives; an answer nobody reads stops costing within a moment,
    not at the next chunk or the read timeout.
    """
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            drop_upstream()
            return


__all__ = ["SSE_HEADERS", "Relay", "RelayResponse", "open_relay", "primed"]
