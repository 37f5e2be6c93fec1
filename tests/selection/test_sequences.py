"""The sequential tests: exact at the last item, conservative with errors, batch-invariant, valid intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from satisfice.evals.adaptive import ErrorBudget, allocate, target_cuts, target_decision
from satisfice.evals.sequences import FiniteSequentialTest, confidence_sequence


def full_decision(total: float, pass_total: float | None, fail_total: float | None) -> str:
    if pass_total is not None and total >= pass_total:
        return "pass"
    if fail_total is not None and total <= fail_total:
        return "fail"
    return "undecided"


@pytest.mark.parametrize("seed", range(6))
def test_reaches_the_full_decision_when_run_to_the_end(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    x = (rng.random(n) < rng.uniform(0.75, 0.9)).astype(float)
    pass_total, fail_total = 255.0, 240.0
    # a tiny delta means (almost) no early decision, so the end must be exact
    test = FiniteSequentialTest(n, pass_total=pass_total, fail_total=fail_total, delta=1e-12)
    used = test.consume(x)
    assert test.decision == full_decision(x.sum(), pass_total, fail_total)
    if test.decision == "pass":  # deterministic: the seen total alone already reached the cut
        assert x[:used].sum() >= pass_total


def test_batches_and_single_items_stop_at_the_same_item() -> None:
    rng = np.random.default_rng(11)
    x = (rng.random(1000) < 0.93).astype(float)
    whole = FiniteSequentialTest(1000, pass_total=850, fail_total=820, delta=0.001)
    used = whole.consume(x)
    single = FiniteSequentialTest(1000, pass_total=850, fail_total=820, delta=0.001)
    count = 0
    for value in x:
        count += single.consume(np.array([value]))
        if single.done:
            break
    assert whole.decision == single.decision == "pass"
    assert used == count < 1000


def test_errors_count_against_each_decision() -> None:
    x = np.ones(200)
    errors = np.zeros(200, bool)
    errors[::2] = True  # every other item is an error: towards pass they are failures
    test = FiniteSequentialTest(200, pass_total=150, fail_total=50, delta=0.01)
    test.consume(x, errors)
    assert test.decision != "pass"  # at most 100 successes can be counted for pass
    scores = np.zeros(200)
    fail_test = FiniteSequentialTest(200, pass_total=150, fail_total=50, delta=0.01)
    fail_test.consume(scores, errors)
    assert fail_test.decision != "fail"  # towards fail the 100 errors count as successes


def test_known_not_to_pass_can_stop_early() -> None:
    x = np.zeros(500)
    test = FiniteSequentialTest(500, pass_total=450, fail_total=None, delta=0.01, no_pass_grace=0.0)
    used = test.consume(x)
    assert test.decision == "undecided" and test.will_not_pass and used < 100
    assert FiniteSequentialTest(10, pass_total=None, fail_total=None, delta=0.01).decision == "undecided"


def test_early_pass_rarely_contradicts_the_full_data() -> None:
    """Given one fixed set of items whose total sits just below the cut, random orders rarely say pass."""
    rng = np.random.default_rng(4)
    n, delta = 400, 0.02
    base = np.zeros(n)
    base[:339] = 1.0  # total 339, one short of the pass cut 340
    wrong = 0
    reps = 1500
    for _ in range(reps):
        test = FiniteSequentialTest(n, pass_total=340, fail_total=None, delta=delta)
        test.consume(rng.permutation(base))
        wrong += test.decision == "pass"
    assert wrong / reps <= delta + 3 * math.sqrt(delta * (1 - delta) / reps)


def test_no_pass_side_rarely_leaves_a_model_the_full_data_passes() -> None:
    """Worst case for the no-pass side: the total sits exactly on the pass cut, so the full data passes."""
    rng = np.random.default_rng(5)
    n, level, reps = 300, 0.05, 1500
    base = np.zeros(n)
    base[:240] = 1.0
    left = 0
    for _ in range(reps):
        test = FiniteSequentialTest(n, pass_total=240, fail_total=None, delta=0.001, no_pass_grace=0.0,
                                    levels={"no_pass": level})
        test.consume(rng.permutation(base))
        assert test.decision in ("pass", "undecided")
        left += test.decision == "undecided"
    assert 0 < left / reps <= level + 3 * math.sqrt(level * (1 - level) / reps)


def test_exact_test_needs_fewer_items_than_betting_and_refuses_fractions() -> None:
    rng = np.random.default_rng(6)
    n = 1000
    base = np.zeros(n)
    base[:880] = 1.0  # well above the cut 850, not far
    exact, betting = [], []
    for _ in range(40):
        x = rng.permutation(base)
        for step, used in ((1.0, exact), (0.0, betting)):
            test = FiniteSequentialTest(n, pass_total=850, fail_total=800, delta=0.002, step=step)
            used.append(test.consume(x))
            assert test.decision == "pass"
    assert np.mean(exact) < np.mean(betting)
    with pytest.raises(ValueError):
        FiniteSequentialTest(n, pass_total=850, fail_total=None, delta=0.01).consume(np.array([0.5]))
    with pytest.raises(ValueError):
        FiniteSequentialTest(n, pass_total=850, fail_total=None, delta=0.01, levels={"pass": 1.5})


def test_fractional_scores_reach_the_full_decision_and_stop_early() -> None:
    rng = np.random.default_rng(7)
    n = 400
    x = rng.uniform(0.55, 1.0, n)  # mean about 0.775
    total = float(x.sum())
    for cut, expected in ((total - 0.5, "pass"), (total + 0.5, "undecided")):
        test = FiniteSequentialTest(n, pass_total=cut, fail_total=cut - 40, delta=1e-12, step=0.0)
        test.consume(x)
        assert test.decision == expected
    early = FiniteSequentialTest(n, pass_total=0.6 * n, fail_total=0.5 * n, delta=0.01, step=0.0)
    assert early.consume(x) < n and early.decision == "pass"


def test_target_cuts_match_the_exact_rule() -> None:
    budget = ErrorBudget(0.95, 1 / 5)
    pass_cut, fail_cut = target_cuts(400, 0.9, budget.pass_target, budget.fail_target, True)
    assert pass_cut is not None and fail_cut is not None
    assert target_decision(pass_cut, 400, 0.9, budget, True) == "pass"
    assert target_decision(pass_cut - 1, 400, 0.9, budget, True) != "pass"
    assert target_decision(fail_cut, 400, 0.9, budget, True) == "fail"
    assert target_decision(fail_cut + 1, 400, 0.9, budget, True) != "fail"
    assert target_decision(fail_cut - 5, 400, 0.9, budget, True, errors=10) != "fail"
    frac_pass, frac_fail = target_cuts(400, 0.9, budget.pass_target, budget.fail_target, False)
    assert frac_pass is not None and frac_fail is not None
    assert frac_pass > pass_cut and frac_fail < fail_cut  # the bounded-mean rule is more cautious
    assert target_cuts(3, 0.99, budget.pass_target, budget.fail_target, True)[0] is None


def test_budget_adds_up() -> None:
    weights = allocate([1.0, 2.0, None, 5.0], "price")
    assert weights == pytest.approx([1 / 13, 2 / 13, 5 / 13, 5 / 13])  # unknown price: like the dearest
    assert allocate([1.0, 2.0, 3.0], "even") == pytest.approx([1 / 3] * 3)
    budgets = [ErrorBudget(0.95, w, 0.2) for w in weights]
    assert sum(b.pass_target + b.sequential for b in budgets) == pytest.approx(0.05)
    assert sum(b.pass_budget for b in budgets) == pytest.approx(0.05)
    assert all(b.fail_target + b.sequential == pytest.approx(0.025) for b in budgets)
    assert budgets[0].alpha == pytest.approx(0.05)
    # a dearer recommendation than the full data's needs its passing model left: the no-pass level, 2 * s * alpha
    assert all(b.no_pass == pytest.approx(0.02) for b in budgets)
    with pytest.raises(ValueError):
        ErrorBudget(1.0, 0.5)
    with pytest.raises(ValueError):
        ErrorBudget(0.95, 0.0)


def test_confidence_sequence_covers_and_contains_the_mean() -> None:
    rng = np.random.default_rng(8)
    misses, reps, p = 0, 300, 0.7
    for _ in range(reps):
        stop = int(rng.integers(20, 400))  # any stopping rule is allowed; a random one here
        x = (rng.random(stop) < p).astype(float)
        lo, hi = confidence_sequence(x, 0.9)
        assert lo <= x.mean() <= hi
        misses += not lo <= p <= hi
    assert misses / reps <= 0.1 + 3 * math.sqrt(0.09 / reps)
    assert confidence_sequence(np.array([]), 0.95) == (0.0, 1.0)
    frac = rng.uniform(0.5, 1.0, 300)
    lo, hi = confidence_sequence(frac, 0.95)
    assert lo < 0.75 < hi and hi - lo < 0.2
