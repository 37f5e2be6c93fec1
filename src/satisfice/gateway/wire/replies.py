"""What the gateway sends back besides relayed answers: OpenAI-shaped errors and synthesized SSE streams.

Errors always have the shape ``{"error": {"message", "type", "param", "code"}}``; inside a stream that has
already started they are one ``data: {"error": {...}}`` event, after which the stream ends.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.responses import Response

from satisfice.gateway.wire.upstream import CHAT
from satisfice.masking import shorten


class GatewayError(Exception):
    """A request the gateway answers with an error (status, OpenAI error type and code, optional headers)."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}
        self.reason = reason or code or type
        """Label for the rejection metric."""

    def payload(self) -> dict[str, Any]:
        """The OpenAI error object."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> Response:
        """The HTTP response for this error."""
        return Response(orjson.dumps(self.payload()), status_code=self.status, headers=self.headers,
                        media_type="application/json")


ECHO_CHARS = 200
"""Longest piece of a client's own input repeated in an error message."""


def echo(value: object, *, quote: bool = True) -> str:
    """A client-supplied value for an error message: masked, then cut to :data:`ECHO_CHARS` characters."""
    text = shorten(value if isinstance(value, str) else repr(value), ECHO_CHARS, one_line=True)
    return repr(text) if quote else text


def error_response(status: int, message: str, *, type: str = "invalid_request_error", code: str | None = None,
                   param: str | None = None) -> Response:
    """An OpenAI-shaped error response."""
    return GatewayError(status, message, type=type, code=code, param=param).response()


def sse_error(message: str, *, type: str = "upstream_error", code: str = "stream_interrupted") -> bytes:
    """One SSE event carrying an error (what ends a stream that failed after bytes were sent)."""
    return b"data: " + orjson.dumps({"error": {"message": message, "type": type, "param": None,
                                               "code": code}}) + b"\n\n"


DONE = b"data: [DONE]\n\n"


def synthesize_stream(data: dict[str, Any], endpoint: str, *, include_usage: bool) -> bytes:
    """A complete SSE stream (chunks, usage if asked, ``[DONE]``) equivalent to a non-streamed answer."""
    base: dict[str, Any] = {"id": data.get("id") or "chatcmpl-satisfice", "created": data.get("created")
                            or int(time.time()), "model": data.get("model") or ""}
    base["object"] = "chat.completion.chunk" if endpoint == CHAT else "text_completion"
    out: list[bytes] = []
    choices = data.get("choices") or []
    for fallback_index, choice in enumerate(choices):
        if not isinstance(choice, dict):
            continue
        index = choice.get("index", fallback_index)
        if endpoint == CHAT:
            message = choice.get("message") or {}
            delta: dict[str, Any] = {"role": message.get("role") or "assistant", "content": message.get("content")}
            tool_calls = message.get("tool_calls")
            if isinstance(tool_calls, list):
                delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(tool_calls)
                                       if isinstance(call, dict)]
            first = {"index": index, "delta": delta, "logprobs": choice.get("logprobs"), "finish_reason": None}
            last: dict[str, Any] = {"index": index, "delta": {}, "finish_reason": choice.get("finish_reason")}
        else:
            first = {"index": index, "text": choice.get("text") or "", "finish_reason": None, "logprobs": None}
            last = {"index": index, "text": "", "finish_reason": choice.get("finish_reason"), "logprobs": None}
        out.append(b"data: " + orjson.dumps({**base, "choices": [first]}) + b"\n\n")
        out.append(b"data: " + orjson.dumps({**base, "choices": [last]}) + b"\n\n")
    if include_usage and isinstance(data.get("usage"), dict):
        out.append(b"data: " + orjson.dumps({**base, "choices": [], "usage": data["usage"]}) + b"\n\n")
    out.append(DONE)
    return b"".join(out)


__all__ = ["DONE", "ECHO_CHARS", "GatewayError", "echo", "error_response", "sse_error", "synthesize_stream"]
