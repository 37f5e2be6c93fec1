"""What the Messages and Responses translators share: field checks, usage mapping and the chat-stream reader.

Pure functions and small state machines, no I/O. A field that cannot be expressed in chat completions is a
:class:`~satisfice.gateway.wire.replies.GatewayError` (400) naming it, never silently dropped.
:class:`ChatStreamReader` turns the chunks of a chat-completions stream into a few neutral operations (text,
tool call started, tool arguments, finish, usage) that each API's event writer turns into its own events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from satisfice.gateway.wire.replies import GatewayError, echo


def untranslatable(param: str, why: str) -> GatewayError:
    """The 400 for a field the gateway cannot express in chat completions."""
    return GatewayError(400, f"'{echo(param, quote=False)}' cannot be translated to chat completions: {why}",
                        param=param, code="untranslatable_field", reason="invalid_request")


def bad(param: str, message: str, code: str = "invalid_type") -> GatewayError:
    """A 400 naming the field at fault."""
    return GatewayError(400, message, param=param, code=code, reason="invalid_request")


def check_fields(payload: dict[str, Any], known: Iterable[str]) -> None:
    """400 naming the first top-level field that is not in ``known`` (translation never drops one silently)."""
    allowed = set(known)
    for name in payload:
        if name not in allowed:
            raise untranslatable(name, "no chat-completions equivalent (send it to an upstream that declares "
                                 "this API in its 'apis' list)")


def text_of_blocks(blocks: Any, param: str, text_types: tuple[str, ...]) -> str:
    """The text of a string or a list of text blocks (400 naming the block that is not text)."""
    if isinstance(blocks, str):
        return blocks
    if not isinstance(blocks, list):
        raise bad(param, f"'{param}' must be a string or an array of text blocks")
    parts = []
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or block.get("type") not in text_types or not isinstance(block.get("text"),
                                                                                                 str):
            raise untranslatable(f"{param}[{i}]", "only text blocks can be translated here")
        parts.append(block["text"])
    return "\n".join(parts) if len(parts) > 1 else "".join(parts)


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is an object, else an empty one (reading untrusted JSON without type checks)."""
    return value if isinstance(value, dict) else {}


def objs(value: Any) -> list[dict[str, Any]]:
    """The objects in ``value`` when it is an array (anything else in it skipped), else none."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def text_field(value: dict[str, Any], name: str = "text") -> str:
    """A string field of an untrusted object, ``""`` when it is missing or not a string."""
    text = value.get(name)
    return text if isinstance(text, str) else ""


def json_arguments(arguments: Any) -> Any:
    """Tool-call arguments (a JSON string in chat completions) as a value; the raw string when not JSON."""
    if not isinstance(arguments, str) or not arguments:
        return {}
    try:
        return orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {"_raw_arguments": arguments}


@dataclass(slots=True)
class ChatUsage:
    """A chat ``usage`` object's counts (missing or malformed counts read as 0)."""

    prompt: int = 0
    completion: int = 0
    cached: int = 0
    reasoning: int = 0

    @classmethod
    def of(cls, raw: Any) -> ChatUsage:
        """Read a chat-completions usage object."""
        if not isinstance(raw, dict):
            return cls()
        prompt_details = raw.get("prompt_tokens_details")
        done_details = raw.get("completion_tokens_details")
        return cls(_int(raw.get("prompt_tokens")), _int(raw.get("completion_tokens")),
                   _int(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict) else 0,
                   _int(done_details.get("reasoning_tokens")) if isinstance(done_details, dict) else 0)

    def chat(self) -> dict[str, Any]:
        """As a chat-completions usage object."""
        return {"prompt_tokens": self.prompt, "completion_tokens": self.completion,
                "total_tokens": self.prompt + self.completion,
                "prompt_tokens_details": {"cached_tokens": self.cached},
                "completion_tokens_details": {"reasoning_tokens": self.reasoning}}


def _int(value: Any) -> int:
    return value if type(value) is int and value >= 0 else 0


