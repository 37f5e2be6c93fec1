"""Checking a client's request body before anything is spent: JSON, required fields and their types.

Deliberately a few ``isinstance`` checks rather than a full model of OpenAI's API: unknown fields pass through
to the upstream untouched, and the checks cost microseconds on the hot path. One walk over the parsed body
bounds its shape (nesting depth, number of values) so that nothing later (re-encoding it for the upstream,
verifiers, the spend log) meets a body it cannot handle; the 400 names the field where the limit was passed.
"""

from __future__ import annotations

from typing import Any

import orjson

from satisfice.gateway.wire.replies import GatewayError, echo
from satisfice.gateway.wire.upstream import CHAT

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a body (JSON schemas in tools stay far below)."""
MAX_VALUES = 200_000
"""Most values (strings, numbers, arrays, objects, ...) in one body."""
MAX_MODEL_CHARS = 256


def _path(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return echo(out, quote=False)


def check_shape(payload: dict[str, Any]) -> None:
    """GatewayError(400) when the body nests deeper than MAX_DEPTH or holds more than MAX_VALUES values."""
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(payload, 1, ())]
    count = 0
    while stack:
        value, depth, where = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            count += 1
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    path = _path([*where, key])
                    raise _bad(f"'{path}' is nested more than {MAX_DEPTH} levels deep", path, "nesting_too_deep")
                stack.append((child, depth + 1, (*where, key)))
        if count > MAX_VALUES:
            path = _path(list(where)) or "body"
            raise _bad(f"the request body holds more than {MAX_VALUES} values (at '{path}')", path, "too_many_values")


def _bad(message: str, param: str | None = None, code: str = "invalid_type") -> GatewayError:
    return GatewayError(400, message, param=param, code=code, reason="invalid_request")


def _int_or_none(payload: dict[str, Any], name: str, low: int) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if type(value) is not int or value < low:
        raise _bad(f"'{name}' must be an integer >= {low}", name)
    return value


def parse_payload(body: bytes, endpoint: str) -> dict[str, Any]:
    """The request body as a dict, or GatewayError(400) naming the parameter at fault."""
    payload = parse_body(body)
    check_chat(payload, endpoint)
    return payload


def load_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or GatewayError(400): not JSON, not an object, or nested too deep for orjson."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc) or "ecursion" in str(exc):
            raise _bad(f"the request body is nested more than {MAX_DEPTH} levels deep", "body",
                       "nesting_too_deep") from None
        raise _bad("the request body is not valid JSON", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise _bad("the request body must be a JSON object", code="invalid_json")
    return payload


def parse_body(body: bytes) -> dict[str, Any]:
    """A JSON object with a string ``model`` and a bounded shape (any API), or GatewayError(400)."""
    payload = load_object(body)
    model = payload.get("model")
    if model is None:
        raise _bad("missing required parameter: 'model'", "model", "missing_required_parameter")
    if not isinstance(model, str) or not model:
        raise _bad("'model' must be a non-empty string", "model")
    if len(model) > MAX_MODEL_CHARS:
        raise _bad(f"'model' is longer than {MAX_MODEL_CHARS} characters: {echo(model)}", "model", "string_too_long")
    if len(body) > MAX_VALUES or body.count(b"[") + body.count(b"{") > MAX_DEPTH:
        check_shape(payload)  # smaller bodies with fewer brackets cannot pass either limit
    return payload


def check_chat(payload: dict[str, Any], endpoint: str) -> None:
    """GatewayError(400) naming the parameter at fault in a chat or text completions request."""
    if endpoint == CHAT:
        messages = payload.get("messages")
        if messages is None:
            raise _bad("missing required parameter: 'messages'", "messages", "missing_required_parameter")
        if not isinstance(messages, list) or not messages:
            raise _bad("'messages' must be a non-empty array", "messages")
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                raise _bad(f"'messages[{i}]' must be an object with a string 'role'", f"messages[{i}]")
            content = message.get("content")
            if content is not None and not isinstance(content, str | list):
                raise _bad(f"'messages[{i}].content' must be a string or an array", f"messages[{i}].content")
    else:
        prompt = payload.get("prompt")
        if prompt is None:
            raise _bad("missing required parameter: 'prompt'", "prompt", "missing_required_parameter")
        if not isinstance(prompt, str | list) or (isinstance(prompt, list) and not prompt):
            raise _bad("'prompt' must be a string or a non-empty array", "prompt")
    stream = payload.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad("'stream' must be a boolean", "stream")
    options = payload.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise _bad("'stream_options' must be an object", "stream_options")
    _int_or_none(payload, "max_tokens", 0)
    _int_or_none(payload, "max_completion_tokens", 0)
    _int_or_none(payload, "n", 1)
    temperature = payload.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, int | float)):
        raise _bad("'temperature' must be a number", "temperature")


def input_estimate(body: bytes) -> int:
    """A high estimate of prompt tokens for budget reservations: body bytes / 3 (+8), with no tokenizer.

    English runs ~4 characters per token and the JSON around the text only adds bytes, so this over-reserves
    for ordinary text; the reservation is settled to the real usage when the answer arrives.
    """
    return len(body) // 3 + 8


def output_cap(payload: dict[str, Any], default: int) -> int:
    """Most output tokens this request may produce (``max_tokens`` x ``n``, or the configured default)."""
    cap = payload.get("max_completion_tokens")
    if cap is None:
        cap = payload.get("max_tokens")
    n = payload.get("n") or 1
    return (cap if cap is not None else default) * n


__all__ = ["MAX_DEPTH", "MAX_VALUES", "check_chat", "check_shape", "input_estimate", "load_object", "output_cap",
           "parse_body", "parse_payload"]
