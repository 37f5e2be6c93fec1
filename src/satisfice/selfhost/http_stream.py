"""One streamed request to an OpenAI-compatible server, timed token by token (the bench's HTTP streamer).

Sends ``POST {base_url}/completions`` (or ``/chat/completions``) with ``stream: true`` and
``stream_options.include_usage`` through the project's :class:`~satisfice.clients.http.HttpTransport`, reads the
server-sent events as they arrive and notes the time of every chunk that carries text. Token counts come from the
usage event (vLLM, SGLang, llama.cpp, TGI and Ollama send it when asked); without one, the output is counted as
text chunks and the sample says so. ``ignore_eos`` asks servers that support it (vLLM, SGLang, llama.cpp) to
generate exactly ``max_tokens``, so every request does the same work.
"""

from __future__ import annotations

import os
import time
from typing import Any

import orjson

from satisfice import errors
from satisfice.clients.http import HttpTransport, error_for_status
from satisfice.clients.sse import DONE_DATA, SSEParser, decode_event, event_data, read_chunk
from satisfice.errors import BadResponse, ConfigError, ProviderError
from satisfice.selfhost.driver import make_prompt
from satisfice.selfhost.economics import RequestSample


def error_kind(exc: BaseException) -> str:
    """``http_429``, ``timeout``, ``upstream_unavailable``, ... for a failed request."""
    status = getattr(exc, "status", None)
    return f"http_{status}" if isinstance(status, int) else errors.error_kind(exc)


class _Reader:
    """Parses the SSE body of one answer, chunk by chunk, noting when text arrived."""

    __slots__ = ("done", "end", "error", "first", "gaps", "input_tokens", "last", "output_tokens", "parser", "start",
                 "texts", "cached")

    def __init__(self) -> None:
        self.start = self.end = 0.0
        self.parser = SSEParser()
        self.first: float | None = None
        self.last = 0.0
        self.gaps: list[float] = []
        self.texts = 0
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cached = 0
        self.done = False
        self.error: str | None = None

    def feed(self, chunk: bytes, now: float) -> None:
        texts = 0
        for event in self.parser.feed(chunk):
            payload = event_data(event)
            if payload is not None:
                texts += self._event(payload)
        if texts:
            if self.first is None:
                self.first = now
                if texts > 1:
                    self.gaps.extend([0.0] * (texts - 1))
            else:
                share = (now - self.last) / texts
                self.gaps.extend([share] * texts)
            self.last = now
            self.texts += texts

    def _event(self, payload: bytes) -> int:
        if payload == DONE_DATA:
            self.done = True
            return 0
        try:
            data = decode_event(payload, "stream")
        except BadResponse:
            self.error = "bad_event"
            return 0
        if "error" in data:
            self.error = "stream_error"
            return 0
        text, reasoning, usage, _, _ = read_chunk(data)
        if usage is not None:  # vLLM sends "usage": null on every chunk but the last
            if not usage.valid:
                self.error = "invalid_usage"
                return 0
            self.input_tokens, self.output_tokens = usage.input_tokens, usage.output_tokens
            self.cached = usage.cached_input_tokens
        return 1 if text or reasoning else 0


class HttpStreamer:
    """A :class:`~satisfice.selfhost.driver.Streamer` for a model served over OpenAI-compatible HTTP.

    Args:
        base_url: The server's OpenAI base URL, ending in ``/v1``.
        model: The model name the server serves (sent as ``model``).
        prompt_tokens: About how many tokens each prompt has.
        output_tokens: ``max_tokens`` of each request.
        chat: Use ``/chat/completions`` (one user message) instead of ``/completions``.
        api_key_env: Name of the environment variable holding the server's key, if it needs one.
        ignore_eos: Send ``ignore_eos: true`` so the server generates exactly ``output_tokens``.
        transport: The HTTP transport (the caller closes it).
        timeout_s: Longest wait for the answer's headers and between chunks.
    """

    def __init__(self, base_url: str, model: str, *, prompt_tokens: int, output_tokens: int, chat: bool = False,
                 api_key_env: str | None = None, ignore_eos: bool = True, transport: HttpTransport,
                 timeout_s: float = 300.0) -> None:
        base = base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigError(f"--base-url must start with http:// or https://, got {base_url!r}")
        if output_tokens < 1:
            raise ConfigError(f"--output-tokens must be >= 1, got {output_tokens}")
        self.url = base + ("/chat/completions" if chat else "/completions")
        self.model = model
        self.chat = chat
        self.prompt_tokens = prompt_tokens
        self.output_tokens = output_tokens
        self.ignore_eos = ignore_eos
        self.transport = transport
        self.timeout_s = timeout_s
        self.headers: dict[str, str] = {"Accept": "text/event-stream"}
        self._secrets: tuple[str, ...] = ()
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise ConfigError(f"environment variable {api_key_env} is not set (API key for {base})")
            self.headers["Authorization"] = f"Bearer {key}"
            self._secrets = (key,)

    def body(self, index: int) -> bytes:
        """The JSON body of request number ``index``."""
        prompt = make_prompt(index, self.prompt_tokens)
        payload: dict[str, Any] = {"model": self.model, "max_tokens": self.output_tokens, "temperature": 0.0,
                                   "stream": True, "stream_options": {"include_usage": True}}
        if self.chat:
            payload["messages"] = [{"role": "user", "content": prompt}]
        else:
            payload["prompt"] = prompt
        if self.ignore_eos:
            payload["ignore_eos"] = True
        return orjson.dumps(payload)

    async def __call__(self, index: int) -> RequestSample:
        """Send request ``index`` and time its stream; failures become a sample with ``error`` set.

        A pooled connection the server closed after its last answer (llama.cpp's server does so after every
        stream despite ``Keep-Alive``) fails before any answer arrives; that request is sent once more on a
        fresh connection and timed from there.
        """
        body = self.body(index)
        for attempt in (1, 2):
            reader = _Reader()
            sample = await self._send(body, reader)
            if sample is None or attempt == 2 or sample.error != "upstream_unavailable" or reader.first is not None:
                break
        return sample if sample is not None else self._finish(reader)

    async def _send(self, body: bytes, reader: _Reader) -> RequestSample | None:
        """Stream one answer into ``reader``; a sample only when the request failed."""
        clock = time.perf_counter
        reader.start = clock()
        try:
            async with self.transport.stream(self.url, body, self.headers, timeout_s=self.timeout_s) as resp:
                if resp.status != 200:
                    raw = await resp.read()
                    error = error_for_status(resp.status, resp.headers, raw, where=self.model, secrets=self._secrets)
                    kind = error_kind(error) if error else f"http_{resp.status}"
                    return RequestSample(reader.start, clock(), error=kind)
                async for chunk in resp.iter_chunks():
                    reader.feed(chunk, clock())
        except ProviderError as exc:
            return RequestSample(reader.start, clock(), error=error_kind(exc))
        reader.end = clock()
        return None

    @staticmethod
    def _finish(reader: _Reader) -> RequestSample:
        start, end = reader.start, reader.end
        if reader.error is not None or not reader.done:
            return RequestSample(start, end, error=reader.error or "truncated")
        output = reader.output_tokens
        return RequestSample(start, end, first_token=reader.first, input_tokens=reader.input_tokens or 0,
                             output_tokens=output if output is not None else reader.texts, gaps=tuple(reader.gaps),
                             usage_reported=output is not None, cached_input_tokens=reader.cached)


__all__ = ["HttpStreamer", "error_kind"]
