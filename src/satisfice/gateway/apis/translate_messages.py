"""Anthropic Messages to and from chat completions: requests, whole answers, stream events, usage and errors.

Pure functions (no I/O). Covered: ``system`` (string or text blocks), text, images (base64 and URL), ``tools``
and ``tool_choice``, ``tool_use`` / ``tool_result`` blocks, ``stop_sequences``, ``temperature``, ``top_p``,
``max_tokens``, ``metadata.user_id``, stop reasons, and usage (cache reads as cached prompt tokens).
``cache_control`` marks are hints with no chat equivalent and are not forwarded; ``thinking`` other than
``disabled``, documents, server tools and other fields are a 400 naming the field.
"""

from __future__ import annotations

import secrets
from typing import Any

import orjson

from satisfice.gateway.apis.translate_common import (
    ChatUsage,
    OpsWriter,
    bad,
    check_fields,
    json_arguments,
    obj,
    objs,
    sse,
    text_field,
    text_of_blocks,
    untranslatable,
    whole_ops,
)

KNOWN = ("model", "messages", "system", "max_tokens", "stop_sequences", "stream", "temperature", "top_p", "tools",
         "tool_choice", "metadata", "thinking")
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use",
                "content_filter": "refusal"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 408: "timeout_error", 413: "request_too_large", 429: "rate_limit_error",
               503: "overloaded_error", 529: "overloaded_error"}


