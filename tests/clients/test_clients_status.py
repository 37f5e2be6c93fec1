"""error_for_status, Retry-After parsing and redaction."""

from __future__ import annotations

import email.utils

import orjson
import pytest
from multidict import CIMultiDict

from satisfice.clients.http import error_excerpt, error_for_status, parse_retry_after, redact
from satisfice.errors import BadResponse, ProviderError, RateLimited, Timeout, UpstreamUnavailable

KEY = "sk-live-0123456789abcdefXYZ"


def _body(message: str) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": "x"}})


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_success_is_no_error(status: int) -> None:
    assert error_for_status(status, {}, b"{}", where="m") is None


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (400, ProviderError, False),
        (401, ProviderError, False),
        (403, ProviderError, False),
        (404, ProviderError, False),
        (422, ProviderError, False),
        (302, ProviderError, False),
        (408, Timeout, True),
        (429, RateLimited, True),
        (500, UpstreamUnavailable, True),
        (502, UpstreamUnavailable, True),
        (503, UpstreamUnavailable, True),
        (504, UpstreamUnavailable, True),
    ],
)
def test_status_table(status: int, kind: type[ProviderError], retryable: bool) -> None:
    err = error_for_status(status, {}, _body("nope"), where="model-x")
    assert type(err) is kind
    assert err.status == status
    assert err.retryable is retryable
    assert str(err) == f"model-x: HTTP {status}: nope"
    assert not isinstance(err, BadResponse)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"RETRY-AFTER": " 0 "}, 0.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "bad", "Retry-After": "2"}, 2.0),
        ({}, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    err = error_for_status(429, headers, b"", where="m")
    assert isinstance(err, RateLimited)
    assert err.retry_after == expected


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    future = email.utils.formatdate(now + 120, usegmt=True)
    past = email.utils.formatdate(now - 120, usegmt=True)
    assert parse_retry_after({"Retry-After": future}, now=now) == pytest.approx(120.0)
    assert parse_retry_after({"Retry-After": past}, now=now) == 0.0
    assert parse_retry_after(CIMultiDict({"retry-after": future}), now=now) == pytest.approx(120.0)


def test_message_excerpt_is_short_and_one_line() -> None:
    err = error_for_status(400, {}, _body("line one\n\nline two " + "x" * 1000), where="m")
    assert err is not None
    text = str(err)
    assert "\n" not in text
    assert text.startswith("m: HTTP 400: line one line two")
    assert len(text) < 260


@pytest.mark.parametrize(
    ("body", "excerpt"),
    [
        (b'{"error": "plain string"}', "plain string"),
        (b'{"message": "top level"}', "top level"),
        (b'{"detail": "fastapi style"}', "fastapi style"),
        (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
        (b"", ""),
    ],
)
def test_excerpt_shapes(body: bytes, excerpt: str) -> None:
    assert error_excerpt(body) == excerpt


def test_no_key_in_messages_even_if_provider_echoes_it() -> None:
    headers = {"Authorization": f"Bearer {KEY}", "Retry-After": "1"}
    for status in (400, 401, 429, 500):
        err = error_for_status(status, headers, _body(f"Incorrect API key provided: {KEY}"), where="m",
                               secrets=(KEY,))
        assert err is not None
        assert KEY not in str(err)
        assert "Authorization" not in str(err)
    # key-shaped strings are masked even when the caller did not name the secret
    err = error_for_status(401, {}, _body(f"bad key {KEY}"), where="m")
    assert err is not None and KEY not in str(err)


def test_redact() -> None:
    assert redact("Bearer abc.def-123 rest") == "Bearer *** rest"
    assert redact("token hunter2 here", ["hunter2"]) == "token *** here"
    assert redact("the model gpt-4o-mini failed") == "the model gpt-4o-mini failed"
