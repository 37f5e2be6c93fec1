"""What the scripted server says: script steps, and the OpenAI-shaped bodies and stream events they become.

Pure values and functions (no I/O); :mod:`satisfice.clients.scripted_server` serves them over HTTP.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

StepKind = Literal["answer", "error", "malformed", "truncated", "reset"]
_WORDS = re.compile(r"\s*\S+\s*|\s+")


@dataclass(frozen=True, slots=True)
class Step:
    """What the server does with one completion request; build with the class methods."""

    kind: StepKind
    text: str = ""
    status: int = 200
    message: str = ""
    retry_after: float | str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    finish_reason: str = "stop"
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    cut_after: int | None = None
    body: bytes = b""

    @classmethod
    def answer(cls, text: str, *, prompt_tokens: int | None = None, completion_tokens: int | None = None,
               cached_tokens: int | None = None, finish_reason: str = "stop", delay_s: float = 0.0,
               chunk_delay_s: float = 0.0) -> Step:
        """A normal answer; token counts default to whitespace-separated word counts."""
        return cls("answer", text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                   cached_tokens=cached_tokens, finish_reason=finish_reason, delay_s=delay_s,
                   chunk_delay_s=chunk_delay_s)

    @classmethod
    def error(cls, status: int, message: str = "scripted error", *, retry_after: float | str | None = None) -> Step:
        """An HTTP error with an OpenAI-shaped JSON body; ``retry_after`` as seconds or an HTTP-date string."""
        return cls("error", status=status, message=message, retry_after=retry_after)

    @classmethod
    def rate_limit(cls, retry_after: float | str | None = 1.0, message: str = "rate limit reached") -> Step:
        """HTTP 429 with ``Retry-After``."""
        return cls.error(429, message, retry_after=retry_after)

    @classmethod
    def delay(cls, seconds: float, then: Step | str = "ok") -> Step:
        """Wait ``seconds`` before doing ``then`` (to provoke client timeouts)."""
        step = then if isinstance(then, Step) else cls.answer(then)
        return dataclasses.replace(step, delay_s=seconds)

    @classmethod
    def malformed(cls, body: bytes = b'{"id": "broken", "choices": [{"message": ') -> Step:
        """HTTP 200 whose body is not valid JSON."""
        return cls("malformed", body=body)

    @classmethod
    def truncated(cls, text: str = "truncated answer") -> Step:
        """HTTP 200 announcing a longer Content-Length than it sends, then the connection closes."""
        return cls("truncated", text=text)

    @classmethod
    def reset(cls) -> Step:
        """The connection is reset (TCP RST) after the request was read, before any answer."""
        return cls("reset")

    @classmethod
    def reset_after(cls, events: int, text: str = "one two three four five six seven eight") -> Step:
        """Streams: close the connection after ``events`` SSE events (no ``[DONE]``); otherwise as truncated."""
        return cls("answer", text=text, cut_after=events)


@dataclass(frozen=True, slots=True)
class Received:
    """One completion request as the server saw it."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(repr=False)


Script = Sequence[Step | str] | Callable[[Received], Step | str]
"""Steps in order (a ``str`` is an answer), or a callable choosing the step for each request."""


def count_tokens(text: str) -> int:
    """The scripted server's token count: whitespace-separated words."""
    return len(text.split())


def prompt_text(body: dict[str, Any]) -> str:
    """The text a request sends: message contents (text parts too) or the prompt, joined by spaces."""
    messages = body.get("messages")
    if isinstance(messages, list):
        parts = []
        for m in messages:
            content = m.get("content") if isinstance(m, dict) else None
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):  # content parts: count the text ones
                parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
        return " ".join(parts)
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        return " ".join(p for p in prompt if isinstance(p, str))
    return prompt if isinstance(prompt, str) else ""


def usage(step: Step, body: dict[str, Any]) -> dict[str, Any]:
    """OpenAI ``usage`` for ``step``: its given counts, else word counts of the request and the answer."""
    prompt = step.prompt_tokens if step.prompt_tokens is not None else count_tokens(prompt_text(body))
    completion = step.completion_tokens if step.completion_tokens is not None else count_tokens(step.text)
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": prompt + completion}
    if step.cached_tokens is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": step.cached_tokens}
    return usage


def completion_bytes(step: Step, body: dict[str, Any], chat: bool, n: int) -> bytes:
    """The JSON body of a non-streamed chat or text completion answering with ``step``."""
    if chat:
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": step.text},
                                  "finish_reason": step.finish_reason}
    else:
        choice = {"index": 0, "text": step.text, "finish_reason": step.finish_reason}
    return orjson.dumps({
        "id": f"{'chatcmpl' if chat else 'cmpl'}-scripted-{n}",
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [choice],
        "usage": usage(step, body),
    })


def error_type(status: int) -> str:
    """OpenAI's ``error.type`` for an HTTP status."""
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def retry_after_value(value: float | str) -> str:
    """A ``Retry-After`` header value: seconds as given, or the string (an HTTP-date) unchanged."""
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def stream_events(step: Step, body: dict[str, Any], chat: bool, n: int) -> list[dict[str, Any]]:
    """The SSE events (before ``[DONE]``) streaming ``step``'s answer: role, one per word, finish, usage."""
    base = {"id": f"{'chatcmpl' if chat else 'cmpl'}-scripted-{n}",
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": int(time.time()), "model": body.get("model", "scripted")}
    events: list[dict[str, Any]] = []
    if chat:
        events.append({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                            "finish_reason": None}]})
    for piece in _WORDS.findall(step.text):
        choice = {"index": 0, "delta": {"content": piece}} if chat else {"index": 0, "text": piece}
        events.append({**base, "choices": [{**choice, "finish_reason": None}]})
    last = {"index": 0, "delta": {}} if chat else {"index": 0, "text": ""}
    events.append({**base, "choices": [{**last, "finish_reason": step.finish_reason}]})
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        events.append({**base, "choices": [], "usage": usage(step, body)})
    return events


__all__ = ["Received", "Script", "Step", "StepKind", "completion_bytes", "count_tokens", "error_type",
           "prompt_text", "retry_after_value", "stream_events", "usage"]
