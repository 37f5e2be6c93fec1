"""SSE parsing across chunk boundaries, and synthesized streams."""

from __future__ import annotations

import json

from satisfice.clients.sse import SSEParser
from satisfice.gateway.wire.replies import sse_error, synthesize_stream


def test_parser_handles_any_chunking_and_crlf() -> None:
    stream = b'data: {"a": 1}\r\n\r\n: keep-alive\n\ndata: {"b": 2}\n\ndata: [DONE]\n\n'
    expected = [b'data: {"a": 1}', b": keep-alive", b'data: {"b": 2}', b"data: [DONE]"]
    for size in (1, 2, 3, 7, len(stream)):
        parser = SSEParser()
        events = []
        for i in range(0, len(stream), size):
            events += parser.feed(stream[i:i + size])
        assert events == expected, size


def _events(raw: bytes) -> list[object]:
    out: list[object] = []
    for block in raw.decode().split("\n\n"):
        if block.startswith("data: "):
            payload = block[6:]
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def test_synthesized_chat_stream() -> None:
    data = {"id": "c1", "created": 5, "model": "m", "usage": {"prompt_tokens": 1, "completion_tokens": 2},
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi",
                                                 "tool_calls": [{"id": "t", "type": "function",
                                                                 "function": {"name": "f", "arguments": "{}"}}]},
                         "finish_reason": "tool_calls"}]}
    events = _events(synthesize_stream(data, "chat", include_usage=True))
    first, last, usage, done = events
    assert first["object"] == "chat.completion.chunk" and first["id"] == "c1"  # type: ignore[index]
    assert first["choices"][0]["delta"]["content"] == "hi"  # type: ignore[index]
    assert first["choices"][0]["delta"]["tool_calls"][0]["index"] == 0  # type: ignore[index]
    assert last["choices"][0]["finish_reason"] == "tool_calls"  # type: ignore[index]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 2  # type: ignore[index]
    assert done == "[DONE]"
    assert len(_events(synthesize_stream(data, "chat", include_usage=False))) == 3


def test_synthesized_completion_stream_and_error_event() -> None:
    data = {"choices": [{"index": 0, "text": "four", "finish_reason": "stop"}]}
    first, last, done = _events(synthesize_stream(data, "completions", include_usage=True))
    assert first["choices"][0]["text"] == "four" and first["object"] == "text_completion"  # type: ignore[index]
    assert last["choices"][0]["finish_reason"] == "stop" and done == "[DONE]"  # type: ignore[index]
    (err,) = _events(sse_error("boom"))
    assert err == {"error": {"message": "boom", "type": "upstream_error", "param": None, "code": "stream_interrupted"}}


class _StubStream:
    class response:  # noqa: N801 - attribute shape of the real stream
        @staticmethod
        def abort() -> None:
            return None


class _StubRelay:
    """The parts of a Relay that RelayResponse touches: one pending event, then the upstream's [DONE]."""

    def __init__(self) -> None:
        self.stream = _StubStream()
        self.pending = b'data: {"choices": []}\n\n'
        self.done = False
        self.finished = False
        self.closed = False

    @property
    async def chunks(self):  # type: ignore[no-untyped-def]
        yield b"data: [DONE]\n\n"

    def feed(self, chunk: bytes) -> bytes:
        self.done = True
        return b""

    def tail(self) -> bytes:
        return b"data: [DONE]\n\n"

    def stream_error(self, message: str) -> bytes:
        return b""

    async def close(self, exc: BaseException | None = None) -> None:
        self.closed = True


async def test_stream_spend_row_is_durable_before_the_last_bytes() -> None:
    """A client that received the end of a stream has a journaled spend row (no kill -9 window)."""
    import asyncio

    from satisfice.gateway.apis.relay import RelayResponse

    events: list[str] = []
    relay = _StubRelay()

    async def durable() -> None:
        await asyncio.sleep(0)
        events.append("durable")

    async def receive() -> dict[str, str]:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body" and message.get("more_body") is False:
            events.append("last bytes")

    response = RelayResponse(relay, [], lambda r, error: events.append(f"finish {error}"), durable)  # type: ignore[arg-type]
    await response({"type": "http"}, receive, send)
    assert events == ["finish None", "durable", "last bytes"]
    assert relay.closed