def _image(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    if isinstance(source, dict) and source.get("type") == "base64":
        url = f"data:{source.get('media_type') or 'image/png'};base64,{source.get('data') or ''}"
    elif isinstance(source, dict) and source.get("type") == "url" and isinstance(source.get("url"), str):
        url = source["url"]
    else:
        raise untranslatable(f"{where}.source", "only base64 and url image sources can be translated")
    return {"type": "image_url", "image_url": {"url": url}}


def _tool_result(block: dict[str, Any], where: str) -> dict[str, Any]:
    content = block.get("content")
    text = "" if content is None else text_of_blocks(content, f"{where}.content", ("text",))
    if block.get("is_error") is True:
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": str(block.get("tool_use_id") or ""), "content": text}


def _message(message: Any, i: int) -> list[dict[str, Any]]:
    where = f"messages[{i}]"
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        raise bad(where, f"'{where}' must be an object with role 'user' or 'assistant'")
    role, content = message["role"], message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise bad(f"{where}.content", f"'{where}.content' must be a string or an array of blocks")
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        at = f"{where}.content[{j}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image" and role == "user":
            parts.append(_image(block, at))
        elif kind == "tool_use" and role == "assistant":
            calls.append({"id": str(block.get("id") or f"call_{j}"), "type": "function",
                          "function": {"name": str(block.get("name") or ""),
                                       "arguments": orjson.dumps(block.get("input") or {}).decode()}})
        elif kind == "tool_result" and role == "user":
            results.append(_tool_result(block, at))
        else:
            raise untranslatable(f"{at}.type", f"a {echo_kind(kind)} block in a {role} message has no "
                                 "chat-completions equivalent")
    out: list[dict[str, Any]] = list(results)
    if role == "assistant":
        text = "".join(p["text"] for p in parts)
        if text or calls:
            out.append({"role": "assistant", "content": text or None, **({"tool_calls": calls} if calls else {})})
    elif parts:
        only_text = all(p["type"] == "text" for p in parts)
        out.append({"role": "user", "content": "".join(p["text"] for p in parts) if only_text else parts})
    return out


def echo_kind(kind: Any) -> str:
    """A block type for a message (short, never the client's whole value)."""
    return repr(kind)[:40]


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise bad("tools", "'tools' must be an array")
    out = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise bad(f"tools[{i}]", f"'tools[{i}]' must be an object with a string 'name'")
        if tool.get("type") not in (None, "custom") or "input_schema" not in tool:
            raise untranslatable(f"tools[{i}].type", "server tools run at Anthropic; only client tools with an "
                                 "input_schema can be translated")
        function = {"name": tool["name"], "parameters": tool["input_schema"]}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: Any, chat: dict[str, Any]) -> None:
    kind = choice.get("type") if isinstance(choice, dict) else None
    mapped = {"auto": "auto", "any": "required", "none": "none"}.get(str(kind))
    if kind == "tool" and isinstance(choice.get("name"), str):
        chat["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    elif mapped is not None:
        chat["tool_choice"] = mapped
    else:
        raise bad("tool_choice.type", "'tool_choice.type' must be auto, any, tool or none")
    if choice.get("disable_parallel_tool_use") is True:
        chat["parallel_tool_calls"] = False


def to_chat(payload: dict[str, Any]) -> dict[str, Any]:
    """A Messages request as a chat-completions request (400 naming any field that cannot be translated)."""
    check_fields(payload, KNOWN)
    thinking = payload.get("thinking")
    if thinking is not None and not (isinstance(thinking, dict) and thinking.get("type") == "disabled"):
        raise untranslatable("thinking", "extended thinking has no chat-completions equivalent")
    messages: list[dict[str, Any]] = []
    system = payload.get("system")
    if system is not None:
        messages.append({"role": "system", "content": text_of_blocks(system, "system", ("text",))})
    for i, message in enumerate(payload["messages"]):
        messages.extend(_message(message, i))
    chat: dict[str, Any] = {"model": payload["model"], "messages": messages, "max_tokens": payload["max_tokens"]}
    for name in ("temperature", "top_p", "stream"):
        if payload.get(name) is not None:
            chat[name] = payload[name]
    if payload.get("stop_sequences") is not None:
        chat["stop"] = payload["stop_sequences"]
    if payload.get("tools"):
        chat["tools"] = _tools(payload["tools"])
    if payload.get("tool_choice") is not None:
        _tool_choice(payload["tool_choice"], chat)
    metadata = payload.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        chat["user"] = metadata["user_id"]
    return chat


def usage(counts: ChatUsage) -> dict[str, Any]:
    """Chat usage counts as an Anthropic usage object (cache reads are not part of ``input_tokens`` there)."""
    return {"input_tokens": counts.prompt - min(counts.cached, counts.prompt), "output_tokens": counts.completion,
            "cache_read_input_tokens": counts.cached, "cache_creation_input_tokens": 0}


def chat_usage(raw: Any) -> dict[str, Any] | None:
    """An Anthropic usage object as a chat-completions one (for billing a pass-through answer)."""
    if not isinstance(raw, dict):
        return None
    counts = [raw.get(k) or 0 for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")]
    if not all(type(c) is int for c in counts):
        return {"prompt_tokens": raw.get("input_tokens"), "completion_tokens": raw.get("output_tokens")}
    return {"prompt_tokens": sum(counts), "completion_tokens": raw.get("output_tokens"),
            "prompt_tokens_details": {"cached_tokens": counts[1]}}


def message_id() -> str:
    """A fresh Messages id."""
    return "msg_" + secrets.token_hex(12)


class MessagesEvents(OpsWriter):
    """Writes Anthropic stream events from neutral operations (see ``ChatStreamReader``).

    Blocks follow each other as the chat stream delivers them: text deltas as they arrive; a tool call opens a
    ``tool_use`` block when it starts (closing the block before it) and sends each piece of its arguments as an
    ``input_json_delta``. An upstream that interleaves the arguments of parallel calls (none seen) gets a late
    piece sent to its call's block index after that block closed; the SDKs accumulate by index.
    """

    def __init__(self, model: str, id: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.id = id or message_id()
        self.started = False
        self.block = -1
        self.open: tuple[str, int] | None = None
        """The open block: ("text", -1) or ("tool", chat index of the call)."""
        self.blocks: dict[int, int] = {}
        """Block index of each tool call (by its chat index)."""
        self.sent: set[int] = set()
        """Tool calls (chat index) whose arguments have had a piece sent."""

    def _start(self) -> bytes:
        self.started = True
        return sse("message_start", {"type": "message_start", "message": {
            "id": self.id, "type": "message", "role": "assistant", "model": self.model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 0, "output_tokens": 0}}})

    def _close(self) -> bytes:
        """Close the open block (a tool call that had no argument piece gets ``{}``)."""
        if self.open is None:
            return b""
        kind, index = self.open
        self.open = None
        out = b""
        if kind == "tool" and index not in self.sent:
            out += self._args(index, "{}")
        return out + sse("content_block_stop", {"type": "content_block_stop", "index": self.block})

    def _args(self, index: int, piece: str) -> bytes:
        self.sent.add(index)
        return sse("content_block_delta", {"type": "content_block_delta", "index": self.blocks[index],
                                           "delta": {"type": "input_json_delta", "partial_json": piece}})

    def _open(self, kind: str, index: int, block: dict[str, Any]) -> bytes:
        out = self._close()
        self.block += 1
        self.open = (kind, index)
        return out + sse("content_block_start", {"type": "content_block_start", "index": self.block,
                                                 "content_block": block})

    def op(self, op: tuple[Any, ...]) -> bytes:
        """The events for one operation (may be empty)."""
        out = b"" if self.started else self._start()
        kind = op[0]
        if kind == "text":
            if self.open is None or self.open[0] != "text":
                out += self._open("text", -1, {"type": "text", "text": ""})
            return out + sse("content_block_delta", {"type": "content_block_delta", "index": self.block,
                                                     "delta": {"type": "text_delta", "text": op[1]}})
        self.track(op)
        if kind == "tool":
            out += self._open("tool", op[1], {"type": "tool_use", "id": op[2], "name": op[3], "input": {}})
            self.blocks[op[1]] = self.block
        elif kind == "args" and op[1] in self.blocks:
            out += self._args(op[1], op[2])
        return out

    def end(self) -> bytes:
        """The closing events: the open block, stop reason and usage, ``message_stop``."""
        out = (b"" if self.started else self._start()) + self._close()
        out += sse("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": STOP_REASONS.get(self.finish or "stop", "end_turn"), "stop_sequence": None},
            "usage": usage(self.counts)})
        return out + sse("message_stop", {"type": "message_stop"})


