"""OpenAI Responses to and from chat completions: requests, whole answers, stream events and usage.

Pure functions (no I/O). Covered: ``instructions``, ``input`` as a string or items (messages with text and
images, ``function_call`` and ``function_call_output``), function ``tools`` and ``tool_choice``,
``max_output_tokens``, ``temperature``, ``top_p``, ``parallel_tool_calls``, ``text.format`` (JSON schema or
object), ``reasoning.effort``, stop reasons (``incomplete`` on the output cap) and usage (cached and reasoning
tokens). Stateful features are refused: ``previous_response_id``, ``conversation`` and ``store: true`` are a
400 naming the field (the gateway keeps no responses); so are built-in tools and any other field.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from satisfice.gateway.apis.translate_common import (
    ChatUsage,
    OpsWriter,
    bad,
    check_fields,
    obj,
    objs,
    sse,
    text_field,
    untranslatable,
    whole_ops,
)

KNOWN = ("model", "input", "instructions", "max_output_tokens", "temperature", "top_p", "tools", "tool_choice",
         "parallel_tool_calls", "stream", "text", "reasoning", "store", "metadata", "user", "include",
         "truncation", "previous_response_id", "conversation", "safety_identifier", "prompt_cache_key")
STATEFUL = ("previous_response_id", "conversation")


def _content(content: Any, role: str, where: str) -> Any:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise bad(where, f"'{where}' must be a string or an array of content parts")
    parts: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "input_image" and isinstance(part.get("image_url"), str) and role == "user":
            image: dict[str, Any] = {"url": part["image_url"]}
            if part.get("detail") in ("low", "high", "auto"):
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        else:
            raise untranslatable(f"{where}[{j}].type", f"content of type {repr(kind)[:40]} has no chat-completions "
                                 "equivalent (file ids and files are not translated)")
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _items(items: list[Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise bad(where, f"'{where}' must be an object")
        kind = item.get("type", "message")
        if kind == "message" and item.get("role") in ("user", "system", "developer", "assistant"):
            role = "system" if item["role"] == "developer" else item["role"]
            messages.append({"role": role, "content": _content(item.get("content"), role, f"{where}.content")})
        elif kind == "function_call":
            call = {"id": str(item.get("call_id") or item.get("id") or f"call_{i}"), "type": "function",
                    "function": {"name": str(item.get("name") or ""), "arguments": str(item.get("arguments") or "")}}
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            elif last is not None and last["role"] == "assistant" and isinstance(last.get("content"), str):
                last["tool_calls"] = [call]
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else _content(output, "tool", f"{where}.output")
            messages.append({"role": "tool", "tool_call_id": str(item.get("call_id") or ""),
                             "content": text if isinstance(text, str) else ""})
        else:
            raise untranslatable(f"{where}.type", f"input items of type {repr(kind)[:40]} have no "
                                 "chat-completions equivalent")
    return messages


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise bad("tools", "'tools' must be an array")
    out = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise untranslatable(f"tools[{i}].type", f"built-in tool {repr(kind)[:40]} runs at OpenAI; only "
                                 "function tools can be translated")
        function = {k: tool[k] for k in ("name", "description", "parameters", "strict") if tool.get(k) is not None}
        out.append({"type": "function", "function": function})
    return out


def _text_format(text: Any) -> dict[str, Any] | None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if text is not None and not isinstance(text, dict):
        raise bad("text", "'text' must be an object")
    if isinstance(text, dict) and set(text) - {"format", "verbosity"}:
        raise untranslatable("text", "only 'text.format' can be translated")
    if fmt is None or (isinstance(fmt, dict) and fmt.get("type") == "text"):
        return None
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return {"type": "json_object"}
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = {k: fmt[k] for k in ("name", "schema", "strict", "description") if fmt.get(k) is not None}
        return {"type": "json_schema", "json_schema": schema}
    raise untranslatable("text.format", "only text, json_object and json_schema formats can be translated")


def _refuse_state(payload: dict[str, Any]) -> None:
    for name in STATEFUL:
        if payload.get(name) is not None:
            raise untranslatable(name, "the gateway keeps no stored responses or conversations; send the whole "
                                 "conversation in 'input'")
    if payload.get("store") is True:
        raise untranslatable("store", "the gateway does not store responses; send 'store': false")
    include = payload.get("include")
    if include:
        raise untranslatable("include", "extra output (encrypted reasoning, logprobs, sources) is not translated")


def to_chat(payload: dict[str, Any]) -> dict[str, Any]:
    """A Responses request as a chat-completions request (400 naming any field that cannot be translated)."""
    check_fields(payload, KNOWN)
    _refuse_state(payload)
    messages: list[dict[str, Any]] = []
    if payload.get("instructions") is not None:
        if not isinstance(payload["instructions"], str):
            raise untranslatable("instructions", "only string instructions can be translated")
        messages.append({"role": "system", "content": payload["instructions"]})
    source = payload["input"]
    if isinstance(source, str):
        messages.append({"role": "user", "content": source})
    else:
        messages.extend(_items(source))
    chat: dict[str, Any] = {"model": payload["model"], "messages": messages}
    if payload.get("max_output_tokens") is not None:
        chat["max_tokens"] = payload["max_output_tokens"]
    for name in ("temperature", "top_p", "parallel_tool_calls", "stream"):
        if payload.get(name) is not None:
            chat[name] = payload[name]
    user = payload.get("user") or payload.get("safety_identifier")
    if isinstance(user, str):
        chat["user"] = user
    if payload.get("tools"):
        chat["tools"] = _tools(payload["tools"])
    choice = payload.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function":
        chat["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    elif choice in ("auto", "none", "required"):
        chat["tool_choice"] = choice
    elif choice is not None:
        raise untranslatable("tool_choice", "only auto, none, required and function choices can be translated")
    response_format = _text_format(payload.get("text"))
    if response_format is not None:
        chat["response_format"] = response_format
    reasoning = payload.get("reasoning")
    if isinstance(reasoning, dict) and reasoning.get("effort") is not None:
        chat["reasoning_effort"] = reasoning["effort"]
    return chat


def usage(counts: ChatUsage) -> dict[str, Any]:
    """Chat usage counts as a Responses usage object."""
    return {"input_tokens": counts.prompt, "input_tokens_details": {"cached_tokens": counts.cached},
            "output_tokens": counts.completion, "output_tokens_details": {"reasoning_tokens": counts.reasoning},
            "total_tokens": counts.prompt + counts.completion}


def chat_usage(raw: Any) -> dict[str, Any] | None:
    """A Responses usage object as a chat-completions one (for billing a pass-through answer)."""
    if not isinstance(raw, dict):
        return None
    return {"prompt_tokens": raw.get("input_tokens"), "completion_tokens": raw.get("output_tokens"),
            "prompt_tokens_details": raw.get("input_tokens_details"),
            "completion_tokens_details": raw.get("output_tokens_details")}


def _new(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _message_item(item_id: str, text: str, status: str, logprobs: list[Any]) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs}] if text or \
        status == "in_progress" else []
    return {"type": "message", "id": item_id, "status": status, "role": "assistant",
            "content": [] if status == "in_progress" else content}


def _call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    return {"type": "function_call", "id": item_id, "call_id": call_id, "name": name, "arguments": arguments,
            "status": status}


def envelope(payload: dict[str, Any], response_id: str, created: int, status: str) -> dict[str, Any]:
    """A response object without output (what ``response.created`` carries; echoes the request's settings)."""
    return {"id": response_id, "object": "response", "created_at": created, "status": status, "error": None,
            "incomplete_details": None, "instructions": payload.get("instructions"),
            "max_output_tokens": payload.get("max_output_tokens"), "model": payload.get("model"), "output": [],
            "parallel_tool_calls": payload.get("parallel_tool_calls", True),
            "previous_response_id": None, "reasoning": payload.get("reasoning"), "store": False,
            "temperature": payload.get("temperature"), "text": payload.get("text") or {"format": {"type": "text"}},
            "tool_choice": payload.get("tool_choice") or "auto", "tools": payload.get("tools") or [],
            "top_p": payload.get("top_p"), "truncation": payload.get("truncation") or "disabled",
            "usage": None, "user": payload.get("user"), "metadata": payload.get("metadata") or {}}


def _finish(response: dict[str, Any], finish: str | None, counts: ChatUsage) -> None:
    if finish == "length":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "max_output_tokens"}
    elif finish == "content_filter":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "content_filter"}
    else:
        response["status"] = "completed"
    response["usage"] = usage(counts)


