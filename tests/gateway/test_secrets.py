"""Provider keys never reach a client, a spend row or a log, wherever an upstream puts them in its error text
(the issue's case: a key after ~180 characters of padding, straddling the 200-character excerpt)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator

import orjson
import pytest

from rawhttp import read_request
from satisfice.clients.scripted_server import ScriptedServer, Step
from satisfice.masking import FRAGMENT
from satisfice.store import Store

from .conftest import FAKE_PROVIDER_KEY, base_config, chat, make_gateway, running, spend_rows


def leaked(text: str, key: str = FAKE_PROVIDER_KEY) -> list[str]:
    return [key[i:i + FRAGMENT] for i in range(len(key) - FRAGMENT + 1) if key[i:i + FRAGMENT] in text]


PADS = [0, 150, 160, 165, 170, 175, 180, 185, 190, 195, 200]


@pytest.mark.parametrize("status", [500, 400])
async def test_keys_in_upstream_errors_never_reach_client_or_spend_rows(
        store: Store, upstream: ScriptedServer, status: int, caplog: pytest.LogCaptureFixture) -> None:
    pads = itertools.cycle(PADS)
    upstream.set_script(lambda r: Step.error(status, "p" * next(pads) + FAKE_PROVIDER_KEY + " was refused"))
    gw = make_gateway(store, base_config(upstream.base_url, upstream.base_url,
                                        circuit={"failures": 1000, "cooldown_s": 1}))
    bodies = []
    with caplog.at_level(logging.DEBUG):
        async with running(gw) as client:
            for _ in PADS:
                resp = await client.post("/v1/chat/completions", json=chat())
                assert resp.status_code in (400, 502)
                assert resp.json()["error"]["message"]
                bodies.append(resp.text)
    assert not leaked("".join(bodies))
    rows = spend_rows(store)
    assert len(rows) == len(PADS)
    assert not leaked("".join(r.errors for r in rows))
    assert not leaked(caplog.text)


@pytest.fixture
async def sse_upstream() -> AsyncIterator[str]:
    """Streams one chunk, then an error event whose message carries the provider key after padding."""
    pads = iter(PADS)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await read_request(reader)
                first = {"choices": [{"index": 0, "delta": {"content": "hel"}, "finish_reason": None}]}
                error = {"error": {"message": "q" * next(pads) + FAKE_PROVIDER_KEY}}
                one, two = (b"data: " + orjson.dumps(e) + b"\n\n" for e in (first, error))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: "
                             + str(len(one) + len(two)).encode() + b"\r\n\r\n" + one)
                await writer.drain()
                await asyncio.sleep(0.02)  # the client has its first event: no fallback any more
                writer.write(two)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, StopIteration):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    finally:
        server.close()


async def test_keys_in_a_stream_error_event_are_masked_before_the_cut(store: Store, sse_upstream: str) -> None:
    gw = make_gateway(store, base_config(sse_upstream))
    texts = []
    async with running(gw) as client:
        for _ in PADS:
            resp = await client.post("/v1/chat/completions", json=chat(stream=True))
            assert resp.status_code == 200 and b'"error"' in resp.content, resp.text
            texts.append(resp.text)
    assert not leaked("".join(texts))
    rows = spend_rows(store)
    assert len(rows) == len(PADS) and all(r.outcome == "interrupted" for r in rows)
    assert not leaked("".join(r.errors for r in rows))


async def test_gateway_log_lines_and_tracebacks_are_masked(store: Store, upstream: ScriptedServer,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    gw = make_gateway(store, base_config(upstream.base_url))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("p" * 190 + FAKE_PROVIDER_KEY)

    gw.router.choose = broken  # type: ignore[method-assign,assignment]  # an internal error carrying the key
    with caplog.at_level(logging.ERROR, logger="satisfice.gateway"):
        async with running(gw) as client:
            resp = await client.post("/v1/chat/completions", json=chat())
    assert resp.status_code == 500 and not leaked(resp.text)
    assert "RuntimeError" in caplog.text and "ppp" in caplog.text
    assert not leaked(caplog.text)
