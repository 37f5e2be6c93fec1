"""Plotly axes built from the data: time ranges that fit the buckets, 1-2-5 log ticks with one label each."""

from __future__ import annotations

import datetime as dt
import math

from satisfice.formatting import usd_tick
from satisfice.reports.plot_axes import (
    DAY_MS,
    HOUR_MS,
    bucket_width,
    count_axis,
    layout,
    log_axis,
    money_axis,
    plot_text,
    time_axis,
)


def _span_h(a: dict) -> float:
    start, end = (dt.datetime.fromisoformat(v) for v in a["range"])
    return (end - start).total_seconds() / 3600


def test_one_hourly_bucket_shows_a_day_in_hours() -> None:
    a = time_axis("t", ["2026-12-07 06:00"], "hour")
    assert _span_h(a) == 24 and a["dtick"] == 3 * HOUR_MS and "%H:%M" in a["tickformat"]
    assert bucket_width("hour") == int(0.8 * HOUR_MS) < _span_h(a) * HOUR_MS / 10  # a bar never fills the chart


def test_one_day_shows_a_week_of_days_and_a_year_shows_months() -> None:
    day = time_axis("t", ["2026-12-07"])
    assert _span_h(day) == 7 * 24 and day["dtick"] == DAY_MS and "%H" not in day["tickformat"]
    year = time_axis("t", [(dt.date(2026, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(365)])
    assert year["dtick"] == "M1" and year["tickformat"] == "%b %Y"
    assert time_axis("t", [])["type"] == "date"  # an empty store still gets a sane axis


def test_log_axis_ticks_are_one_two_five_and_cover_the_data() -> None:
    a = log_axis("USD", [0.00012, 0.0004, 3.4], usd_tick)
    assert a["type"] == "log" and len(set(a["ticktext"])) == len(a["ticktext"])
    assert all(t.startswith("$") and "e-" not in t for t in a["ticktext"])
    assert 10 ** a["range"][0] <= 0.00012 and 10 ** a["range"][1] >= 3.4
    narrow = log_axis("USD", [4.2, 6.1], usd_tick)
    assert len(narrow["tickvals"]) >= 2 and narrow["range"][1] - narrow["range"][0] >= 1
    assert all(math.log10(v) >= narrow["range"][0] - 1e-9 for v in narrow["tickvals"][1:])
    assert log_axis("x", [None, 0.0, -1.0])["tickvals"]  # nothing drawable: still an axis


def test_money_count_axes_and_escaping() -> None:
    money = money_axis("USD", [0.00014, 0.0031])  # Plotly's own ticks read "140μ"
    assert money["ticktext"][:3] == ["$0", "$0.0005", "$0.001"] and money["tickvals"][-1] >= 0.0031
    assert money_axis("USD")["ticktext"] == ["$0", "$1"]
    assert count_axis("requests", [1])["dtick"] == 1 and "dtick" not in count_axis("requests", [500])
    title = layout("a < b & c", {}, {})["title"]["text"]
    assert title == "a &lt; b &amp; c" == plot_text("a < b & c")  # escaped once; Plotly shows "a < b & c"
