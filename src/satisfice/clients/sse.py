"""Server-sent events as OpenAI-compatible servers stream them: split a byte stream into events, read one event.

The gateway's relay and the self-host bench (over HTTP and in-process) read streams through these, so a stream
is parsed one way: :class:`SSEParser` splits bytes into events, :func:`event_data` and :func:`decode_event` give
an event's JSON object, and :func:`read_chunk` what a chat or completions chunk carries (text, usage, end).
"""

from __future__ import annotations

from typing import Any

from satisfice.clients.openai_compat import decode_answer
from satisfice.clients.usage import parse_usage
from satisfice.core import Usage

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


Chunk = tuple[str, str, Usage | None, bool, bool]
"""What one streamed chat or completions chunk carries, as :func:`read_chunk` returns it (a plain tuple: built
once per relayed event, so nothing is allocated beyond it). In order:

* ``text``: its answer text (``delta.content`` of chat, ``text`` of completions), all choices joined;
* ``reasoning``: its reasoning text (``delta.reasoning_content`` or ``delta.reasoning``) where a choice has no
  answer text: the thinking some servers stream before the answer;
* ``usage``: its usage, read by the shared usage parser (None: the chunk has none);
* ``finished``: a choice carries a ``finish_reason``;
* ``usage_only``: an empty ``choices`` list and a usage: the chunk ``stream_options.include_usage`` asks for.
"""


def read_chunk(obj: dict[str, Any]) -> Chunk:
    """Read one decoded stream chunk (never raises: fields of the wrong type read as absent).

    An ``error`` in the chunk is the caller's to handle first (each reader answers it its own way). Runs once per
    relayed event, so it makes as few calls as it can.
    """
    raw = obj.get("usage")
    usage = None if raw is None else parse_usage(raw)
    text = reasoning = ""
    finished = False
    choices = obj.get("choices")
    if isinstance(choices, list):
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict):
                piece = delta.get("content")
                if not piece:
                    thought = delta.get("reasoning_content") or delta.get("reasoning")
                    if isinstance(thought, str):
                        reasoning += thought
            else:
                piece = choice.get("text")
            if isinstance(piece, str):
                text += piece
            if choice.get("finish_reason"):
                finished = True
    return text, reasoning, usage, finished, choices == [] and usage is not None


__all__ = ["DONE_DATA", "Chunk", "SSEParser", "decode_event", "event_data", "read_chunk"]