@dataclass(slots=True)
class ToolCall:
    """One tool call being assembled from a stream."""

    id: str
    name: str
    arguments: str = ""


@dataclass
class ChatStreamReader:
    """Reads chat-completions chunks (decoded JSON) of choice 0 and yields neutral operations.

    Operations: ``("text", str)``, ``("tool", index, id, name)`` when a tool call starts, ``("args", index, str)``
    for a piece of its arguments, ``("finish", reason)`` and ``("usage", ChatUsage)``; ``logprobs`` of text
    pieces are kept in :attr:`logprobs`.
    """

    text: list[str] = field(default_factory=list)
    tools: dict[int, ToolCall] = field(default_factory=dict)
    finish: str | None = None
    usage: ChatUsage | None = None
    logprobs: list[Any] = field(default_factory=list)

    def read(self, chunk: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
        """The operations in one chunk."""
        raw_usage = chunk.get("usage")
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict):
                yield from self._delta(delta)
            logprobs = choice.get("logprobs")
            if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
                self.logprobs.extend(logprobs["content"])
            if choice.get("finish_reason"):
                self.finish = str(choice["finish_reason"])
                yield ("finish", self.finish)
        if isinstance(raw_usage, dict):
            self.usage = ChatUsage.of(raw_usage)
            yield ("usage", self.usage)

    def _delta(self, delta: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
        content = delta.get("content")
        if isinstance(content, str) and content:
            self.text.append(content)
            yield ("text", content)
        calls = delta.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            if not isinstance(call, dict):
                continue
            raw_index = call.get("index")
            index = raw_index if type(raw_index) is int else len(self.tools)
            function = obj(call.get("function"))
            if index not in self.tools:
                tool = self.tools[index] = ToolCall(str(call.get("id") or f"call_{index}"),
                                                    str(function.get("name") or ""))
                yield ("tool", index, tool.id, tool.name)
            piece = function.get("arguments")
            if isinstance(piece, str) and piece:
                self.tools[index].arguments += piece
                yield ("args", index, piece)


class OpsWriter:
    """What both API event writers track besides text: tool calls (whole arguments so far), finish and usage."""

    def __init__(self) -> None:
        self.tools: dict[int, list[str]] = {}
        self.finish: str | None = None
        self.counts = ChatUsage()
        self.logprobs: list[Any] = []
        """Logprobs of the text (for APIs that carry them)."""

    def track(self, op: tuple[Any, ...]) -> None:
        """Remember a non-text operation."""
        kind = op[0]
        if kind == "tool":
            self.tools[op[1]] = [op[2], op[3], ""]
        elif kind == "args" and op[1] in self.tools:
            self.tools[op[1]][2] += op[2]
        elif kind == "finish":
            self.finish = op[1]
        elif kind == "usage":
            self.counts = op[1]


def whole_ops(message: dict[str, Any], finish: str | None, usage: ChatUsage) -> list[tuple[Any, ...]]:
    """The operations of a whole chat answer's message (what a stream of it would have yielded)."""
    ops: list[tuple[Any, ...]] = []
    content = message.get("content")
    if isinstance(content, str) and content:
        ops.append(("text", content))
    calls = message.get("tool_calls")
    for index, call in enumerate(calls if isinstance(calls, list) else ()):
        if not isinstance(call, dict):
            continue
        function = obj(call.get("function"))
        ops.append(("tool", index, str(call.get("id") or f"call_{index}"), str(function.get("name") or "")))
        if isinstance(function.get("arguments"), str) and function["arguments"]:
            ops.append(("args", index, function["arguments"]))
    ops.append(("finish", finish or "stop"))
    ops.append(("usage", usage))
    return ops


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One named server-sent event."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


__all__ = ["ChatStreamReader", "ChatUsage", "OpsWriter", "ToolCall", "bad", "check_fields", "json_arguments", "obj",
           "objs", "sse", "text_field", "text_of_blocks", "untranslatable", "whole_ops"]