def from_chat(data: dict[str, Any], model: str) -> dict[str, Any]:
    """A whole chat-completions answer as a Messages answer (``model``: the name the client asked for)."""
    choices = data.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    message = obj(choice.get("message"))
    content: list[dict[str, Any]] = []
    text = message.get("content")
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    calls = message.get("tool_calls")
    for i, call in enumerate(calls if isinstance(calls, list) else ()):
        function = obj(obj(call).get("function"))
        content.append({"type": "tool_use", "id": str(obj(call).get("id") or f"call_{i}"),
                        "name": str(function.get("name") or ""), "input": json_arguments(function.get("arguments"))})
    return {"id": message_id(), "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": STOP_REASONS.get(str(choice.get("finish_reason") or "stop"), "end_turn"),
            "stop_sequence": None, "usage": usage(ChatUsage.of(data.get("usage")))}


def stream_of(answer: dict[str, Any], model: str) -> bytes:
    """A complete event stream equivalent to a whole Messages answer (for routes verified before sending)."""
    events = MessagesEvents(model, str(answer.get("id") or message_id()))
    message: dict[str, Any] = {"content": None, "tool_calls": []}
    for block in objs(answer.get("content")):
        if block.get("type") == "text":
            message["content"] = (message["content"] or "") + text_field(block)
        elif block.get("type") == "tool_use":
            message["tool_calls"].append({"id": block.get("id"), "function": {
                "name": block.get("name"), "arguments": orjson.dumps(block.get("input") or {}).decode()}})
    raw = answer.get("usage") or {}
    counts = ChatUsage.of(chat_usage(raw))
    reverse = {v: k for k, v in STOP_REASONS.items() if k != "function_call"}
    ops = whole_ops(message, reverse.get(str(answer.get("stop_reason")), "stop"), counts)
    return b"".join(events.op(op) for op in ops) + events.end()


def text_of(answer: dict[str, Any]) -> str:
    """The text of a Messages answer (for verifiers and shadow checks)."""
    return "".join(text_field(b) for b in objs(answer.get("content")) if b.get("type") == "text")


def error_body(status: int, message: str) -> bytes:
    """An error in Anthropic's shape."""
    kind = ERROR_TYPES.get(status, "api_error")
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})


def stream_error(message: str) -> bytes:
    """The event that ends a Messages stream that failed after it started."""
    return sse("error", {"type": "error", "error": {"type": "api_error", "message": message}})


__all__ = ["KNOWN", "MessagesEvents", "chat_usage", "error_body", "from_chat", "stream_error", "stream_of",
           "text_of", "to_chat", "usage"]
