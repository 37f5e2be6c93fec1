"""A real local upstream speaking chat completions with tools, Anthropic Messages, OpenAI Responses and embeddings.

For tests and benchmarks of the gateway's other client APIs. :class:`ApiServer` is a
:class:`~satisfice.clients.scripted_server.ScriptedServer` (chat answers and faults come from its script) that
also: answers a chat request offering ``tools`` (and not yet holding a tool result) with a call to the first
tool; returns ``logprobs`` when asked; and serves ``POST /v1/messages``, ``/v1/responses`` (whole and streamed,
tools included) and ``/v1/embeddings`` with fixed token counts (:data:`MESSAGES_USAGE`, :data:`RESPONSES_USAGE`,
:data:`EMBEDDING_TOKENS`), so a test can check that the gateway billed exactly what the upstream reported.
Its events are written here independently of the gateway's translators.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from satisfice.clients.scripted_server import ScriptedServer, ScriptedServerThread
from satisfice.clients.scripted_wire import Received, Step

CHAT_USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18,
              "prompt_tokens_details": {"cached_tokens": 3}, "completion_tokens_details": {"reasoning_tokens": 2}}
MESSAGES_USAGE = {"input_tokens": 13, "output_tokens": 5, "cache_read_input_tokens": 4,
                  "cache_creation_input_tokens": 0}
RESPONSES_USAGE = {"input_tokens": 17, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 6,
                   "output_tokens_details": {"reasoning_tokens": 1}, "total_tokens": 23}
EMBEDDING_TOKENS = 9
TOOL_ARGS = '{"city": "Paris"}'
TEXT = "sunny in Paris"
DEFAULT = Step.answer(TEXT, prompt_tokens=11, completion_tokens=7, cached_tokens=3)


def _sse(event: str | None, data: dict[str, Any]) -> bytes:
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + orjson.dumps(data) + b"\n\n"


def _tool_name(body: dict[str, Any]) -> str | None:
    """The first tool offered, unless the conversation already holds a tool result."""
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools or not isinstance(tools[0], dict):
        return None
    if "function_call_output" in orjson.dumps(body.get("input")).decode() or any(
            isinstance(m, dict) and (m.get("role") == "tool" or "tool_result" in orjson.dumps(m).decode())
            for m in body.get("messages") or []):
        return None
    first = tools[0]
    function = first.get("function")
    return str(function.get("name") if isinstance(function, dict) else first.get("name"))


def _chat_tool(body: dict[str, Any], name: str) -> dict[str, Any]:
    call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": TOOL_ARGS}}
    return {"id": "chatcmpl-api", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model"), "choices": [{"index": 0, "message": {
                "role": "assistant", "content": None, "tool_calls": [call]}, "finish_reason": "tool_calls"}],
            "usage": CHAT_USAGE}


def _chat_logprobs(body: dict[str, Any]) -> dict[str, Any]:
    tokens = [{"token": w, "logprob": -0.25, "bytes": list(w.encode()), "top_logprobs": []}
              for w in TEXT.split(" ")]
    return {"id": "chatcmpl-api", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model"), "choices": [{"index": 0, "message": {"role": "assistant", "content": TEXT},
                                                     "logprobs": {"content": tokens}, "finish_reason": "stop"}],
            "usage": CHAT_USAGE}


async def _send_stream(request: web.Request, events: list[bytes]) -> web.StreamResponse:
    resp = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    for event in events:
        await resp.write(event)
    await resp.write_eof()
    return resp


class ApiServer(ScriptedServer):
    """The scripted chat server plus tools, logprobs, Messages, Responses and embeddings (see the module)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default", DEFAULT)
        super().__init__(**kwargs)

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_post("/v1/embeddings", self._embeddings)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body = orjson.loads(await request.read())
        if self._record and request.path != "/v1/chat/completions":
            self.received.append(Received(request.path, body, dict(request.headers)))
        return body if isinstance(body, dict) else {}

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        name = _tool_name(body) if isinstance(body, dict) else None
        if name is None and not (isinstance(body, dict) and body.get("logprobs") and not body.get("stream")):
            return await super()._complete(request)
        self.received.append(Received(request.path, body, dict(request.headers)))
        if name is None:
            return web.json_response(_chat_logprobs(body))
        answer = _chat_tool(body, name)
        if not body.get("stream"):
            return web.json_response(answer)
        base = {"id": "chatcmpl-api", "object": "chat.completion.chunk", "created": 0, "model": body.get("model")}
        delta = {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                      "function": {"name": name, "arguments": ""}}]}
        chunks = [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
                  {**base, "choices": [{"index": 0, "delta": {"tool_calls": [
                      {"index": 0, "function": {"arguments": TOOL_ARGS}}]}, "finish_reason": None}]},
                  {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
                  {**base, "choices": [], "usage": CHAT_USAGE}]
        return await _send_stream(request, [_sse(None, c) for c in chunks] + [b"data: [DONE]\n\n"])

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        name = _tool_name(body)
        block: dict[str, Any] = ({"type": "tool_use", "id": "toolu_1", "name": name, "input": orjson.loads(TOOL_ARGS)}
                                 if name else {"type": "text", "text": TEXT})
        answer = {"id": "msg_upstream", "type": "message", "role": "assistant", "model": body.get("model"),
                  "content": [block], "stop_reason": "tool_use" if name else "end_turn", "stop_sequence": None,
                  "usage": MESSAGES_USAGE}
        if not body.get("stream"):
            return web.json_response(answer)
        start = {**answer, "content": [], "stop_reason": None, "usage": {**MESSAGES_USAGE, "output_tokens": 1}}
        empty = {**block, "input": {}} if name else {"type": "text", "text": ""}
        delta = {"type": "input_json_delta", "partial_json": TOOL_ARGS} if name else {"type": "text_delta",
                                                                                      "text": TEXT}
        events: list[tuple[str, dict[str, Any]]] = [
                  ("message_start", {"type": "message_start", "message": start}),
                  ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": empty}),
                  ("ping", {"type": "ping"}),
                  ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
                  ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                  ("message_delta", {"type": "message_delta", "delta": {"stop_reason": answer["stop_reason"],
                                                                        "stop_sequence": None},
                                     "usage": {"output_tokens": MESSAGES_USAGE["output_tokens"]}}),
                  ("message_stop", {"type": "message_stop"})]
        return await _send_stream(request, [_sse(kind, data) for kind, data in events])

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        name = _tool_name(body)
        item: dict[str, Any] = ({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": name,
                                 "arguments": TOOL_ARGS, "status": "completed"} if name else
                                {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                                 "content": [{"type": "output_text", "text": TEXT, "annotations": []}]})
        response = {"id": "resp_upstream", "object": "response", "created_at": int(time.time()),
                    "status": "completed", "error": None, "incomplete_details": None, "instructions": None,
                    "model": body.get("model"), "output": [item], "parallel_tool_calls": True, "temperature": None,
                    "tool_choice": "auto", "tools": body.get("tools") or [], "top_p": None, "usage": RESPONSES_USAGE}
        if not body.get("stream"):
            return web.json_response(response)
        events: list[tuple[str, dict[str, Any]]] = [
                  ("response.created", {"response": {**response, "status": "in_progress", "output": [],
                                                     "usage": None}}),
                  ("response.output_item.added", {"output_index": 0, "item": item}),
                  ("response.output_item.done", {"output_index": 0, "item": item}),
                  ("response.completed", {"response": response})]
        if not name:
            events[2:2] = [("response.output_text.delta", {"item_id": "msg_1", "output_index": 0,
                                                           "content_index": 0, "delta": TEXT, "logprobs": []})]
        return await _send_stream(request, [_sse(kind, {"type": kind, "sequence_number": i, **data})
                                            for i, (kind, data) in enumerate(events)])

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        inputs = body.get("input")
        count = len(inputs) if isinstance(inputs, list) and inputs and not isinstance(inputs[0], int) else 1
        data = [{"object": "embedding", "index": i, "embedding": [0.1 * (i + 1), 0.2, 0.3]} for i in range(count)]
        return web.json_response({"object": "list", "data": data, "model": body.get("model"),
                                  "usage": {"prompt_tokens": EMBEDDING_TOKENS, "total_tokens": EMBEDDING_TOKENS}})


class ApiServerThread(ScriptedServerThread):
    """An :class:`ApiServer` on its own event loop in a daemon thread."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(None)
        self.server = ApiServer(**kwargs)


__all__ = ["CHAT_USAGE", "EMBEDDING_TOKENS", "MESSAGES_USAGE", "RESPONSES_USAGE", "TEXT", "TOOL_ARGS", "ApiServer",
           "ApiServerThread"]
