"""One client for every OpenAI-compatible endpoint (OpenAI, Together, Groq, vLLM, Ollama, llama.cpp, ...).

Turns a provider-neutral :class:`~satisfice.core.CompletionRequest` into a ``/chat/completions`` (messages) or
``/completions`` (prompt) call over the shared :class:`~satisfice.clients.http.HttpTransport`, and the answer
into a :class:`~satisfice.core.Completion` with the provider's token usage. Never streams and never retries:
retry policy belongs to the eval runner and the gateway.
"""

from __future__ import annotations

import os
import time
from typing import Any

import orjson

from satisfice.clients.http import HttpTransport, error_excerpt, error_for_status
from satisfice.clients.usage import parse_usage
from satisfice.core import Completion, CompletionRequest, ModelRef, Usage
from satisfice.errors import BadResponse, ConfigError, ProviderError
from satisfice.masking import remember


class OpenAICompatClient:
    """A :class:`~satisfice.core.ModelClient` for an OpenAI-compatible HTTP endpoint.

    Args:
        ref: The model; ``ref.base_url`` ends with ``/v1`` (e.g. ``http://127.0.0.1:8000/v1``) and
            ``ref.api_key_env`` names the environment variable holding the key (read at call time).
        transport: A shared transport (the caller closes it); by default the client owns one.
        timeout_s: Time allowed for one call.
        max_connections: Connections the owned transport may open to the endpoint (the caller's concurrency;
            default: the transport's own cap). Ignored with a shared transport.
    """

    def __init__(self, ref: ModelRef, *, transport: HttpTransport | None = None, timeout_s: float = 60.0,
                 max_connections: int | None = None) -> None:
        if not ref.base_url:
            raise ConfigError(f"model {ref.id!r} has no base_url: set the endpoint that serves it")
        base = ref.base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigError(f"model {ref.id!r}: base_url must start with http:// or https://, got {base!r}")
        self.ref = ref
        self._chat_url = base + "/chat/completions"
        self._completions_url = base + "/completions"
        self._owns_transport = transport is None
        if transport is None:
            transport = (HttpTransport(timeout_s=timeout_s) if max_connections is None
                         else HttpTransport(timeout_s=timeout_s, max_connections=max(1, max_connections)))
        self._transport = transport
        self._timeout_s = timeout_s
        self._headers: dict[str, str] = {}
        self._headers_key: str | None = None

    def _auth(self) -> tuple[dict[str, str], str | None]:
        env = self.ref.api_key_env
        if not env:
            return self._headers, None
        key = os.environ.get(env)
        if not key:
            raise ConfigError(f"environment variable {env} is not set (API key for model {self.ref.id!r})")
        if key != self._headers_key:
            remember(key)  # masked in every message from now on
            self._headers = {"Authorization": f"Bearer {key}"}
            self._headers_key = key
        return self._headers, key

    def payload(self, request: CompletionRequest) -> dict[str, Any]:
        """The JSON body sent for ``request`` (``extra`` keys are merged last; streaming is always off)."""
        payload: dict[str, Any] = {"model": self.ref.wire_name}
        if request.is_chat:
            if not request.messages:
                raise ConfigError(f"request for {self.ref.id!r} has neither messages nor a prompt")
            payload["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
        else:
            payload["prompt"] = request.prompt
        if request.max_tokens is not None:
            payload["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        if request.stop:
            payload["stop"] = list(request.stop)
        if request.extra:
            payload.update(request.extra)
            payload.pop("stream", None)
            payload.pop("stream_options", None)
        return payload

    async def complete(self, request: CompletionRequest) -> Completion:
        """Send one request and parse the answer.

        Raises:
            ConfigError: the API key variable is named but not set.
            RateLimited, Timeout, UpstreamUnavailable, BadResponse, ProviderError: see ``error_for_status``
                and :class:`~satisfice.clients.http.HttpTransport`.
        """
        headers, key = self._auth()
        url = self._chat_url if request.is_chat else self._completions_url
        body = request_body(self.payload(request), self.ref.wire_name, stream=False)
        started = time.perf_counter()
        try:
            raw = await self._transport.post(url, body, headers, timeout_s=self._timeout_s)
        except ProviderError as exc:
            exc.args = (f"{self.ref.id}: {exc}",)  # name the model; the transport only knows the URL
            raise
        latency = time.perf_counter() - started
        secrets = (key,) if key else ()
        error = error_for_status(raw.status, raw.headers, raw.body, where=self.ref.id, secrets=secrets)
        if error is not None:
            raise error
        return parse_completion(raw.body, model=self.ref, latency_s=latency, secrets=secrets)

    async def aclose(self) -> None:
        """Close the transport if this client created it."""
        if self._owns_transport:
            await self._transport.close()


def request_body(payload: dict[str, Any], wire_model: str, *, stream: bool) -> bytes:
    """The JSON sent to the provider: ``payload`` with the provider's model name and the stream settings.

    Streaming asks for the usage chunk (``stream_options.include_usage``); otherwise both stream keys go.
    """
    body = dict(payload)
    body["model"] = wire_model
    if stream:
        body["stream"] = True
        options = body.get("stream_options")
        body["stream_options"] = {**options, "include_usage": True} if isinstance(options, dict) else {
            "include_usage": True}
    else:
        body.pop("stream", None)
        body.pop("stream_options", None)
    return orjson.dumps(body)


def decode_answer(body: bytes, where: str, secrets: tuple[str, ...] = (), what: str = "answer") -> dict[str, Any]:
    """The decoded JSON object of an answer (or of one stream event: ``what``); BadResponse when it is not one.

    The error carries a masked excerpt of what came back.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadResponse(f"{where}: {what} is not valid JSON: {error_excerpt(body, secrets=secrets)!r}") from None
    if not isinstance(data, dict):
        raise BadResponse(f"{where}: {what} is not a JSON object")
    return data


def parse_completion(body: bytes, *, model: ModelRef, latency_s: float = 0.0,
                     secrets: tuple[str, ...] = ()) -> Completion:
    """A :class:`~satisfice.core.Completion` from the bytes of an OpenAI chat or text completion answer.

    Raises:
        BadResponse: invalid JSON, no choices, no text, or missing/invalid usage.
    """
    return completion_from_json(decode_answer(body, model.id, secrets), model=model, latency_s=latency_s)


def completion_from_json(data: Any, *, model: ModelRef, latency_s: float = 0.0,
                         cost_usd: float | None = None) -> Completion:
    """A :class:`~satisfice.core.Completion` from a decoded OpenAI chat or text completion answer.

    Text is ``choices[0].message.content`` (chat; ``null`` content reads as the refusal or ``""``) or
    ``choices[0].text``; usage is ``usage.prompt_tokens`` / ``completion_tokens`` /
    ``prompt_tokens_details.cached_tokens``.

    Raises:
        BadResponse: not an object, no choices, no text, or missing/invalid usage.
    """
    where = model.id
    text = answer_text(data, where)
    choice = data["choices"][0]
    finish = choice.get("finish_reason")
    return Completion(
        text=text,
        usage=_parse_usage(data.get("usage"), where),
        model=data["model"] if isinstance(data.get("model"), str) else model.wire_name,
        finish_reason=finish if isinstance(finish, str) else None,
        latency_s=latency_s,
        cost_usd=cost_usd,
        raw=data,
    )


def answer_text(data: Any, where: str) -> str:
    """The text of the first choice of an OpenAI chat or text completion answer (decoded JSON).

    Chat: ``choices[0].message.content``; a ``null`` content (only a refusal or tool calls, or a reasoning model
    out of tokens) reads as the refusal or ``""``. Text completion: ``choices[0].text``.

    Raises:
        BadResponse: not an object, no choices, or no text.
    """
    if not isinstance(data, dict):
        raise BadResponse(f"{where}: answer is not a JSON object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise BadResponse(f"{where}: answer has no choices")
    choice = choices[0]
    message = choice.get("message")
    if isinstance(message, dict):
        content = message.get("content")
        if content is None:
            refusal = message.get("refusal")
            content = refusal if isinstance(refusal, str) else ""
    else:
        content = choice.get("text")
    if not isinstance(content, str):
        raise BadResponse(f"{where}: answer has no text in choices[0]")
    return content


def _parse_usage(usage: Any, where: str) -> Usage:
    parsed = parse_usage(usage)
    if not parsed.valid:
        raise BadResponse(f"{where}: {parsed.invalid_reason}")
    return parsed


__all__ = [
    "OpenAICompatClient",
    "answer_text",
    "completion_from_json",
    "decode_answer",
    "parse_completion",
    "request_body",
]
