"""Regressions on a real recorded table (RouterBench MBPP, 299 items, 11 models; copy under tests/data).

Adaptive selection used to recommend claude-v2 (17x dearer per request) where every-item selection finds
gpt-3.5-turbo-1106, because the pass budget was split in proportion to price.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from satisfice.evals.adaptive import select_adaptive
from satisfice.evals.outcomes import OutcomesTable, load_outcomes
from satisfice.evals.select import select_from_outcomes

MBPP = Path(__file__).resolve().parents[1] / "data" / "shared" / "routerbench" / "mbpp_train_outcomes.csv"
DEAR = ("claude-v1", "claude-v2", "gpt-4-1106-preview")


@pytest.fixture(scope="module")
def mbpp() -> OutcomesTable:
    return load_outcomes(MBPP)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cheapest_passing_model_is_found_without_touching_dear_ones(mbpp: OutcomesTable, seed: int) -> None:
    exhaustive = select_from_outcomes(mbpp, 0.55)
    assert exhaustive.recommended == "gpt-3.5-turbo-1106"
    adaptive = select_adaptive(mbpp, 0.55, seed=seed)
    assert adaptive.recommended == "gpt-3.5-turbo-1106"
    used = {r.model: r.items_used for r in adaptive.models}
    assert all(used[m] == 0 for m in (*DEAR, "claude-instant-v1"))
    assert adaptive.extras["eval_spend"] < 0.05 * adaptive.extras["exhaustive_spend"]
    # the adaptive table says what the same rule decides on every item
    assert all(r.extras["exhaustive_decision"] == exhaustive.result(r.model).decision for r in adaptive.models)


def test_price_weighted_budget_reproduces_the_old_regret(mbpp: OutcomesTable) -> None:
    """Why the split is even: weights in proportion to price starve the cheap model of alpha."""
    old = select_adaptive(mbpp, 0.55, seed=0, allocation="price")
    assert old.recommended in DEAR


@pytest.mark.parametrize(("bar", "expected"), [(0.6, "gpt-4-1106-preview"), (0.65, None), (0.75, None)])
def test_agreement_with_every_item_selection(mbpp: OutcomesTable, bar: float, expected: str | None) -> None:
    assert select_from_outcomes(mbpp, bar).recommended == expected
    adaptive = select_adaptive(mbpp, bar, seed=0)
    assert adaptive.recommended == expected
    if expected is None and bar >= 0.75:  # nothing comes close: said early
        assert adaptive.extras["eval_spend"] < 0.35 * adaptive.extras["exhaustive_spend"]


def test_plain_rule_is_reported_for_comparison(mbpp: OutcomesTable) -> None:
    plain = select_from_outcomes(mbpp, 0.55, plain=True)
    guarded = select_from_outcomes(mbpp, 0.55)
    assert plain.recommended == guarded.recommended == "gpt-3.5-turbo-1106"
    r = guarded.result("gpt-3.5-turbo-1106")
    assert r.pass_bound is not None and r.pass_bound >= 0.55 > r.extras["pass_level"]
    assert r.ci_low is not None and r.pass_bound < r.ci_low  # the budgeted bound is the stricter one
    assert plain.result("gpt-3.5-turbo-1106").pass_bound is None


def test_says_early_that_nothing_can_pass(mbpp: OutcomesTable) -> None:
    """At 0.85 every model is far below: the adaptive run says so after a few items of each, not 'undecided'."""
    sel = select_adaptive(mbpp, 0.85, seed=0)
    assert sel.recommended is None
    assert sel.extras["eval_spend"] < 0.1 * sel.extras["exhaustive_spend"]
    sentence = sel.sentence()
    assert "none can pass on these items" in sentence and "more items would settle it" not in sentence
    assert "more items would settle it" in select_from_outcomes(mbpp, 0.65).sentence()
