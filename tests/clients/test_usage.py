"""The one usage parser: counts read, untrustworthy reports flagged (never raised), one cost function."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satisfice.clients.usage import MAX_TOKENS, parse_usage
from satisfice.core import Price, Usage


def test_reads_every_kind_of_token() -> None:
    usage = parse_usage({"prompt_tokens": 100, "completion_tokens": 40,
                         "prompt_tokens_details": {"cached_tokens": 60},
                         "completion_tokens_details": {"reasoning_tokens": 30}})
    assert usage == Usage(100, 40, 60, 30)
    assert usage.valid and usage.invalid_reason is None


def test_null_details_read_as_zero() -> None:
    usage = parse_usage({"prompt_tokens": 3, "completion_tokens": 2, "prompt_tokens_details": None,
                         "completion_tokens_details": {"reasoning_tokens": None}})
    assert usage == Usage(3, 2)


@pytest.mark.parametrize(("raw", "reason"), [
    (None, "no usage"),
    ([1, 2], "not an object"),
    ({"completion_tokens": 1}, "prompt_tokens is not a token count: None"),
    ({"prompt_tokens": True, "completion_tokens": 1}, "prompt_tokens is not a token count: True"),
    ({"prompt_tokens": 1, "completion_tokens": -1000000}, "completion_tokens is negative"),
    ({"prompt_tokens": 1.5, "completion_tokens": 1}, "not a token count: 1.5"),
    ({"prompt_tokens": 1.0, "completion_tokens": 1}, "not a token count: 1.0"),
    ({"prompt_tokens": "7", "completion_tokens": 1}, "not a token count: '7'"),
    ({"prompt_tokens": 1, "completion_tokens": MAX_TOKENS + 1}, "implausibly large"),
    ({"prompt_tokens": 1, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": -3}}, "negative"),
    ({"prompt_tokens": 1, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 2}}, "exceeds"),
    ({"prompt_tokens": 1, "completion_tokens": 1, "prompt_tokens_details": 5}, "not an object"),
    ({"prompt_tokens": 1, "completion_tokens": 1, "completion_tokens_details": {"reasoning_tokens": False}},
     "reasoning_tokens is not a token count"),
    ({"prompt_tokens": 1, "completion_tokens": 1, "completion_tokens_details": {"reasoning_tokens": 9}}, "exceeds"),
])
def test_untrustworthy_usage_is_flagged_not_raised(raw: Any, reason: str) -> None:
    usage = parse_usage(raw)
    assert not usage.valid
    assert usage.invalid_reason is not None and reason in usage.invalid_reason
    assert (usage.input_tokens, usage.output_tokens) == (0, 0)


def test_cached_input_billed_at_its_own_price() -> None:
    price = Price(input_per_m=2.0, output_per_m=8.0, cached_input_per_m=0.5)
    usage = parse_usage({"prompt_tokens": 1_000_000, "completion_tokens": 0,
                         "prompt_tokens_details": {"cached_tokens": 500_000}})
    assert price.cost(usage) == pytest.approx(0.5 * 2.0 + 0.5 * 0.5)
    assert Price(2.0, 8.0).cost(usage) == pytest.approx(2.0)  # no cached price: the input price


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["prompt_tokens", "completion_tokens", "prompt_tokens_details",
                                        "completion_tokens_details"]),
                       st.one_of(st.integers(-10**12, 10**12), st.booleans(), st.floats(allow_nan=True),
                                 st.none(), st.text(max_size=3),
                                 st.dictionaries(st.sampled_from(["cached_tokens", "reasoning_tokens"]),
                                                 st.one_of(st.integers(-10**9, 10**9), st.booleans())))))
def test_never_raises_and_never_a_negative_cost(raw: dict[str, Any]) -> None:
    usage = parse_usage(raw)
    assert Price(1.0, 2.0, 0.1).cost(usage) >= 0.0
    if usage.valid:
        assert min(usage.input_tokens, usage.output_tokens, usage.cached_input_tokens, usage.reasoning_tokens) >= 0
        assert usage.cached_input_tokens <= usage.input_tokens <= MAX_TOKENS


def test_cost_never_negative_even_for_a_hand_made_usage() -> None:
    assert Price(1.0, 1.0).cost(Usage(-5, -1_000_000)) == 0.0


def test_sum_keeps_invalidity() -> None:
    total = Usage(1, 1) + parse_usage({"prompt_tokens": -1, "completion_tokens": 0})
    assert not total.valid and total.invalid_reason is not None


def test_billed_usage_tells_a_missing_usage_from_an_invalid_one() -> None:
    from satisfice.clients.usage import billed_usage, reported_usage

    good = reported_usage({"prompt_tokens": 3, "completion_tokens": 2})
    usage, estimated, invalid = billed_usage(good, 10, "abcdefgh")
    assert (usage.input_tokens, usage.output_tokens, estimated, invalid) == (3, 2, False, False)
    usage, estimated, invalid = billed_usage(reported_usage(None), 10, "abcdefgh")
    assert (usage.input_tokens, usage.output_tokens) == (10, 2)
    assert estimated and not invalid and usage.invalid_reason == "answer has no usage"
    lie = reported_usage({"prompt_tokens": 3, "completion_tokens": -2})
    usage, estimated, invalid = billed_usage(lie, 10, "abcdefgh")
    assert estimated and invalid and "negative" in (usage.invalid_reason or "")


def test_read_chunk_reads_chat_and_completions_chunks() -> None:
    from satisfice.clients.sse import read_chunk

    assert read_chunk({"choices": [{"delta": {"content": "hi"}, "finish_reason": None}]}) == ("hi", "", None, False,
                                                                                             False)
    assert read_chunk({"choices": [{"delta": {"content": None, "reasoning_content": "hm"}}]})[:2] == ("", "hm")
    assert read_chunk({"choices": [{"delta": {"reasoning": "so"}}]})[1] == "so"
    text, _, _, finished, _ = read_chunk({"choices": [{"text": "yo", "finish_reason": "length"}]})
    assert text == "yo" and finished
    _, _, usage, _, usage_only = read_chunk({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 1}})
    assert usage_only and usage is not None and usage.input_tokens == 4
    text, _, usage, _, usage_only = read_chunk({"choices": ["x", {"delta": {"content": 5}}],
                                                "usage": {"prompt_tokens": -1}})
    assert text == "" and usage is not None and not usage.valid and not usage_only
