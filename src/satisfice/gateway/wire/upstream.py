"""Upstreams: one OpenAI-compatible endpoint each, its circuit breaker, and the calls the gateway makes to it.

Every call goes through the shared :class:`~satisfice.clients.http.HttpTransport`. Provider API keys are read
from the environment variable the config names, at call time, remembered for masking, and masked out of every
error message (:mod:`satisfice.masking`) before anything shortens it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from satisfice.clients.http import HttpTransport, StreamResponse, error_for_status
from satisfice.clients.openai_compat import answer_text, decode_answer, request_body
from satisfice.clients.usage import billed_usage, reported_usage
from satisfice.core import Price, Usage
from satisfice.errors import ProviderError
from satisfice.masking import mask, remember

CHAT = "chat"
COMPLETIONS = "completions"


class Breaker:
    """Circuit breaker: after ``threshold`` consecutive failures the upstream is skipped for ``cooldown_s``.

    A 429 with ``Retry-After`` also skips the upstream until then. After the cooldown one request is let
    through (half-open): a success closes the breaker, a failure opens it again at once.
    """

    __slots__ = ("cooldown_s", "failures", "open_until", "threshold")

    def __init__(self, threshold: int, cooldown_s: float) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.failures = 0
        self.open_until = 0.0

    def allows(self, now: float) -> bool:
        """Whether a request may go to this upstream now."""
        return now >= self.open_until

    def success(self) -> None:
        """Record a success (closes the breaker)."""
        self.failures = 0

    def failure(self, now: float, retry_after: float | None = None) -> None:
        """Record a failure; opens the breaker when failures reach the threshold (or on Retry-After)."""
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_until = max(self.open_until, now + self.cooldown_s)
        if retry_after is not None and retry_after > 0:
            self.open_until = max(self.open_until, now + retry_after)


@dataclass(eq=False)
class Upstream:
    """An OpenAI-compatible endpoint."""

    name: str
    base_url: str
    api_key_env: str | None
    timeout_s: float
    provider_models: dict[str, str | None]
    breaker: Breaker
    """The settings every (upstream, model) breaker copies; see :meth:`breaker_for`."""
    apis: frozenset[str] = frozenset((CHAT, COMPLETIONS))
    """The client APIs this upstream serves natively (others reach it translated to chat completions)."""
    urls: dict[str, str] = field(init=False, repr=False)
    breakers: dict[str, Breaker] = field(default_factory=dict, repr=False)
    _headers: dict[str, str] = field(default_factory=dict, repr=False)
    _key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.urls = {CHAT: f"{self.base_url}/chat/completions", COMPLETIONS: f"{self.base_url}/completions"}

    def breaker_for(self, model: str) -> Breaker:
        """The circuit breaker of this upstream for ``model``: one misbehaving model cools down only itself."""
        breaker = self.breakers.get(model)
        if breaker is None:
            breaker = self.breakers[model] = Breaker(self.breaker.threshold, self.breaker.cooldown_s)
        return breaker

    def wire_name(self, model: str) -> str:
        """The provider's own name for ``model``."""
        return self.provider_models.get(model) or model

    def api_key(self) -> str | None:
        """The provider key from the environment (read per call, so a rotated key is picked up)."""
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key is not None and key != self._key:
            remember(key)
        return key

    def headers(self) -> Mapping[str, str]:
        """Request headers with the provider key; rebuilt only when the key in the environment changes."""
        key = self.api_key()
        if key != self._key or not self._headers:
            self._key = key
            self._headers = {"Content-Type": "application/json"}
            if key:
                self._headers["Authorization"] = f"Bearer {key}"
        return self._headers

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a message."""
        key = self.api_key()
        return (key,) if key else ()


@dataclass(slots=True)
class Answer:
    """A successful upstream answer, parsed just enough to verify, price and relay it."""

    model: str
    upstream: str
    body: bytes
    data: dict[str, Any]
    text: str
    usage: Usage
    estimated: bool
    """The tokens billed are the gateway's estimate (no usage, or a usage that failed the checks)."""
    usage_invalid: bool
    """The upstream reported a usage that failed the checks."""
    cost: float
    latency_s: float


