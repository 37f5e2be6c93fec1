"""The simplest eval client that does the same HTTP work, as the floor ``eval_throughput.py`` measures beside satisfice.

It reads the same ``data.jsonl``, sends each item's chat request (the same JSON body satisfice sends for the
task) on C keep-alive connections opened by C workers, parses each answer (httptools, orjson) and compares its
text with the label; nothing else: no store, no durability, no retries, no pricing, no progress. uvloop and a
bare ``asyncio.Protocol``, as satisfice's own transport. What it reaches is what any Python client can expect of
this machine and this server; the gap between it and satisfice is the cost of satisfice's guarantees.

    python benchmarks/_bare_eval_client.py DATA.jsonl URL --model M --max-tokens N --concurrency C --stats OUT.json

OUT.json: ``run_s`` (first request to last answer), ``run_cpu_s``, ``items``, ``correct``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httptools
import orjson
import uvloop


class _Conn(asyncio.Protocol):
    """One keep-alive connection: write a request, complete ``waiter`` with the answer's body."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[bytes] | None = None
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        body, self.body = b"".join(self.body), []
        if waiter is not None and not waiter.done():
            waiter.set_result(body)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost"))


async def run(rows: list[dict[str, str]], url: str, model: str, max_tokens: int,
              concurrency: int) -> dict[str, float]:
    """Send every row's request with ``concurrency`` workers; time and count the answers."""
    parts = urlsplit(url + "/chat/completions")
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\ncontent-type: application/json\r\n".encode()
    pending = iter(rows)
    correct = 0

    async def worker() -> None:
        nonlocal correct
        conn: _Conn | None = None
        for row in pending:
            body = orjson.dumps({"model": model, "messages": [{"role": "user", "content": row["text"]}],
                                 "max_tokens": max_tokens})
            if conn is None:
                _, conn = await loop.create_connection(_Conn, host, port)
            assert conn.transport is not None
            conn.waiter = loop.create_future()
            conn.transport.write(head + b"content-length: %d\r\n\r\n" % len(body) + body)
            answer = orjson.loads(await conn.waiter)
            correct += answer["choices"][0]["message"]["content"].strip() == row["label"]

    started, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"run_s": round(time.monotonic() - started, 3), "run_cpu_s": round(time.process_time() - cpu, 3),
            "items": len(rows), "correct": correct}


def main(argv: list[str] | None = None) -> int:
    """Run the items once, write the figures to ``--stats``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data")
    parser.add_argument("url", help="the server's OpenAI base URL, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--model", required=True, help="the model name sent (the task's provider_model)")
    parser.add_argument("--max-tokens", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--stats", required=True)
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in Path(args.data).read_text(encoding="utf-8").splitlines() if line]
    stats = uvloop.run(run(rows, args.url, args.model, args.max_tokens, args.concurrency))
    Path(args.stats).write_text(json.dumps(stats), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
