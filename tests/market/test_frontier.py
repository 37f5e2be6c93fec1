import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_builders import M, build, d, gp

from satisfice.errors import ConfigError, NotFoundError
from satisfice.market import frontier


def test_first_closed_first_open_lag_ratio_and_no_score():
    cat = build([
        M("closed-a", "2024-01-01", False, {"gpqa-diamond": 80}, [("2024-01-01", 10.0, 30.0)]),  # 3:1 blend 15
        M("closed-c", "2024-02-01", False, {"gpqa-diamond": 60}, [("2024-02-01", 1.0, 1.0)]),  # fails
        M("open-b", "2024-03-01", True, {"gpqa-diamond": 75}, [("2024-03-01", 1.0, 1.0)]),
        M("unscored", "2023-06-01", True, {"mmlu": 90}, [("2023-06-01", 0.1, 0.1)]),
    ])
    assert frontier(cat, "gpqa-diamond", 70).no_score == ()  # counted, listed only when asked
    r = frontier(cat, "gpqa-diamond", 70, show_unscored=True)
    assert r.unscored_count == 1
    assert [m.model for m in r.models] == ["closed-a", "open-b"]
    assert [m.model for m in r.frontier] == ["closed-a", "open-b"]
    assert r.first_closed.model == "closed-a" and r.first_closed.blended_price == pytest.approx(15.0)
    assert r.first_open.model == "open-b" and r.first_open.release_date == d("2024-03-01")
    assert r.lag_days == 60  # 2024 is a leap year
    assert r.price_ratio == pytest.approx(15.0)
    assert [m.model for m in r.no_score] == ["unscored"]  # listed, never failing, never on the frontier
    assert r.trend is None
    assert "First closed: closed-a (2024-01-01) at $15.00/M" in r.summary()
    assert "3:1 input:output" in r.summary()


def test_input_share_changes_the_blend_and_is_reported():
    cat = build([M("a", "2024-01-01", False, {"gpqa-diamond": 80}, [("2024-01-01", 10.0, 30.0)])])
    r = frontier(cat, "GPQA Diamond", 70, input_share=0.5)
    assert r.models[0].blended_price == pytest.approx(20.0)
    j = r.to_json()
    assert j["input_share"] == 0.5 and j["blend"] == "1:1 input:output"


def test_a_source_blend_is_used_as_given_and_noted():
    cat = build([M("e", "2024-01-01", None, {"gpqa-diamond": 80}, [("2024-01-01", 7.5)])])
    r = frontier(cat, "gpqa-diamond", 70, input_share=0.5)
    assert r.models[0].blended_price == 7.5
    assert r.models[0].price_note and "as given" in r.models[0].price_note
    assert r.first_closed is None and r.first_open is None and r.lag_days is None and r.price_ratio is None


def test_open_model_first_gives_a_negative_lag():
    cat = build([gp("o", "2024-01-10", 72, 1.0, True), gp("c", "2024-02-09", 71, 9.0, False)])
    r = frontier(cat, "gpqa-diamond", 70)
    assert r.first_open.model == "o" and r.first_closed.model == "c"
    assert r.lag_days == -30
    assert "open first" in r.summary()
    assert [m.model for m in r.frontier] == ["o"]


def test_score_equal_to_threshold_clears():
    r = frontier(build([gp("x", "2024-01-01", 70.0, 2.0)]), "gpqa-diamond", 70.0)
    assert [m.model for m in r.models] == ["x"]


def test_same_release_date_keeps_only_the_cheapest_on_the_frontier():
    cat = build([gp("dear", "2024-05-01", 80, 5.0), gp("cheap", "2024-05-01", 71, 3.0, True),
                 gp("later", "2024-06-01", 90, 3.0)])
    r = frontier(cat, "gpqa-diamond", 70)
    assert [m.model for m in r.frontier] == ["cheap"]  # "later" at 3.0 is not cheaper than 3.0
    assert r.first_closed.model == "dear" and r.first_open.model == "cheap" and r.lag_days == 0
    assert r.price_ratio == pytest.approx(5.0 / 3.0)


def test_same_date_and_price_tie_breaks_on_model_id():
    r = frontier(build([gp("b", "2024-05-01", 80, 3.0), gp("a", "2024-05-01", 75, 3.0)]), "gpqa-diamond", 70)
    assert [m.model for m in r.frontier] == ["a"]
    assert r.first_closed.model == "a"


