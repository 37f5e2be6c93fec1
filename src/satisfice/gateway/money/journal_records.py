"""The journal's line format and its checks: a checksum and a sequence number per line, every field validated.

A line is ``<crc32 of the payload, 8 hex digits> <payload>`` and a newline. The payload is JSON: a data record
``[seq, period, *spend row fields]`` or a *base* mark ``{"base": n}`` saying that every line up to ``n`` is in the
store (written at the head of each segment, after each truncation, and as the probe that finds a writable disk
again). Sequence numbers grow by one per data line across an instance's segments, so a missing line, segment or
tail shows as a gap.

:func:`check_record` validates the type, sign and range of every field of a data record before it may be credited
to a budget: a journal is a file that a disk, an operator or another program may have damaged.
"""

from __future__ import annotations

import math
import time
import zlib
from typing import Any

import orjson

MAX_USD = 10_000.0
"""The largest cost one request may carry in a journal (larger: the record is quarantined)."""
MAX_TOKENS = 100_000_000


def encode(payload: Any) -> bytes:
    """One journal line for ``payload`` (a data record or a base mark)."""
    data = orjson.dumps(payload)
    return b"".join((b"%08x " % zlib.crc32(data), data, b"\n"))


def base_line(upto: int, *, after_failure: bool = False) -> bytes:
    """The mark that every line up to ``upto`` is in the store.

    ``after_failure``: lines before it were lost to a failed write (their answers were never released, and
    their rows are still queued in memory), so a jump in sequence numbers up to here is no loss.
    """
    return encode({"base": upto, "after_failure": True} if after_failure else {"base": upto})


class BadRecord(ValueError):
    """A journal line that must not be credited; the message names the field or the check that failed."""


def decode(line: bytes) -> Any:
    """The payload of one complete line (without its newline), after its checksum is verified.

    Raises:
        BadRecord: no checksum, a wrong checksum, or a payload that is not JSON.
    """
    head, sep, data = line.partition(b" ")
    if not sep or len(head) != 8:
        raise BadRecord("no checksum")
    try:
        expected = int(head, 16)
    except ValueError:
        raise BadRecord("no checksum") from None
    if zlib.crc32(data) != expected:
        raise BadRecord("checksum mismatch")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise BadRecord("not JSON") from None


def _text(name: str, limit: int, *, optional: bool = False) -> tuple[str, Any]:
    def check(value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str) or len(value) > limit:
            raise BadRecord(f"{name}: expected text of at most {limit} characters")
    return name, check


def _number(name: str, low: float, high: float, *, integer: bool = False, optional: bool = False) -> tuple[str, Any]:
    def check(value: Any) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
            raise BadRecord(f"{name}: expected {'an integer' if integer else 'a number'}, got {type(value).__name__}")
        number = float(value)
        if not math.isfinite(number) or not low <= number <= high:
            raise BadRecord(f"{name}: {value!r} is outside [{low:g}, {high:g}]")
    return name, check


def _flag(name: str) -> tuple[str, Any]:
    def check(value: Any) -> None:
        if not isinstance(value, bool):
            raise BadRecord(f"{name}: expected true or false")
    return name, check


_FIELDS = [  # in SpendRow's field order, after the sequence number and the period
    _number("created_at", 1.5e9, 4.0e9), _text("key_id", 40, optional=True), _text("route", 300),
    _text("endpoint", 100), _flag("stream"), _text("models_tried", 100_000), _text("model", 300, optional=True),
    _text("upstream", 200, optional=True), _number("input_tokens", 0, MAX_TOKENS, integer=True),
    _number("output_tokens", 0, MAX_TOKENS, integer=True), _flag("tokens_estimated"),
    _number("cost_usd", 0.0, MAX_USD), _number("reference_cost_usd", 0.0, MAX_USD, optional=True),
    _number("latency_ms", 0.0, 1e9), _number("escalations", 0, 1000, integer=True), _text("errors", 100_000),
    _number("status", 100, 599, integer=True), _text("outcome", 40), _text("entry_id", 80, optional=True),
    _flag("usage_invalid"), _flag("over_reservation"), _number("reserved_usd", 0.0, MAX_USD, optional=True),
    _text("upstream_api", 20, optional=True), _number("lease_epoch", 0, 2**62, integer=True, optional=True),
]


def check_record(record: Any, instance: str) -> tuple[int, str | None, list[Any]]:
    """``(seq, period, row fields)`` of a data record whose every field is valid.

    Raises:
        BadRecord: naming the first field that is missing, of the wrong type, negative or out of range, or an
            ``entry_id`` of another instance.
    """
    if not isinstance(record, list) or len(record) != len(_FIELDS) + 2:
        raise BadRecord(f"expected a list of {len(_FIELDS) + 2} fields")
    seq, period, *row = record
    _number("seq", 1, 2**62, integer=True)[1](seq)
    _text("period", 20, optional=True)[1](period)
    for (_, check), value in zip(_FIELDS, row, strict=True):
        check(value)
    if row[0] > time.time() + 86_400:
        raise BadRecord("created_at: in the future")
    entry_id = row[18]
    if entry_id is not None and entry_id.rpartition(":")[0] != instance:
        raise BadRecord("entry_id: belongs to another instance")
    return seq, period, row


__all__ = ["MAX_USD", "BadRecord", "base_line", "check_record", "decode", "encode"]
