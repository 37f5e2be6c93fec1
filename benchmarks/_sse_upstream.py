"""Fake OpenAI-compatible server that streams instantly: every completion request gets one prebuilt SSE answer.

The same connection handling as ``_upstream.py`` (uvloop + httptools, keep-alive), but the answer is a streamed
text completion (``text/event-stream``: 4 text events, a finish event, a usage event and ``[DONE]``) sent in one
write, so the bench driver in ``benchmarks/selfhost_driver.py`` is measured against a server that costs nothing.

Run: ``python benchmarks/_sse_upstream.py --port N`` (binds 127.0.0.1 only). Prints ``READY <port>`` when listening.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
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


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_SseConn, "127.0.0.1", port, backlog=4096, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {port}", flush=True)
    await stop.wait()
    server.close()


def main(argv: list[str] | None = None) -> int:
    """Parse ``--port`` and serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    import uvloop

    uvloop.run(_serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
