"""Upstream calls for the client APIs (:mod:`~satisfice.gateway.apis.client_apis`), whole or streamed.

An upstream whose ``apis`` list names the request's API gets the client's body as is (with the provider's
model name) at ``<base_url>/<api>``, and its answer goes back untouched (its usage read in that API's shape).
Any other upstream gets the chat-completions translation, and its answer is translated back. Both give an
:class:`~satisfice.gateway.wire.upstream.Answer` whose ``body`` and ``data`` are in the client's API, so verifiers,
spend rows and the cascade work the same for every API. Streams relay through
:class:`~satisfice.gateway.apis.relay.Relay` subclasses that either forward native events or write the API's events
from the chat chunks.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from satisfice.clients.http import HttpTransport
from satisfice.clients.openai_compat import decode_answer
from satisfice.clients.usage import billed_usage, reported_usage
from satisfice.core import Price
from satisfice.errors import UpstreamUnavailable
from satisfice.gateway.apis.client_apis import ANTHROPIC_VERSION, MESSAGES, Api, ApiRequest, Events
from satisfice.gateway.apis.relay import Relay, primed
from satisfice.gateway.apis.translate_common import ChatStreamReader
from satisfice.gateway.wire.upstream import (
    CHAT,
    Answer,
    OpenStream,
    Upstream,
    call,
    checked_post,
    open_raw_stream,
    open_stream,
)
from satisfice.masking import shorten


def native_headers(upstream: Upstream, request: ApiRequest) -> Mapping[str, str]:
    """Headers for a pass-through call: Anthropic's key header and version for Messages, the client's betas."""
    headers = upstream.headers()
    if request.api.name != MESSAGES:
        return headers
    key = upstream.api_key()
    return {**headers, "anthropic-version": ANTHROPIC_VERSION, **request.forward,
            **({"x-api-key": key} if key else {})}


def native_body(payload: dict[str, Any], wire_model: str, *, stream: bool) -> bytes:
    """The client's body with the provider's model name (and ``stream`` set as asked)."""
    body = dict(payload)
    body["model"] = wire_model
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
    return orjson.dumps(body)


async def call_api(transport: HttpTransport, upstream: Upstream, model: str, request: ApiRequest, price: Price,
                   input_estimate: int) -> Answer:
    """One whole answer in the client's API (pass-through or translated); ProviderError when the call fails."""
    api = request.api
    if api.name in upstream.apis:
        started = time.perf_counter()
        body = await checked_post(transport, upstream, f"{upstream.base_url}/{api.name}",
                                  native_body(request.payload, upstream.wire_name(model), stream=False),
                                  native_headers(upstream, request))
        data = decode_answer(body, upstream.name, upstream.secrets())
        text = api.text_of(data)
        reported = reported_usage(api.chat_usage(data.get("usage")))
        usage, estimated, invalid = billed_usage(reported, input_estimate, text)
        request.served_api = api.name
        return Answer(model, upstream.name, body, data, text, usage, estimated, invalid,
                      price.cost(usage), time.perf_counter() - started)
    answer = await call(transport, upstream, model, CHAT, request.translated(), price, input_estimate)
    assert api.from_chat is not None  # an API without translation has request.translated() raise
    answer.data = api.from_chat(answer.data, request.payload)
    answer.body = orjson.dumps(answer.data)
    request.served_api = CHAT
    return answer


class TranslatedRelay(Relay):
    """Relays a chat-completions stream as the client API's events."""

    def __init__(self, stream: OpenStream, price: Price, input_estimate: int, api: Api, events: Events) -> None:
        super().__init__(stream, CHAT, price, True, input_estimate)
        self.api = api
        self.reader = ChatStreamReader()
        self.writer = events
        events.logprobs = self.reader.logprobs  # the writer reads text logprobs as the reader collects them

    def on_event(self, obj: dict[str, Any], event: bytes) -> bytes | None:
        """Track the chat chunk, then write it as the API's events."""
        super().on_event(obj, event)
        return b"".join([self.writer.op(op) for op in self.reader.read(obj)])

    def tail(self) -> bytes:
        """The API's closing events (stop reason, usage)."""
        return self.writer.end()

    def stream_error(self, message: str) -> bytes:
        """The API's error event."""
        return self.api.stream_error(message)


class NativeRelay(Relay):
    """Relays a stream of the client's own API untouched, reading its text, usage and end as it passes."""

    def __init__(self, stream: OpenStream, price: Price, input_estimate: int, api: Api) -> None:
        super().__init__(stream, api.name, price, True, input_estimate)
        self.api = api
        self.raw_usage: dict[str, Any] = {}

    def on_event(self, obj: dict[str, Any], event: bytes) -> bytes | None:
        """Track one native event and forward it as it came."""
        kind = obj.get("type")
        if kind in ("error", "response.failed"):
            detail = obj.get("message") or obj.get("response") or kind
            raise UpstreamUnavailable(f"{self.upstream.name}: error in stream: "
                                      f"{shorten(str(detail), 200, self.upstream.secrets(), one_line=True)}")
        for holder in (obj, obj.get("message"), obj.get("response")):
            raw = holder.get("usage") if isinstance(holder, dict) else None
            if isinstance(raw, dict):
                self.raw_usage.update({k: v for k, v in raw.items() if v is not None})
                self.usage = reported_usage(self.api.chat_usage(self.raw_usage))
        delta = obj.get("delta")
        if isinstance(delta, dict) and isinstance(delta.get("text"), str):
            self.text.append(delta["text"])
        elif kind == "response.output_text.delta" and isinstance(delta, str):
            self.text.append(delta)
        if kind in self.api.done_events:
            self.finished = True
        return event + b"\n\n"

    def tail(self) -> bytes:
        """Native streams end with their own last event."""
        return b""

    def stream_error(self, message: str) -> bytes:
        """The API's error event."""
        return self.api.stream_error(message)


async def open_api_relay(transport: HttpTransport, upstream: Upstream, model: str, request: ApiRequest,
                         price: Price, input_estimate: int) -> Relay:
    """Open the stream (pass-through or translated) and read its first event; ProviderError when that fails."""
    api = request.api
    relay: Relay
    if api.name in upstream.apis:
        stream = await open_raw_stream(transport, upstream, model, f"{upstream.base_url}/{api.name}",
                                       native_body(request.payload, upstream.wire_name(model), stream=True),
                                       native_headers(upstream, request))
        relay = NativeRelay(stream, price, input_estimate, api)
        request.served_api = api.name
    else:
        assert api.events is not None
        stream = await open_stream(transport, upstream, model, CHAT, request.translated())
        relay = TranslatedRelay(stream, price, input_estimate, api, api.events(request.payload))
        request.served_api = CHAT
    return await primed(relay)


__all__ = ["NativeRelay", "TranslatedRelay", "call_api", "native_body", "native_headers", "open_api_relay"]
