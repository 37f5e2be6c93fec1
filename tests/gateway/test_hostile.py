"""Hostile clients against a real uvicorn server on 127.0.0.1 (in this process): no body is read before the key
is checked, slow uploads get 408 and are closed, bodies in memory are capped, bad shapes get a 400 naming the
field, echoed input is cut to 200 characters, and a client that leaves a stream frees its upstream at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from rawhttp import read_request
from satisfice.gateway.http.app import Gateway
from satisfice.gateway.money.keys import create_key
from satisfice.store import Store

from .conftest import base_config, chat, make_gateway, running, spend_rows


@contextlib.asynccontextmanager
async def served(gw: Gateway) -> AsyncIterator[int]:
    """Serve ``gw`` with uvicorn (httptools) on an ephemeral port; yields the port."""
    config = uvicorn.Config(gw.app, host="127.0.0.1", port=0, lifespan="on", http="httptools", log_level="error",
                            access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


def head(port: int, length: int, key: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()


async def answer_of(reader: asyncio.StreamReader, timeout_s: float = 5.0) -> tuple[int, bytes, bool]:
    """(status, whole answer, whether the server closed the connection after it)."""
    data = await asyncio.wait_for(reader.read(65536), timeout_s)
    status = int(data.split(b" ", 2)[1])
    try:
        rest = await asyncio.wait_for(reader.read(65536), 2.0)
        closed = rest == b""
    except (TimeoutError, ConnectionError):
        closed = False
    return status, data, closed


async def test_no_key_means_no_body_is_read(store: Store, upstream: Any) -> None:
    gw = make_gateway(store, base_config(upstream.base_url, auth=True))
    async with served(gw) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(port, 1_000_000) + b"x" * 1000)  # most of the body never comes
        started = time.perf_counter()
        status, data, closed = await answer_of(reader)
        assert status == 401 and b"invalid_api_key" in data
        assert time.perf_counter() - started < 1.0 and closed
        assert gw.bodies.in_flight == 0
        writer.close()


async def test_a_slow_upload_gets_408_and_is_closed(store: Store, upstream: Any) -> None:
    gw = make_gateway(store, base_config(upstream.base_url, auth=True, limits={"body_timeout_s": 0.5}))
    key = create_key(store, name="t").key
    async with served(gw) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(port, 500_000, key) + b'{"model": "small", "messages": [')
        started = time.perf_counter()
        status, data, closed = await answer_of(reader)
        assert status == 408 and orjson.loads(data.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "request_timeout"
        assert 0.4 < time.perf_counter() - started < 2.0 and closed
        assert gw.bodies.in_flight == 0
        writer.close()
    assert spend_rows(store) == []


async def test_bodies_in_memory_are_capped(store: Store, upstream: Any) -> None:
    limits = {"body_timeout_s": 1.0, "max_body_bytes_in_flight": 150_000}
    gw = make_gateway(store, base_config(upstream.base_url, auth=True, limits=limits))
    key = create_key(store, name="t").key
    async with served(gw) as port:
        stalled = []
        for _ in range(2):  # 2 x 60 KB declared: under the cap, held until their deadline
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head(port, 60_000, key) + b"{")
            stalled.append((reader, writer))
        await asyncio.sleep(0.2)
        assert gw.bodies.in_flight == 120_000
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(port, 60_000, key) + b"{")
        status, data, closed = await answer_of(reader)
        assert status == 503 and b"server_busy" in data and closed
        for r, _ in stalled:
            assert (await answer_of(r))[0] == 408
        assert gw.bodies.in_flight == 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                     headers={"Authorization": f"Bearer {key}"}) as client:
            assert (await client.post("/v1/chat/completions", json=chat())).status_code == 200


@pytest.mark.parametrize("depth", [65, 253, 300, 1019, 1022, 5000])
async def test_deep_nesting_is_a_400_naming_the_field(store: Store, upstream: Any, depth: int) -> None:
    content = "[" * depth + "]" * depth
    body = ('{"model": "small", "messages": [{"role": "user", "content": ' + content + "}]}").encode()
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", content=body)
        ok = await client.post("/v1/chat/completions", json=chat(extra={"a": [[[[[[1]]]]]]}))
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "nesting_too_deep"
    assert error["param"].startswith("messages[0].content[0][0]") if depth < 1020 else error["param"] == "body"
    assert len(error["message"]) < 300
    assert ok.status_code == 200


async def test_long_model_names_are_cut_in_errors(store: Store, upstream: Any) -> None:
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        huge = await client.post("/v1/chat/completions", json=chat(model="m" * 900_000))
        long_unknown = await client.post("/v1/completions", json={"model": "u" * 250, "prompt": "x"})
        path = await client.post("/v1/" + "p" * 5000)
    assert huge.status_code == 400 and huge.json()["error"]["param"] == "model"
    assert len(huge.text) < 500
    assert long_unknown.status_code == 404 and "u" * 196 in long_unknown.text and "u" * 201 not in long_unknown.text
    assert path.status_code == 404 and len(path.text) < 400


async def test_a_client_leaving_a_stream_frees_the_upstream_within_a_second(store: Store) -> None:
    closed_at: list[float] = []

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            event = b'data: {"choices": [{"index": 0, "delta": {"content": "la "}, "finish_reason": null}]}\n\n'
            for _ in range(3):
                writer.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            await writer.drain()
            await _closed_within(reader, 30.0)  # then silence (a model thinking) until someone hangs up
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            closed_at.append(time.perf_counter())
            writer.close()

    upstream = await asyncio.start_server(endless, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{upstream.sockets[0].getsockname()[1]}/v1"
    gw = make_gateway(store, base_config(base))
    try:
        async with served(gw) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            body = orjson.dumps(chat(stream=True))
            writer.write(head(port, len(body)) + body)
            got = b""
            while got.count(b"data: ") < 3:
                got += await asyncio.wait_for(reader.read(4096), 5.0)
            writer.close()
            left = time.perf_counter()
            for _ in range(150):
                if closed_at:
                    break
                await asyncio.sleep(0.01)
            assert closed_at and closed_at[0] - left < 1.0
            for _ in range(100):
                if spend_rows(store):
                    break
                await asyncio.sleep(0.02)
    finally:
        upstream.close()
    rows = spend_rows(store)
    assert len(rows) == 1 and rows[0].outcome == "interrupted" and "client disconnected" in rows[0].errors


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), seconds) == b""
    except TimeoutError:
        return False


async def test_feedback_is_held_to_the_limits_of_chat(store: Store, upstream: Any) -> None:
    gw = make_gateway(store, base_config(upstream.base_url, auth=True,
                                         limits={"body_timeout_s": 0.5, "max_body_bytes": 20_000}))
    key, other = create_key(store, name="t").key, create_key(store, name="u").key

    def feedback_head(port: int, length: int, key: str | None = None) -> bytes:
        return head(port, length, key).replace(b"/v1/chat/completions", b"/v1/feedback", 1)

    async with served(gw) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(feedback_head(port, 1_000_000) + b"x" * 1000)
        started = time.perf_counter()
        status, data, closed = await answer_of(reader)
        assert status == 401 and b"invalid_api_key" in data and closed and time.perf_counter() - started < 1.0
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(feedback_head(port, 10_000, key) + b'{"request_id": "')
        status, data, closed = await answer_of(reader)
        assert status == 408 and closed
        writer.close()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                     headers={"Authorization": f"Bearer {key}"}) as client:
            served_id = (await client.post("/v1/chat/completions", json=chat())).headers["x-satisfice-request-id"]
            huge = await client.post("/v1/feedback", json={"request_id": served_id, "score": 1,
                                                            "comment": "x" * 30_000})
            script = await client.post("/v1/feedback", json={"request_id": "<script>alert(1)</script>" * 4,
                                                              "score": 1})
            short_script = await client.post("/v1/feedback", json={"request_id": "<script>alert(1)</script>",
                                                                    "score": 1})
            theirs = await client.post("/v1/feedback", json={"request_id": served_id, "score": 1},
                                       headers={"Authorization": f"Bearer {other}"})
            mine = await client.post("/v1/feedback", json={"request_id": served_id, "score": 1})
    assert huge.status_code == 413
    assert script.status_code == 400 and script.json()["error"]["param"] == "request_id"
    assert short_script.status_code == 404 and short_script.headers["content-type"] == "application/json"
    assert theirs.status_code == 404 and mine.status_code == 200
    assert gw.bodies.in_flight == 0
