"""HttpTransport (post, stream, loops) and the scripted server's own endpoints."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import httpx
import orjson
import pytest

from satisfice.clients.http import HttpTransport
from satisfice.clients.scripted_server import ScriptedServer, ScriptedServerThread, Step
from satisfice.errors import BadResponse, ConfigError, Timeout, UpstreamUnavailable

CHAT_BODY = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "a b"}], "stream": True,
                          "stream_options": {"include_usage": True}})


def _events(raw: bytes) -> list[Any]:
    out: list[Any] = []
    for block in raw.split(b"\n\n"):
        if block.startswith(b"data: "):
            data = block[len(b"data: "):]
            out.append("[DONE]" if data == b"[DONE]" else orjson.loads(data))
    return out


async def test_post_returns_any_status_raw(server: ScriptedServer, transport: HttpTransport) -> None:
    server.set_script([Step.error(418, "teapot", retry_after=5)])
    raw = await transport.post(server.base_url + "/chat/completions", b'{"messages": []}', {})
    assert raw.status == 418
    assert raw.headers["retry-after"] == "5"  # case-insensitive headers
    assert orjson.loads(raw.body)["error"]["message"] == "teapot"


async def test_stream_chat_sse(server: ScriptedServer, transport: HttpTransport) -> None:
    server.set_script([Step.answer("one two three", prompt_tokens=9)])
    chunks: list[bytes] = []
    async with transport.stream(server.base_url + "/chat/completions", CHAT_BODY, {}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        async for chunk in resp.iter_chunks():
            chunks.append(chunk)
    events = _events(b"".join(chunks))
    assert events[-1] == "[DONE]"
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-2])
    assert text == "one two three"
    assert events[-3]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["usage"] == {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}


async def test_stream_completions_and_read(server: ScriptedServer, transport: HttpTransport) -> None:
    body = orjson.dumps({"model": "m", "prompt": "x", "stream": True})
    async with transport.stream(server.base_url + "/completions", body, {}) as resp:
        events = _events(await resp.read())
    assert "".join(e["choices"][0]["text"] for e in events[:-1]) == "ok"
    assert events[-1] == "[DONE]"


async def test_stream_cut_after_k_events(server: ScriptedServer, transport: HttpTransport) -> None:
    server.set_script([Step.reset_after(2, text="a b c d e f")])
    received = b""
    with pytest.raises(BadResponse, match="truncated"):
        async with transport.stream(server.base_url + "/chat/completions", CHAT_BODY, {}) as resp:
            async for chunk in resp.iter_chunks():
                received += chunk
    events = _events(received)
    assert len(events) == 2 and "[DONE]" not in events


async def test_stream_error_status_is_returned(server: ScriptedServer, transport: HttpTransport) -> None:
    server.set_script([Step.rate_limit(retry_after=1)])
    async with transport.stream(server.base_url + "/chat/completions", CHAT_BODY, {}) as resp:
        assert resp.status == 429
        assert orjson.loads(await resp.read())["error"]["type"] == "rate_limit_error"


async def test_stream_reset_before_answer(server: ScriptedServer, transport: HttpTransport) -> None:
    server.set_script([Step.reset()])
    with pytest.raises(UpstreamUnavailable):
        async with transport.stream(server.base_url + "/chat/completions", CHAT_BODY, {}):
            pass


async def test_stream_idle_timeout_between_chunks(server: ScriptedServer, transport: HttpTransport) -> None:
    server.set_script([Step.answer("a b c", chunk_delay_s=2.0)])
    with pytest.raises(Timeout):
        async with transport.stream(server.base_url + "/chat/completions", CHAT_BODY, {}, timeout_s=0.3) as resp:
            async for _ in resp.iter_chunks():
                pass


async def test_per_call_timeout_overrides_default(server: ScriptedServer, transport: HttpTransport) -> None:
    server.set_script([Step.delay(2.0)])
    with pytest.raises(Timeout, match="within 0.2 s"):
        await transport.post(server.base_url + "/chat/completions", b"{}", {}, timeout_s=0.2)


async def test_invalid_url_is_config_error(transport: HttpTransport) -> None:
    with pytest.raises(ConfigError):
        await transport.post("http://[bad", b"{}", {})


async def test_invalid_request_json_gets_400_and_is_not_scripted(server: ScriptedServer,
                                                                  transport: HttpTransport) -> None:
    server.set_script(["first"])
    raw = await transport.post(server.base_url + "/chat/completions", b"{not json", {})
    assert raw.status == 400
    assert server.requests == []
    raw = await transport.post(server.base_url + "/chat/completions", b'{"messages": []}', {})
    assert orjson.loads(raw.body)["choices"][0]["message"]["content"] == "first"


def test_threaded_server_sync_use_and_transport_across_loops() -> None:
    transport = HttpTransport(timeout_s=5)

    async def call(url: str) -> int:
        try:
            raw = await transport.post(url, b'{"prompt": "p"}', {})
        finally:
            await transport.close()  # closed in its own loop; the next call reopens the pool
        return raw.status

    with ScriptedServerThread(["a", "b"], models=["x", "y"]) as srv:
        assert httpx.get(srv.url + "/health").json() == {"status": "ok"}
        assert [m["id"] for m in httpx.get(srv.base_url + "/models").json()["data"]] == ["x", "y"]
        # two separate event loops: the transport reopens after close()
        assert asyncio.run(call(srv.base_url + "/completions")) == 200
        assert asyncio.run(call(srv.base_url + "/completions")) == 200
        srv.set_script(["c"])
        reply = httpx.post(srv.base_url + "/chat/completions", json={"messages": []}).json()
        assert reply["choices"][0]["message"]["content"] == "c"
        assert [r.path for r in srv.received] == ["/v1/completions"] * 2 + ["/v1/chat/completions"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url + "/health")


def test_server_as_a_process() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "satisfice.clients.scripted_server", "--port", "0",
                             "--text", "fixed answer"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        reply = httpx.post(base_url + "/chat/completions", json={"model": "m", "messages": []}, timeout=5).json()
        assert reply["choices"][0]["message"]["content"] == "fixed answer"
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
