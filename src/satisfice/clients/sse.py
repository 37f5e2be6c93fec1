"""Server-sent events as OpenAI-compatible servers stream them: split a byte stream into events, decode one event.

The gateway's relay and the self-host bench both read streams through these, so a stream is parsed one way.
"""

from __future__ import annotations

from typing import Any

from satisfice.clients.openai_compat import decode_answer

DONE_DATA = b"[DONE]"


class SSEParser:
    """Splits a byte stream into SSE events (blank-line separated), whatever the chunk boundaries."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """Complete events in ``chunk`` (plus what was left over before)."""
        buf = self._buf + chunk if self._buf else chunk
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n")
        parts = buf.split(b"\n\n")
        self._buf = parts.pop()
        return [p for p in parts if p.strip()]


def event_data(event: bytes) -> bytes | None:
    """The data of one event (its ``data:`` lines joined), or None for a comment or keep-alive."""
    data = [line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:")]
    if not data:
        return None
    return data[0] if len(data) == 1 else b"\n".join(data)


def decode_event(payload: bytes, where: str, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON object an event carries; BadResponse (masked excerpt) when it is malformed or not an object."""
    return decode_answer(payload, where, secrets, what="stream event")


__all__ = ["DONE_DATA", "SSEParser", "decode_event", "event_data"]
