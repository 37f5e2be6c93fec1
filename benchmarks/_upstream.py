"""Fastest-possible fake OpenAI-compatible upstream for the gateway benchmark.

One process, uvloop + httptools, HTTP/1.1 keep-alive, no think time: every request gets the same prebuilt bytes
(a fixed chat completion with ``usage``; a tiny model list for ``GET .../models``). It is deliberately not a web
framework, so that it is never the bottleneck of ``benchmarks/gateway_overhead.py``.

Run: ``python benchmarks/_upstream.py --port N`` (binds 127.0.0.1 only). Prints ``READY <port>`` when listening.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
from typing import cast

import httptools
import orjson

MODEL = "bench-model"

CHAT = orjson.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop", "logprobs": None}
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
    }
)
MODELS = orjson.dumps({"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "bench"}]})


def _response(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


CHAT_RESPONSE = _response(CHAT)
MODELS_RESPONSE = _response(MODELS)
CLOSE_RESPONSE = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class _Conn(asyncio.Protocol):
    """One client connection: parse requests and answer each on message completion."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.write(CLOSE_RESPONSE)
                self.transport.close()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_message_complete(self) -> None:
        if self.transport is None:
            return
        if self.parser.get_method() == b"GET" and self.url.endswith(b"/models"):
            self.transport.write(MODELS_RESPONSE)
        else:
            self.transport.write(CHAT_RESPONSE)
        if not self.parser.should_keep_alive():
            self.transport.close()


async def _serve(port: int, protocol: type[asyncio.Protocol] = _Conn) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, "127.0.0.1", port, backlog=4096, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {port}", flush=True)
    await stop.wait()
    server.close()


def main(argv: list[str] | None = None, protocol: type[asyncio.Protocol] = _Conn) -> int:
    """Parse ``--port`` and serve with ``protocol`` until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.run(_serve(args.port, protocol))
    except ImportError:
        asyncio.run(_serve(args.port, protocol))
    return 0


if __name__ == "__main__":
    sys.exit(main())
