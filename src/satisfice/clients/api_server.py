"""A real local upstream speaking chat completions with tools, Anthropic Messages, OpenAI Responses and embeddings.

For tests and benchmarks of the gateway's other client APIs. :class:`ApiServer` is a
:class:`~satisfice.clients.scripted_server.ScriptedServer` (chat answers and faults come from its script) that
also: answers a chat request offering ``tools`` (and not yet holding a tool result) with a call to the first
tool (the first two, as parallel calls, when it offers two or more; a stream delivers each call's arguments in
:data:`TOOL_PIECES`, :attr:`ApiServer.piece_delay_s` apart); returns ``logprobs`` when asked; and serves
``POST /v1/messages`` (and its ``count_tokens``), ``/v1/responses`` (whole and streamed, tools included) and
``/v1/embeddings`` with fixed token counts (:data:`MESSAGES_USAGE`, :data:`COUNTED_TOKENS`,
:data:`RESPONSES_USAGE`, :data:`EMBEDDING_TOKENS`), so a test can check that the gateway billed exactly what the
upstream reported.
Its events are written here independently of the gateway's translators.
"""

from __future__ import annotations

import asyncio
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
COUNTED_TOKENS = 21
"""What ``POST /v1/messages/count_tokens`` answers."""
TOOL_ARGS = '{"city": "Paris"}'
TOOL_PIECES = ('{"city"', ': "Par', 'is"}')
"""The pieces a streamed tool call's arguments arrive in (they join to :data:`TOOL_ARGS`)."""
TEXT = "sunny in Paris"
DEFAULT = Step.answer(TEXT, prompt_tokens=11, completion_tokens=7, cached_tokens=3)


def _sse(event: str | None, data: dict[str, Any]) -> bytes:
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + orjson.dumps(data) + b"\n\n"


def _tool_names(body: dict[str, Any]) -> list[str]:
    """The first tool offered (the first two, when there are more), unless the conversation holds a tool result."""
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools or not all(isinstance(t, dict) for t in tools):
        return []
    if "function_call_output" in orjson.dumps(body.get("input")).decode() or any(
            isinstance(m, dict) and (m.get("role") == "tool" or "tool_result" in orjson.dumps(m).decode())
            for m in body.get("messages") or []):
        return []
    names = []
    for tool in tools[:2]:
        function = tool.get("function")
        names.append(str(function.get("name") if isinstance(function, dict) else tool.get("name")))
    return names


def _tool_name(body: dict[str, Any]) -> str | None:
    names = _tool_names(body)
    return names[0] if names else None


def _chat_tool(body: dict[str, Any], names: list[str]) -> dict[str, Any]:
    calls = [{"id": f"call_{i + 1}", "type": "function", "function": {"name": name, "arguments": TOOL_ARGS}}
             for i, name in enumerate(names)]
    return {"id": "chatcmpl-api", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model"), "choices": [{"index": 0, "message": {
                "role": "assistant", "content": None, "tool_calls": calls}, "finish_reason": "tool_calls"}],
            "usage": CHAT_USAGE}


def _tool_chunks(body: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """A chat stream of the tool calls: each call starts, then its arguments come in :data:`TOOL_PIECES`."""
    base = {"id": "chatcmpl-api", "object": "chat.completion.chunk", "created": 0, "model": body.get("model")}
    chunks = []
    for i, name in enumerate(names):
        delta: dict[str, Any] = {"tool_calls": [{"index": i, "id": f"call_{i + 1}", "type": "function",
                                                 "function": {"name": name, "arguments": ""}}]}
        if i == 0:
            delta["role"] = "assistant"
        chunks.append({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        chunks += [{**base, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": i, "function": {"arguments": piece}}]}, "finish_reason": None}]} for piece in TOOL_PIECES]
    return chunks + [{**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
                     {**base, "choices": [], "usage": CHAT_USAGE}]


def _chat_logprobs(body: dict[str, Any]) -> dict[str, Any]:
    tokens = [{"token": w, "logprob": -0.25, "bytes": list(w.encode()), "top_logprobs": []}
              for w in TEXT.split(" ")]
    return {"id": "chatcmpl-api", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model"), "choices": [{"index": 0, "message": {"role": "assistant", "content": TEXT},
                                                     "logprobs": {"content": tokens}, "finish_reason": "stop"}],
            "usage": CHAT_USAGE}


async def _send_stream(request: web.Request, events: list[bytes], pause_s: float = 0.0) -> web.StreamResponse:
    resp = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    for i, event in enumerate(events):
        if pause_s and i:
            await asyncio.sleep(pause_s)
        await resp.write(event)
    await resp.write_eof()
    return resp


class ApiServer(ScriptedServer):
    """The scripted chat server plus tools, logprobs, Messages, Responses and embeddings (see the module)."""

    def __init__(self, *, piece_delay_s: float = 0.0, **kwargs: Any) -> None:
        kwargs.setdefault("default", DEFAULT)
        super().__init__(**kwargs)
        self.piece_delay_s = piece_delay_s
        """Pause between the chunks of a streamed chat tool call (to see a client get them one by one)."""

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_post("/v1/embeddings", self._embeddings)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body = orjson.loads(await request.read())
        if self._record and request.path != "/v1/chat/completions":
            self.received.append(Received(request.path, body, dict(request.headers)))
        return body if isinstance(body, dict) else {}

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        names = _tool_names(body) if isinstance(body, dict) else []
        if not names and not (isinstance(body, dict) and body.get("logprobs") and not body.get("stream")):
            return await super()._complete(request)
        self.received.append(Received(request.path, body, dict(request.headers)))
        if not names:
            return web.json_response(_chat_logprobs(body))
        if not body.get("stream"):
            return web.json_response(_chat_tool(body, names))
        return await _send_stream(request, [_sse(None, c) for c in _tool_chunks(body, names)]
                                  + [b"data: [DONE]\n\n"], self.piece_delay_s)

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

    async def _count_tokens(self, request: web.Request) -> web.StreamResponse:
        await self._body(request)
        return web.json_response({"input_tokens": COUNTED_TOKENS})

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


__all__ = ["CHAT_USAGE", "COUNTED_TOKENS", "EMBEDDING_TOKENS", "MESSAGES_USAGE", "RESPONSES_USAGE", "TEXT",
           "TOOL_ARGS", "TOOL_PIECES", "ApiServer", "ApiServerThread"]
