"""The one formatter: amounts read with the precision they need and never in scientific notation."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from satisfice import formatting as f

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64)
PLAIN_USD = re.compile(r"^(-?\$\d{1,3}(,\d{3})*(\.\d+)?|~\$0|-)$")


@pytest.mark.parametrize(("value", "text"), [
    (0, "$0"), (0.000078, "$0.000078"), (7.81e-05, "$0.0000781"), (2.5e-07, "$0.00000025"), (0.5, "$0.50"),
    (0.999, "$0.999"), (0.99999, "$1.00"), (0.0123, "$0.0123"), (1.234, "$1.23"), (12.5, "$12.50"),
    (999.996, "$1,000"), (99.996, "$100"), (730.4, "$730"), (958125.4, "$958,125"), (-3.2, "-$3.20"),
    (1e-12, "~$0"), (None, "-"),
    (float("nan"), "-"), (float("inf"), "-"), (1e20, "$100,000,000,000,000,000,000"),
])
def test_usd_examples(value: float | None, text: str) -> None:
    assert f.usd(value) == text


def test_usd_unknown_text_and_ticks() -> None:
    assert f.usd(None, unknown="unknown") == "unknown"
    assert [f.usd_tick(v) for v in (0.01, 0.5, 2.0, 1000.0, 2.5)] == ["$0.01", "$0.5", "$2", "$1,000", "$2.5"]
    assert f.usd_per_m(0.15) == "$0.15/M" and f.usd_per_m(None) == "-"


@given(ANY_FLOAT)
def test_no_output_is_in_scientific_notation(value: float) -> None:
    texts = [f.usd(value), f.usd(value, trim=True), f.number(value), f.number(value, 6), f.percent(value),
             f.rate(value, "tokens/s"), f.duration(value), f.usd_per_m(value)]
    if math.isfinite(value):
        texts.append(f.count(value))
    for text in texts:
        assert "e-" not in text and "e+" not in text and "E" not in text, (value, text)
    assert PLAIN_USD.match(f.usd(value)), f.usd(value)


@given(st.floats(min_value=1e-9, max_value=1e12))
def test_usd_keeps_the_amount(value: float) -> None:
    text = f.usd(value)
    shown = float(text.replace("$", "").replace(",", ""))
    assert shown == pytest.approx(value, rel=0.005, abs=0.005)  # cents above $1, 3 figures below


@given(st.floats(min_value=-1e15, max_value=1e15))
def test_number_round_trips_to_three_figures(value: float) -> None:
    text = f.number(value)
    if text == "~0":
        assert abs(value) < 1e-11
        return
    assert float(text.replace(",", "")) == pytest.approx(value, rel=0.006, abs=1e-12)


def test_numbers_counts_rates_percentages() -> None:
    assert f.number(123456.7) == "123,457" and f.number(12.345) == "12.3" and f.number(0.000123) == "0.000123"
    assert f.number(91.5, 4) == "91.5" and f.number(None) == "-" and f.number(-0.5) == "-0.5"
    assert f.count(1234567) == "1,234,567" and f.count(None) == "-"
    assert f.rate(1234.5, "tokens/s") == "1,234 tokens/s"  # whole digits are never rounded away
    assert f.percent(0.875) == "87.5%" and f.percent(1.0) == "100%" and f.percent(0.98, 2) == "98%"
    assert f.duration(0.2084) == "208 ms" and f.duration(1.25) == "1.25 s" and f.duration(185) == "3 min 5 s"


def test_dates() -> None:
    assert f.day(dt.date(2023, 3, 14)) == "2023-03-14" == f.day(dt.datetime(2023, 3, 14, 9, 26))
    assert f.day("2023-03-14T09:26:00") == "2023-03-14" and f.day(None) == "-"
    assert f.timestamp(dt.datetime(2023, 3, 14, 9, 26, 53)) == "2023-03-14 09:26 UTC"
    assert f.timestamp(dt.datetime(2023, 3, 14, 10, 26, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == \
        "2023-03-14 09:26 UTC"


def test_log_ticks_follow_one_two_five_and_cover_the_range() -> None:
    assert f.log_ticks(0.3, 40) == [0.2, 0.5, 1, 2, 5, 10, 20, 50]
    wide = f.log_ticks(0.01, 1e6)
    assert wide == [0.01, 0.1, 1, 10, 100, 1000, 1e4, 1e5, 1e6]
    assert f.log_ticks(0, 5) == [1.0]


@given(st.floats(min_value=1e-12, max_value=1e12), st.floats(min_value=1e-12, max_value=1e12))
def test_log_ticks_are_few_increasing_and_cover(a: float, b: float) -> None:
    low, high = min(a, b), max(a, b)
    ticks = f.log_ticks(low, high)
    assert ticks == sorted(set(ticks)) and len(ticks) <= 12
    assert ticks[0] <= low * 1.0000001 or len(ticks) > 1
    kept, labels = f.tick_labels(ticks, f.usd_tick)
    assert len(set(labels)) == len(labels) == len(kept)
    assert all("e-" not in t and "e+" not in t for t in labels)


def test_jinja_filters_are_the_formatters() -> None:
    assert f.JINJA_FILTERS["usd"] is f.usd and f.JINJA_FILTERS["count"] is f.count


@given(st.floats(min_value=-1e9, max_value=1e9), st.floats(min_value=-1e9, max_value=1e9))
def test_linear_ticks_cover_zero_and_the_data_with_distinct_dollar_labels(a: float, b: float) -> None:
    ticks = f.linear_ticks(a, b)
    assert ticks == sorted(set(ticks)) and 2 <= len(ticks) <= 10
    slack = (ticks[1] - ticks[0]) * 1e-6  # within float noise of a whole step
    assert ticks[0] <= min(a, b, 0.0) + slack and ticks[-1] >= max(a, b, 0.0) - slack
    labels = [f.usd_tick(t) for t in ticks]
    if max(abs(a), abs(b)) >= 1e-8:  # steps below a billionth of a dollar read "~$0"
        assert len(set(labels)) == len(labels), labels
