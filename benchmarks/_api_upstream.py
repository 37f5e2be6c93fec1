"""Fast fake upstream speaking every client API the gateway serves, for ``gateway_overhead.py --apis``.

Like ``_upstream.py`` (uvloop + httptools, prebuilt bytes, no think time), answering by path: chat completions,
Anthropic Messages, OpenAI Responses and embeddings, each with ``usage``. Streams are not served (the per-API
benchmark measures whole answers). Run: ``python benchmarks/_api_upstream.py --port N``.
"""

from __future__ import annotations

import sys

import orjson
from _upstream import CHAT_RESPONSE, _Conn, _response, main

MESSAGES = _response(orjson.dumps({
    "id": "msg_bench", "type": "message", "role": "assistant", "model": "bench-model",
    "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn", "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 1}}))
RESPONSES = _response(orjson.dumps({
    "id": "resp_bench", "object": "response", "created_at": 1_700_000_000, "status": "completed", "error": None,
    "incomplete_details": None, "instructions": None, "model": "bench-model", "parallel_tool_calls": True,
    "temperature": None, "tool_choice": "auto", "tools": [], "top_p": None,
    "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": "ok", "annotations": []}]}],
    "usage": {"input_tokens": 12, "output_tokens": 1, "total_tokens": 13}}))
EMBEDDINGS = _response(orjson.dumps({
    "object": "list", "model": "bench-model", "usage": {"prompt_tokens": 3, "total_tokens": 3},
    "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}]}))
BY_PATH = {b"/v1/messages": MESSAGES, b"/v1/responses": RESPONSES, b"/v1/embeddings": EMBEDDINGS}


class _ApiConn(_Conn):
    def on_message_complete(self) -> None:
        if self.transport is None:
            return
        self.transport.write(BY_PATH.get(self.url, CHAT_RESPONSE))
        if not self.parser.should_keep_alive():
            self.transport.close()


if __name__ == "__main__":
    sys.exit(main(protocol=_ApiConn))
