"""Fake OpenAI-compatible server that streams instantly: every completion request gets one prebuilt SSE answer.

The same connection handling as ``_upstream.py`` (uvloop + httptools, keep-alive), but the answer is a streamed
text completion (``text/event-stream``: 4 text events, a finish event, a usage event and ``[DONE]``) sent in one
write, so the bench driver in ``benchmarks/selfhost_driver.py`` is measured against a server that costs nothing.

Run: ``python benchmarks/_sse_upstream.py --port N`` (binds 127.0.0.1 only). Prints ``READY <port>`` when listening.
"""

from __future__ import annotations

import sys

import _upstream
import orjson

TOKENS = ("Hello", " from", " the", " bench")
PROMPT_TOKENS, COMPLETION_TOKENS = 512, len(TOKENS)


def _event(payload: object) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def _sse() -> bytes:
    base = {"id": "cmpl-bench", "object": "text_completion", "created": 1_700_000_000, "model": _upstream.MODEL}
    events = [_event({**base, "choices": [{"index": 0, "text": t, "finish_reason": None}]}) for t in TOKENS]
    events.append(_event({**base, "choices": [{"index": 0, "text": "", "finish_reason": "length"}]}))
    events.append(_event({**base, "choices": [], "usage": {"prompt_tokens": PROMPT_TOKENS,
                                                            "completion_tokens": COMPLETION_TOKENS,
                                                            "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS}}))
    body = b"".join(events) + b"data: [DONE]\n\n"
    head = f"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


SSE_RESPONSE = _sse()


class _SseConn(_upstream._Conn):
    def on_message_complete(self) -> None:
        if self.transport is None:
            return
        self.transport.write(SSE_RESPONSE)
        if not self.parser.should_keep_alive():
            self.transport.close()


if __name__ == "__main__":
    sys.exit(_upstream.main(protocol=_SseConn))
