"""CPU seconds the gateway's request path spends per request, measured in-process (no sockets, no server).

Builds a :class:`~satisfice.gateway.Gateway` on a temporary SQLite store with an in-memory upstream transport
(a fixed chat answer, or a fixed stream of SSE chunks), then calls the ASGI app directly with prebuilt scopes:
``--requests`` non-streaming and as many streaming chat requests, after a warm-up. Prints one JSON document:
this process's CPU microseconds per request (``time.process_time``, all threads: the spend-log writer included)
and wall microseconds, for each kind. CPU time is the figure to compare on a shared, loaded machine; with
``--calls`` the measured loop instead counts the Python and C function calls the event loop's thread makes per
request (``sys.setprofile``), a figure that does not move with the machine's load (timings are then inflated).

Run: ``.venv/bin/python benchmarks/gateway_request_cpu.py [--requests 4000] [--calls] [--kind chat|stream]``.
Under ``valgrind --tool=callgrind`` two runs of different ``--requests`` give instructions per request by
difference, a count the machine's load does not move.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import yaml

from satisfice.clients.http import RawResponse
from satisfice.gateway.http.app import Gateway
from satisfice.gateway.routes.config import parse_config
from satisfice.store import open_store

ANSWER = orjson.dumps({"id": "x", "object": "chat.completion", "model": "m", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "ok, four words"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 4}})
CHUNKS = [b'data: {"choices":[{"index":0,"delta":{"content":"word "}}]}\n\n'] * 8 + [
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    b'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":8}}\n\n', b"data: [DONE]\n\n"]


class _Stream:
    status = 200
    headers: Mapping[str, str] = {"content-type": "text/event-stream"}

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        for chunk in CHUNKS:
            yield chunk

    def abort(self) -> None:
        """Nothing to drop."""


class MemoryTransport:
    """An upstream answering from memory: what the gateway does around the call is all that is measured."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], *,
                   timeout_s: float | None = None) -> RawResponse:
        return RawResponse(200, {"content-type": "application/json"}, ANSWER)

    @asynccontextmanager
    async def _stream(self) -> AsyncIterator[_Stream]:
        yield _Stream()

    def stream(self, url: str, body: bytes, headers: Mapping[str, str], *, timeout_s: float | None = None) -> Any:
        return self._stream()

    async def close(self) -> None:
        """Nothing to close."""


def config(home: Path) -> dict[str, Any]:
    price = {"input_per_m": 1.0, "output_per_m": 2.0}
    return {"auth": False, "spend_log": {"flush_interval_s": 1.0}, "ledger": {"journal_dir": str(home / "j")},
            "upstreams": [{"name": "a", "base_url": "http://127.0.0.1:9/v1", "models": {"m": None},
                           "prices": {"m": price}}]}


async def _call(app: Any, body: bytes) -> int:
    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "root_path": "", "scheme": "http",
             "query_string": b"", "headers": [(b"content-type", b"application/json"),
                                             (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 1), "server": ("gw", 80), "http_version": "1.1"}
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(gw: Gateway, body: bytes, n: int, calls: bool) -> dict[str, float]:
    for _ in range(200):
        assert await _call(gw.app, body) == 200
    await gw.spend_log.flush()
    count = [0]

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            count[0] += 1

    cpu, wall = time.process_time(), time.perf_counter()
    if calls:
        sys.setprofile(profile)
    for _ in range(n):
        await _call(gw.app, body)
    sys.setprofile(None)
    await gw.spend_log.flush()
    out = {"cpu_us": round((time.process_time() - cpu) / n * 1e6, 1),
           "wall_us": round((time.perf_counter() - wall) / n * 1e6, 1)}
    if calls:
        out["calls"] = round(count[0] / n, 1)
    return out


async def run(n: int, calls: bool, kind: str = "both") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = open_store(f"sqlite:///{home / 'bench.db'}")
        gw = Gateway(parse_config(yaml.safe_dump(config(home))), store, transport=MemoryTransport())  # type: ignore[arg-type]
        chat = {"model": "m", "messages": [{"role": "user", "content": "Say ok."}], "max_tokens": 16}
        async with gw.running():
            whole = await measure(gw, orjson.dumps(chat), n, calls) if kind != "stream" else None
            streamed = (await measure(gw, orjson.dumps({**chat, "stream": True}), n, calls) if kind != "chat"
                        else None)
        store.close()
        return {"requests": n, "chat": whole, "chat_stream": streamed, "loadavg_1m": os.getloadavg()[0]}


def main() -> None:
    """Measure; print one JSON document."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--calls", action="store_true", help="count function calls per request instead of timing")
    p.add_argument("--kind", choices=["both", "chat", "stream"], default="both", help="which requests to send")
    args = p.parse_args()
    print(json.dumps(asyncio.run(run(args.requests, args.calls, args.kind)), indent=2))


if __name__ == "__main__":
    main()
