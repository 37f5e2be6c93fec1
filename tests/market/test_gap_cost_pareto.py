import pytest
from market_builders import M, build, d, gp

from satisfice.errors import NotFoundError
from satisfice.market import annual_bill, cost, gap, pareto, parse_tokens

# --- gap ----------------------------------------------------------------------------------------

def test_gap_steps_and_first_under():
    g = gap(build([
        gp("c1", "2023-01-01", 40, 1.0), gp("o1", "2023-03-01", 20, 1.0, True),
        gp("c2", "2023-06-01", 50, 1.0), gp("o2", "2023-09-01", 45, 1.0, True),
        gp("o3", "2024-01-01", 52, 1.0, True), gp("u", "2023-02-01", 99, 1.0, None),
        M("nodate", None, False, {"gpqa-diamond": 99}), M("noscore", "2023-02-01", True)]),
        "gpqa-diamond", under=10)
    assert [str(s.date) for s in g.steps] == ["2023-01-01", "2023-03-01", "2023-06-01", "2023-09-01", "2024-01-01"]
    assert [s.gap for s in g.steps] == [None, 20, 30, 5, -2]
    assert g.first_under == d("2023-09-01")
    assert g.steps[-1].best_open.model == "o3" and g.steps[-1].best_closed.model == "c2"
    assert g.left_out == ("nodate", "u")
    assert g.latest_gap == -2
    assert "first under 10 points: 2023-09-01" in g.summary()
    j = g.to_json()
    assert j["first_under"] == "2023-09-01" and j["steps"][1]["gap"] == 20


def test_gap_ties_on_score_keep_the_earlier_leader_and_never_under():
    g = gap(build([gp("c1", "2023-01-01", 50, 1.0), gp("c2", "2023-02-01", 50, 1.0),
                   gp("o1", "2023-03-01", 10, 1.0, True)]), "gpqa-diamond", under=5)
    assert g.steps[-1].best_closed.model == "c1"
    assert g.first_under is None and "never" in g.summary()


# --- cost ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [("100M", 1e8), ("2.5B", 2.5e9), ("750k", 7.5e5), ("1,000,000", 1e6),
                                        ("1e6", 1e6), ("42", 42.0), ("3t", 3e12), (" 10 m ", 1e7)])
def test_parse_tokens(text, value):
    assert parse_tokens(text) == value


@pytest.mark.parametrize("text", ["", "M", "ten", "-5M", "0", "5X", "1.2.3M"])
def test_parse_tokens_rejects(text):
    with pytest.raises(ValueError):
        parse_tokens(text)


@pytest.mark.parametrize("price,bill", [(15.0, 547_500.0), (3.0, 109_500.0), (0.25, 9_125.0)])
def test_annual_bill_figures_of_the_issue(price, bill):
    assert annual_bill(price, 100e6) == pytest.approx(bill)


def test_cost_table_ratios_blend_and_price_in_force():
    cat = build([
        M("big", "2024-01-01", False, {}, [("2024-01-01", 10.0, 30.0)]),  # 3:1 -> 15
        M("mid", "2024-01-01", False, {}, [("2024-01-01", 3.0, 3.0), ("2025-01-01", 1.0, 1.0)], name="Mid Model"),
        M("tiny", "2024-01-01", True, {}, [("2024-01-01", 0.25, 0.25)]),
    ])
    r = cost(cat, ["big", "Mid Model", "tiny"], 100e6, as_of=d("2024-06-01"))
    assert [row.annual_usd for row in r.rows] == pytest.approx([547_500.0, 109_500.0, 9_125.0])
    assert [row.ratio_to_first for row in r.rows] == pytest.approx([1.0, 0.2, 9_125 / 547_500])
    assert r.to_json()["blend"] == "3:1 input:output"
    latest = cost(cat, ["mid"], 100e6)
    assert latest.rows[0].model.blended_price == 1.0 and latest.rows[0].model.price_date == d("2025-01-01")
    half = cost(cat, ["big"], 1e6, input_share=0.5)
    assert half.rows[0].model.blended_price == 20.0


def test_cost_unknown_model_suggests_close_ids():
    with pytest.raises(NotFoundError, match="unknown model 'bigg'.*big"):
        cost(build([M("big", "2024-01-01", False, {}, [("2024-01-01", 1.0, 1.0)])]), ["bigg"], 1e6)


def test_cost_unpriced_model_has_no_bill():
    r = cost(build([M("x", "2024-01-01")]), ["x"], 1e6)
    assert r.rows[0].annual_usd is None and r.rows[0].ratio_to_first is None


# --- pareto -------------------------------------------------------------------------------------

def test_pareto_frontier_on_a_date_uses_the_price_in_force():
    cat = build([
        gp("cheap", "2024-01-01", 40, 0.5), gp("mid", "2024-01-01", 60, 2.0),
        gp("dominated", "2024-01-01", 55, 3.0), gp("top", "2024-01-01", 80, 10.0),
        gp("tie", "2024-01-01", 60, 2.0, True),
        M("cut", "2024-01-01", False, {"gpqa-diamond": 70}, [("2024-01-01", 20.0, 20.0), ("2024-06-01", 1.0, 1.0)]),
        gp("noprice", "2024-01-01", 90, None), gp("later", "2024-09-01", 95, 0.1),
    ])
    before = pareto(cat, "gpqa-diamond", as_of=d("2024-03-01"))
    assert [m.model for m in before.frontier] == ["cheap", "mid", "tie", "top"]
    assert before.unpriced == ("noprice",)
    after = pareto(cat, "gpqa-diamond", as_of=d("2024-07-01"))
    assert [m.model for m in after.frontier] == ["cheap", "cut", "top"]
    latest = pareto(cat, "gpqa-diamond")
    assert [m.model for m in latest.frontier] == ["later"]
    assert "3:1" in latest.summary() and latest.to_json()["as_of"] is None