class ResponsesEvents(OpsWriter):
    """Writes Responses stream events from neutral operations (see ``ChatStreamReader``).

    Output items follow each other as the chat stream delivers them: text deltas as they arrive; a function call
    adds its item when it starts (finishing the item before it) and sends each piece of its arguments as a
    ``response.function_call_arguments.delta``. A late piece of an earlier call (an upstream interleaving
    parallel calls) is sent to that call's ``output_index``; ``response.completed`` carries every item whole.
    """

    def __init__(self, payload: dict[str, Any], response_id: str | None = None) -> None:
        super().__init__()
        self.response = envelope(payload, response_id or _new("resp"), int(time.time()), "in_progress")
        self.seq = 0
        self.started = False
        self.output: list[dict[str, Any]] = []
        """Every item added so far (in progress ones replaced by their finished form when they close)."""
        self.open: int | None = None
        """The output index of the open item."""
        self.text: list[str] = []
        self.calls: dict[int, int] = {}
        """Output index of each function call (by its chat index)."""

    def _event(self, kind: str, **data: Any) -> bytes:
        self.seq += 1
        return sse(kind, {"type": kind, "sequence_number": self.seq - 1, **data})

    def _start(self) -> bytes:
        self.started = True
        return (self._event("response.created", response=self.response)
                + self._event("response.in_progress", response=self.response))

    def _add(self, item: dict[str, Any]) -> bytes:
        out = self._close()
        self.open = len(self.output)
        self.output.append(item)
        return out + self._event("response.output_item.added", output_index=self.open, item=item)

    def _close(self) -> bytes:
        """Finish the open item: its done events, and its finished form in :attr:`output`."""
        if self.open is None:
            return b""
        n, item = self.open, self.output[self.open]
        self.open = None
        out = b""
        if item["type"] == "message":
            text = "".join(self.text)
            part = {"type": "output_text", "text": text, "annotations": [], "logprobs": self.logprobs}
            out += self._event("response.output_text.done", item_id=item["id"], output_index=n, content_index=0,
                               text=text, logprobs=self.logprobs)
            out += self._event("response.content_part.done", item_id=item["id"], output_index=n,
                               content_index=0, part=part)
            item = _message_item(item["id"], text, "completed", self.logprobs)
        else:
            arguments = self._arguments(n)
            out += self._event("response.function_call_arguments.done", item_id=item["id"], output_index=n,
                               arguments=arguments, name=item["name"])
            item = _call_item(item["id"], item["call_id"], item["name"], arguments, "completed")
        self.output[n] = item
        return out + self._event("response.output_item.done", output_index=n, item=item)

    def _arguments(self, n: int) -> str:
        """The arguments so far of the function call at output index ``n``."""
        return next((self.tools[i][2] for i, at in self.calls.items() if at == n), "")

    def op(self, op: tuple[Any, ...]) -> bytes:
        """The events for one operation (may be empty)."""
        out = b"" if self.started else self._start()
        kind = op[0]
        if kind == "text":
            if self.open is None or self.output[self.open]["type"] != "message":
                out += self._add(_message_item(_new("msg"), "", "in_progress", []))
                self.text = []
                out += self._event("response.content_part.added", item_id=self.output[-1]["id"],
                                   output_index=self.open, content_index=0,
                                   part={"type": "output_text", "text": "", "annotations": [], "logprobs": []})
            self.text.append(op[1])
            return out + self._event("response.output_text.delta", item_id=self.output[-1]["id"],
                                     output_index=self.open, content_index=0, delta=op[1], logprobs=[])
        self.track(op)
        if kind == "tool":
            out += self._add(_call_item(_new("fc"), op[2], op[3], "", "in_progress"))
            self.calls[op[1]] = len(self.output) - 1
        elif kind == "args" and op[1] in self.calls:
            n = self.calls[op[1]]
            out += self._event("response.function_call_arguments.delta", item_id=self.output[n]["id"],
                               output_index=n, delta=op[2])
        return out

    def end(self) -> bytes:
        """The closing events: the open item, then ``response.completed`` (or ``incomplete``) with usage."""
        out = (b"" if self.started else self._start()) + self._close()
        output = [item if item["type"] != "function_call" else {**item, "arguments": self._arguments(n)}
                  for n, item in enumerate(self.output)]
        response = {**self.response, "output": output}
        _finish(response, self.finish, self.counts)
        kind = "response.completed" if response["status"] == "completed" else "response.incomplete"
        return out + self._event(kind, response=response)