def usage_of(data: Mapping[str, Any]) -> Usage | None:
    """The ``usage`` of an answer or stream event, read by the shared parser; None where there is none."""
    return reported_usage(data.get("usage"))


def upstream_body(payload: dict[str, Any], wire_model: str, *, stream: bool) -> bytes:
    """The request sent upstream: the client's body with the provider's model name (and stream settings)."""
    return request_body(payload, wire_model, stream=stream)


async def call(transport: HttpTransport, upstream: Upstream, model: str, endpoint: str,
               payload: dict[str, Any], price: Price, input_estimate: int) -> Answer:
    """One non-streaming call; raises ProviderError (with the key masked) when it fails."""
    started = time.perf_counter()
    body = await checked_post(transport, upstream, upstream.urls[endpoint],
                              upstream_body(payload, upstream.wire_name(model), stream=False), upstream.headers())
    data = decode_answer(body, upstream.name, upstream.secrets())
    text = answer_text(data, upstream.name)
    usage, estimated, invalid = billed_usage(usage_of(data), input_estimate, text)
    return Answer(model, upstream.name, body, data, text, usage, estimated, invalid,
                  price.cost(usage), time.perf_counter() - started)


async def checked_post(transport: HttpTransport, upstream: Upstream, url: str, body: bytes,
                       headers: Mapping[str, str]) -> bytes:
    """POST to the upstream; the answer's body, or ProviderError (key masked) on a failure or an error status."""
    raw = await transport.post(url, body, headers, timeout_s=upstream.timeout_s)
    if raw.status >= 300:
        err = error_for_status(raw.status, raw.headers, raw.body, where=upstream.name, secrets=upstream.secrets())
        raise err or ProviderError(f"{upstream.name}: HTTP {raw.status}", status=raw.status)
    return raw.body


class OpenStream:
    """An upstream stream that has answered 200; entered by :func:`open_stream`, closed by :meth:`close`."""

    __slots__ = ("context", "model", "response", "upstream")

    def __init__(self, upstream: Upstream, model: str, context: AbstractAsyncContextManager[StreamResponse],
                 response: StreamResponse) -> None:
        self.upstream = upstream
        self.model = model
        self.context = context
        self.response = response

    async def close(self, exc: BaseException | None = None) -> None:
        """Release the upstream connection."""
        await self.context.__aexit__(type(exc) if exc else None, exc, None)


async def open_stream(transport: HttpTransport, upstream: Upstream, model: str, endpoint: str,
                      payload: dict[str, Any]) -> OpenStream:
    """Open a streaming call and check its status; raises ProviderError before any byte reaches the client."""
    return await open_raw_stream(transport, upstream, model, upstream.urls[endpoint],
                                 upstream_body(payload, upstream.wire_name(model), stream=True), upstream.headers())


async def open_raw_stream(transport: HttpTransport, upstream: Upstream, model: str, url: str, body: bytes,
                          headers: Mapping[str, str]) -> OpenStream:
    """Open a stream of a prepared ``body`` at ``url`` and check its status (ProviderError when it failed)."""
    context = transport.stream(url, body, headers, timeout_s=upstream.timeout_s)
    response = await context.__aenter__()
    if response.status >= 300:
        try:
            body = await response.read()
        except ProviderError:
            body = b""
        finally:
            await context.__aexit__(None, None, None)
        err = error_for_status(response.status, response.headers, body, where=upstream.name,
                               secrets=upstream.secrets())
        raise err or ProviderError(f"{upstream.name}: HTTP {response.status}", status=response.status)
    return OpenStream(upstream, model, context, response)


def describe(exc: BaseException, upstream: Upstream | None = None) -> str:
    """One line about a failure, with provider keys masked."""
    text = str(exc) or type(exc).__name__
    if upstream is not None and not text.startswith(f"{upstream.name}:"):
        text = f"{upstream.name}: {text}"
    return mask(text, upstream.secrets() if upstream is not None else ())


__all__ = [
    "CHAT",
    "COMPLETIONS",
    "Answer",
    "Breaker",
    "OpenStream",
    "Upstream",
    "call",
    "checked_post",
    "describe",
    "open_raw_stream",
    "open_stream",
    "upstream_body",
    "usage_of",
]
