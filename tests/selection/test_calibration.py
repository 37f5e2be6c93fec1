"""Exact thresholds of the 0/1 sides (satisfice.evals.calibration), checked against the sides themselves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import logsumexp

from satisfice.evals import calibration
from satisfice.evals.calibration import no_pass_level, pass_level
from satisfice.evals.error_budget import target_cuts
from satisfice.evals.sequences import FiniteSequentialTest, HypergeometricWealth, _HypergeometricSide


def test_closed_form_wealth_matches_the_sequential_side() -> None:
    rng = np.random.default_rng(0)
    for _ in range(25):
        n = int(rng.integers(20, 300))
        direction, cut = int(rng.choice([1, -1])), int(rng.integers(1, n - 1))
        total = int(rng.integers(0, n + 1))
        x = rng.permutation(np.r_[np.ones(total), np.zeros(n - total)])
        t = int(rng.integers(1, n + 1))
        side = _HypergeometricSide(cut, direction, 1e-300, n)
        rejected = side.consume(x[:t], 0) is not None
        closed = HypergeometricWealth(cut, direction, n)(t, np.array([int(x[:t].sum())]))[0]
        if rejected:  # only a refutation can beat a level of 1e-300
            assert closed == math.inf
        elif side.alt.size:
            assert closed == pytest.approx(float(logsumexp(side.log_lr + side.log_prior)), abs=1e-9)


def _passes(x: np.ndarray, pass_cut: float, level: float) -> bool:
    test = FiniteSequentialTest(x.size, pass_total=pass_cut, fail_total=None, delta=level,
                                levels={"pass": level, "no_pass": 0.0, "fail": 0.0, "no_fail": 0.0})
    test.consume(x)
    return test.decision == "pass"


def test_pass_level_keeps_the_whole_budget_at_the_bar_and_uses_it() -> None:
    n, bar, budget = 80, 0.7, 0.05
    cut, _ = target_cuts(n, bar, 0.8 * budget, 0.025, True)
    assert cut is not None
    level = pass_level(n, bar, cut, budget, 0.2 * budget)
    assert level > 2 * 0.2 * budget  # the union bound's early level, at least doubled
    rng = np.random.default_rng(11)
    reps = 6000
    rate = np.mean([_passes((rng.random(n) < bar).astype(float), cut, level) for _ in range(reps)])
    se = math.sqrt(budget * (1 - budget) / reps)
    assert rate <= budget + 3 * se  # exact at the bar (and so below it)
    assert rate >= 0.6 * budget  # and most of the budget is used
    # the dynamic programme computes what the side does: the probability at the chosen threshold
    computed = calibration._crossing(n, HypergeometricWealth(math.ceil(cut) - 1.0, +1, n),
                                     np.array([math.log(1 / level)]), lambda _t, s: np.full(s.size, bar), bar)[0]
    assert computed <= budget and rate == pytest.approx(computed, abs=4 * se)


def test_no_pass_level_keeps_its_level_for_a_total_at_the_pass_cut() -> None:
    n, cut, level = 120, 90.0, 0.02
    calibrated = no_pass_level(n, cut, level)
    assert calibrated > level
    rng = np.random.default_rng(5)
    table = np.r_[np.ones(int(cut)), np.zeros(n - int(cut))]  # the full data passes, just
    reps, left = 6000, 0
    for _ in range(reps):
        test = FiniteSequentialTest(n, pass_total=cut, fail_total=None, delta=calibrated,
                                    levels={"pass": 0.0, "no_pass": calibrated, "fail": 0.0, "no_fail": 0.0},
                                    no_pass_grace=0.0)
        test.consume(rng.permutation(table))
        left += test.decision == "undecided" and test.t < n
    assert left / reps <= level + 3 * math.sqrt(level * (1 - level) / reps)


def test_large_tables_and_degenerate_bars_keep_the_union_bound() -> None:
    big = calibration.MAX_CALIBRATED_ITEMS + 1
    assert pass_level(big, 0.8, 0.85 * big, 0.01, 0.002) == 0.002
    assert no_pass_level(big, 0.85 * big, 0.02) == 0.02
    assert pass_level(100, 1.0, 100, 0.01, 0.002) == 0.002
