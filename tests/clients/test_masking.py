"""Masking before shortening: keys of every shape, placed at and across every truncation boundary, leave no
fragment of FRAGMENT characters or more in any excerpt or message."""

from __future__ import annotations

import logging

import orjson
import pytest

from satisfice.clients.http import error_excerpt, error_for_status
from satisfice.masking import FRAGMENT, MaskingFilter, forget_all, mask, remember, shorten

KEYS = {
    "openai project": "sk-proj-Qm3vT8xK2pL9wR4nY7bZ1cF6hJ0dS5gA",
    "groq": "gsk_8fK2mQ9xL3vR7tY1nB5cW0zH4jD6sP2aE9uI3oG7kM1qX5rT8yV",
    "anthropic": "sk-ant-api03-Zx7Qw2Er5Ty8Ui1Op4As6Df9Gh3Jk0Lz",
    "no prefix, mixed": "Zq8wL2mX9pR4tY7uB3nV6cK1jH5gF0dSa",
    "no prefix, hex": "3f9a2c7e1b8d4f6a0e5c9b2d7f1a8e3c",
    "no prefix, short": "Qx7Lm2Rt9Wk4",
}
BOUNDARIES = [200, 300, 4000]  # excerpts and stream errors; an eval's error example; the eval error row


def leaked(text: str, key: str) -> list[str]:
    return [key[i:i + FRAGMENT] for i in range(len(key) - FRAGMENT + 1) if key[i:i + FRAGMENT] in text]


@pytest.fixture(autouse=True)
def _clean() -> None:
    forget_all()


@pytest.mark.parametrize("shape", list(KEYS))
@pytest.mark.parametrize("limit", BOUNDARIES)
def test_no_fragment_at_or_across_any_cut(shape: str, limit: int) -> None:
    key = KEYS[shape]
    for at in range(max(0, limit - len(key) - 4), limit + 4):
        text = "x " * (at // 2) + ("x" if at % 2 else "") + key + " and more words after the key"
        assert not leaked(shorten(text, limit, [key]), key), (shape, at)
        if limit == 200:
            body = orjson.dumps({"error": {"message": text}})
            assert not leaked(error_excerpt(body, secrets=[key]), key), (shape, at)
            assert not leaked(error_excerpt(text.encode(), secrets=[key]), key), (shape, at)
            err = error_for_status(500, {}, body, where="up", secrets=[key])
            assert err is not None and not leaked(str(err), key)


@pytest.mark.parametrize("shape", list(KEYS))
def test_a_remembered_key_is_masked_without_being_passed(shape: str) -> None:
    key = KEYS[shape]
    remember(key)
    for at in range(190, 201):
        body = orjson.dumps({"error": {"message": "p" * at + key}})
        assert not leaked(error_excerpt(body), key)


@pytest.mark.parametrize("shape", ["openai project", "groq", "anthropic", "no prefix, mixed", "no prefix, hex"])
def test_key_shaped_strings_are_masked_even_when_nobody_configured_them(shape: str) -> None:
    key = KEYS[shape]
    for at in (0, 150, 180, 190, 196, 197, 198, 199):
        excerpt = error_excerpt(orjson.dumps({"error": {"message": "y" * at + " " + key + " tail"}}))
        assert not leaked(excerpt, key), (shape, at)


def test_fragments_of_a_configured_key_are_masked() -> None:
    key = KEYS["openai project"]
    text = f"the key {key[:-1]} was cut by the provider; here its tail {key[20:]}"
    out = mask(text, [key])
    assert not leaked(out, key)
    assert out.startswith("the key *** was cut")


def test_the_first_finding_37_of_38_characters() -> None:
    """The issue's case: 180 characters of padding, then a 38-character key, cut at 197 before masking."""
    key = "sk-test-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5"
    assert len(key) == 38
    body = orjson.dumps({"error": {"message": "e" * 180 + key}})
    assert not leaked(error_excerpt(body, secrets=[key]), key)


def test_ordinary_text_survives() -> None:
    text = ("model gpt-4o-mini-2024-07-18 at https://api.example.com/v1/chat/completions: context length 128000 "
            "exceeded, use max_tokens below 4096; request_id req_short")
    assert mask(text) == text
    assert mask("Authorization: Bearer abcdefgh12345678") == "Authorization: Bearer ***"


def test_log_records_are_masked_with_their_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    key = KEYS["no prefix, mixed"]
    remember(key)
    log = logging.getLogger("satisfice.test.masking")
    log.addFilter(MaskingFilter())
    try:
        with caplog.at_level(logging.INFO, logger="satisfice.test.masking"):
            log.info("upstream said %s", "z" * 190 + key)
            try:
                raise RuntimeError(f"failed with {key}")
            except RuntimeError:
                log.exception("boom")
        text = caplog.text
        assert "upstream said" in text and "boom" in text and "RuntimeError" in text
        assert not leaked(text, key)
    finally:
        log.filters.clear()
