"""Masking secrets out of text: every configured provider key and anything shaped like an API key.

The one rule: mask first, shorten after. :func:`shorten` masks the whole text and only then cuts it, so a key
that straddles a cut can never leave a fragment behind; every excerpt, error message, spend row and log line
that may carry text from a provider goes through it (or through :func:`mask` when nothing is cut).

What is masked, each replaced by ``***``:

* every secret passed in, and every secret :func:`remember`-ed in this process (provider keys are remembered
  when they are read from the environment), and any run of :data:`FRAGMENT` or more consecutive characters of
  one (a provider that echoes part of a key, or text that was cut by someone else before it reached us);
* tokens shaped like a key: a known vendor prefix (``sk-``, ``gsk_``, ``xai-``, ``hf_``, ``AIza``, ...) followed
  by 12 or more key characters; anything after ``Bearer``; and, without any prefix, a token of 24 or
  more characters that holds a run of 20 letters and digits mixing both (random keys, hex digests).

What is not promised: a fragment shorter than :data:`FRAGMENT` characters of a configured key that is not
shaped like a key, and keys that are neither configured nor key-shaped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

FRAGMENT = 8
"""Runs of this many consecutive characters of a known secret are masked wherever they appear."""
MASK = "***"
_MIN_SECRET = 4
_SCAN_CHARS = 65_536
""":func:`shorten` masks at most this many leading characters (far more than any excerpt keeps)."""

_known: set[str] = set()

_PREFIXES = (r"sk-ant-|sk-proj-|sk-or-v1-|sk-|sk_|rk_|pk_|gsk_|xai-|tgp_v1_|fw_|hf_|pplx-|r8_|nvapi-|csk-|"
             r"AIza|ghp_|gho_|github_pat_|glpat-|xox[abpr]-|AKIA")
_KEY_SHAPED = re.compile(
    r"(?P<auth>\b(?i:bearer)\s+)[A-Za-z0-9._~+/=\-]{8,}"
    rf"|(?P<prefixed>(?<![A-Za-z0-9])(?:{_PREFIXES})[A-Za-z0-9_\-]{{12,}})"
    r"|(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{24,}")
_MIXED_RUN = re.compile(r"[A-Za-z0-9]{20,}")


def remember(secret: str | None) -> None:
    """Add a secret (a provider key read from the environment) to what this process always masks."""
    if secret and len(secret) >= _MIN_SECRET and secret not in _known:
        if len(_known) >= 4096:  # keys rotate rarely; a bound keeps a misuse from growing without end
            _known.clear()
        _known.add(secret)


def forget_all() -> None:
    """Forget every remembered secret (tests)."""
    _known.clear()


def _random_looking(token: str) -> bool:
    for run in _MIXED_RUN.findall(token):
        if any(c.isdigit() for c in run) and any(c.isalpha() for c in run):
            return True
    return False


def _replace(match: re.Match[str]) -> str:
    auth = match.group("auth")
    if auth is not None:
        return auth + MASK
    if match.group("prefixed") is not None:
        return MASK
    token = match.group(0)
    return MASK if _random_looking(token) else token


def _covered(text: str, secrets: Iterable[str]) -> bytearray | None:
    """Positions of ``text`` inside a secret or a run of FRAGMENT+ characters of one (None: nothing found)."""
    marks: bytearray | None = None
    for secret in secrets:
        size = len(secret)
        if size < _MIN_SECRET:
            continue
        grams = [secret] if size <= FRAGMENT else [secret[i:i + FRAGMENT] for i in range(size - FRAGMENT + 1)]
        width = min(size, FRAGMENT)
        for gram in grams:
            at = text.find(gram)
            while at >= 0:
                if marks is None:
                    marks = bytearray(len(text))
                marks[at:at + width] = b"\x01" * width
                at = text.find(gram, at + 1)
    return marks


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with ``secrets``, every remembered secret, their long fragments and key-shaped tokens masked."""
    if not text:
        return text
    wanted = [s for s in secrets if s]
    marks = _covered(text, [*wanted, *_known] if _known else wanted)
    if marks is not None:
        out: list[str] = []
        i, size = 0, len(text)
        while i < size:
            if marks[i]:
                while i < size and marks[i]:
                    i += 1
                out.append(MASK)
            else:
                j = marks.find(1, i)
                j = size if j < 0 else j
                out.append(text[i:j])
                i = j
        text = "".join(out)
    return _KEY_SHAPED.sub(_replace, text)


def shorten(text: str, limit: int, secrets: Iterable[str] = (), *, one_line: bool = False) -> str:
    """``text`` masked, then cut to ``limit`` characters (ending in ``...`` when cut); optionally on one line."""
    if len(text) > _SCAN_CHARS:
        text = text[:_SCAN_CHARS]
    text = mask(text, secrets)
    if one_line:
        text = " ".join(text.split())
    if len(text) > limit:
        text = text[: max(limit - 3, 0)] + "..."
    return text


class MaskingFilter(logging.Filter):
    """A logging filter that masks the message and traceback of every record passing through it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(secrets)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask in place; never drops a record."""
        record.msg = mask(record.getMessage(), self._secrets)
        record.args = None
        if record.exc_info:
            record.exc_text = mask(self._formatter.formatException(record.exc_info), self._secrets)
            record.exc_info = None
        return True


def install_log_masking(*logger_names: str) -> None:
    """Attach one :class:`MaskingFilter` to each named logger (idempotent)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())


__all__ = ["FRAGMENT", "MASK", "MaskingFilter", "forget_all", "install_log_masking", "mask", "remember", "shorten"]