def test_launch_price_not_a_later_cut_and_as_of():
    cat = build([
        M("old", "2023-01-01", False, {"gpqa-diamond": 80}, [("2023-01-01", 20.0, 20.0), ("2024-06-01", 1.0, 1.0)]),
        gp("new", "2024-01-01", 85, 5.0),
    ])
    r = frontier(cat, "gpqa-diamond", 70)
    assert [m.blended_price for m in r.models] == [20.0, 5.0]
    assert [m.model for m in r.frontier] == ["old", "new"]
    earlier = frontier(cat, "gpqa-diamond", 70, as_of=d("2023-12-31"))
    assert [m.model for m in earlier.models] == ["old"] and earlier.as_of == d("2023-12-31")


def test_unpriced_model_is_listed_but_not_on_the_frontier():
    cat = build([gp("nop", "2024-01-01", 80, None), gp("p", "2024-02-01", 80, 4.0)])
    r = frontier(cat, "gpqa-diamond", 70)
    assert [m.model for m in r.models] == ["nop", "p"]
    assert [m.model for m in r.frontier] == ["p"]
    assert any("nop" in n for n in r.notes)


def test_trend_needs_four_frontier_points():
    three = [gp(f"m{k}", f"202{k}-01-01", 80, 8.0 / 2**k) for k in range(3)]
    assert frontier(build(three), "gpqa-diamond", 70).trend is None
    four = build(three + [gp("m3", "2023-01-01", 80, 1.0)])
    r = frontier(four, "gpqa-diamond", 70)
    assert r.trend is not None and r.trend.n == 4
    assert 1.9 < r.trend.factor_per_year < 2.1  # halving every (about) 365 days
    j = r.to_json()["trend"]
    assert set(j) >= {"factor_per_year", "ci90", "r2", "n"}


def test_json_contract_keys():
    j = frontier(build([gp("a", "2024-01-01", 80, 1.0)]), "gpqa-diamond", 70).to_json()
    for key in ("benchmark", "threshold", "input_share", "models", "frontier", "first_closed", "first_open",
                "lag_days", "price_ratio", "trend", "no_score", "unscored_count", "blend", "price_ratio_direction"):
        assert key in j
    for key in ("model", "release_date", "blended_price"):
        assert key in j["first_closed"]


def test_unknown_benchmark_lists_known_ones():
    cat = build([gp("a", "2024-01-01", 80, 1.0)])
    with pytest.raises(NotFoundError, match="unknown benchmark 'gpqx'.*gpqa-diamond"):
        frontier(cat, "gpqx", 70)


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_invalid_input_share(share):
    with pytest.raises(ConfigError, match="input share"):
        frontier(build([gp("a", "2024-01-01", 80, 1.0)]), "gpqa-diamond", 70, input_share=share)


# --- properties ---------------------------------------------------------------------------------

models_st = st.lists(
    st.tuples(
        st.integers(0, 60),  # release day offset (small range: many ties)
        st.sampled_from([True, False, None]),
        st.one_of(st.none(), st.integers(0, 100)),  # score
        st.one_of(st.none(), st.sampled_from([0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0])),  # price
    ),
    min_size=0, max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(models_st, st.integers(0, 100))
def test_frontier_invariants(specs, threshold):
    base = dt.date(2024, 1, 1)
    cat = build([gp(f"m{i:02d}", (base + dt.timedelta(days=day)).isoformat(), score, price, openw)
                 for i, (day, openw, score, price) in enumerate(specs)])
    r = frontier(cat, "gpqa-diamond", threshold, show_unscored=True)
    assert r.unscored_count == len(r.no_score)
    front = list(r.frontier)
    # strictly decreasing prices, strictly increasing dates
    assert all(a.blended_price > b.blended_price and a.release_date < b.release_date
               for a, b in zip(front, front[1:], strict=False))
    # every frontier model clears the bar and is among the cleared models
    cleared_ids = {m.model for m in r.models}
    assert all(m.score >= threshold and m.model in cleared_ids for m in front)
    # no cleared model is cheaper than the frontier price in force at its release
    for m in r.models:
        if m.blended_price is None:
            continue
        in_force = [f for f in front if f.release_date <= m.release_date]
        assert in_force, "a priced cleared model must have a frontier point by its release date"
        assert in_force[-1].blended_price <= m.blended_price
    # no-score models are never cleared; failing ones are nowhere
    assert not cleared_ids & {m.model for m in r.no_score}
    assert all(m.score is not None and m.score >= threshold for m in r.models)
    assert len(r.models) + len(r.no_score) + sum(1 for _, _, s, _ in specs if s is not None and s < threshold) \
        == len(specs)
    # first closed/open are the earliest of their kind
    for kind, first in ((False, r.first_closed), (True, r.first_open)):
        same = [m for m in r.models if m.open_weights is kind]
        assert (first is None) == (not same)
        if first is not None:
            assert first.release_date == min(m.release_date for m in same)
    assert (r.trend is None) == (len(front) < 4)