def from_chat(data: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """A whole chat-completions answer as a Responses answer to ``payload``."""
    choices = data.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    message = obj(choice.get("message"))
    response = envelope(payload, _new("resp"), int(data.get("created") or time.time()), "completed")
    output: list[dict[str, Any]] = []
    text = message.get("content")
    if isinstance(text, str) and text:
        logprobs = obj(choice.get("logprobs")).get("content")
        output.append(_message_item(_new("msg"), text, "completed", list(logprobs or [])))
    calls = message.get("tool_calls")
    for i, call in enumerate(calls if isinstance(calls, list) else ()):
        function = obj(obj(call).get("function"))
        arguments = function.get("arguments")
        output.append(_call_item(_new("fc"), str(obj(call).get("id") or f"call_{i}"), str(function.get("name") or ""),
                                 arguments if isinstance(arguments, str) else "", "completed"))
    response["output"] = output
    _finish(response, choice.get("finish_reason"), ChatUsage.of(data.get("usage")))
    return response


def stream_of(answer: dict[str, Any], payload: dict[str, Any]) -> bytes:
    """A complete event stream equivalent to a whole Responses answer (for routes verified before sending)."""
    events = ResponsesEvents(payload, str(answer.get("id") or _new("resp")))
    message: dict[str, Any] = {"content": None, "tool_calls": []}
    for item in objs(answer.get("output")):
        if item.get("type") == "message":
            message["content"] = (message["content"] or "") + text_of({"output": [item]})
            for part in objs(item.get("content")):
                events.logprobs.extend(objs(part.get("logprobs")))
        elif item.get("type") == "function_call":
            message["tool_calls"].append({"id": item.get("call_id"), "function": {
                "name": item.get("name"), "arguments": item.get("arguments")}})
    details = obj(answer.get("incomplete_details"))
    finish = {"max_output_tokens": "length", "content_filter": "content_filter"}.get(str(details.get("reason")))
    ops = whole_ops(message, finish, ChatUsage.of(chat_usage(answer.get("usage"))))
    return b"".join(events.op(op) for op in ops) + events.end()


def text_of(answer: dict[str, Any]) -> str:
    """The output text of a Responses answer (for verifiers and shadow checks)."""
    return "".join(text_field(p) for item in objs(answer.get("output")) if item.get("type") == "message"
                   for p in objs(item.get("content")) if p.get("type") == "output_text")


__all__ = ["KNOWN", "ResponsesEvents", "chat_usage", "envelope", "from_chat", "stream_of", "text_of", "to_chat",
           "usage"]
