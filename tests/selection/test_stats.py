"""Intervals, decisions, the paired test and percentiles against known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from satisfice.evals.stats import (
    clopper_pearson,
    decide,
    lower_bound,
    paired_non_inferiority,
    percentile,
    upper_bound,
)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.3085),  # upper = 1 - 0.025 ** (1 / 10)
        (7, 10, 0.3475, 0.9333),
        (10, 10, 0.6915, 1.0),
        (50, 100, 0.3983, 0.6017),
        (1, 1, 0.025, 1.0),
    ],
)
def test_clopper_pearson_known_values(x: int, n: int, low: float, high: float) -> None:
    lo, hi = clopper_pearson(x, n, 0.95)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_clopper_pearson_edge_cases() -> None:
    assert clopper_pearson(0, 0) == (0.0, 1.0)
    assert clopper_pearson(0, 10)[1] == pytest.approx(1 - 0.025 ** 0.1)
    lo99, hi99 = clopper_pearson(7, 10, 0.99)
    lo95, hi95 = clopper_pearson(7, 10, 0.95)
    assert lo99 < lo95 and hi99 > hi95
    with pytest.raises(ValueError):
        clopper_pearson(11, 10)
    with pytest.raises(ValueError):
        clopper_pearson(3, 10, 1.0)


def test_fractional_scores_use_a_wider_valid_interval() -> None:
    """A fractional sum gets Hoeffding–Bentkus, which is never narrower than Clopper–Pearson at that sum."""
    cp = clopper_pearson(70, 100)
    hb = clopper_pearson(70, 100, binary=False)
    assert hb[0] < cp[0] and hb[1] > cp[1]
    assert clopper_pearson(70.5, 100)[0] == pytest.approx(lower_bound(70.5, 100, 0.025, binary=False))
    with pytest.raises(ValueError):
        lower_bound(70.5, 100, 0.025, binary=True)


def test_hoeffding_bentkus_covers_fractional_scores() -> None:
    """Coverage of the lower bound for a skewed [0, 1] distribution stays >= 97.5% (one side of 95%)."""
    rng = np.random.default_rng(7)
    n, reps, truth = 60, 1500, 0.8 * 0.95 + 0.2 * 0.1  # mixture of near-1 and near-0 scores
    misses = 0
    for _ in range(reps):
        scores = np.where(rng.random(n) < 0.8, 0.95, 0.1)
        misses += lower_bound(float(scores.sum()), n, 0.025, binary=False) > truth
    assert misses / reps <= 0.025 + 3 * math.sqrt(0.025 * 0.975 / reps)


def test_decide_against_bar() -> None:
    assert decide(380, 400, 0.9) == "pass"  # CP lower 0.923
    assert decide(300, 400, 0.9) == "fail"
    assert decide(360, 400, 0.9) == "undecided"
    assert decide(0, 0, 0.5) == "undecided"
    lo, _ = clopper_pearson(380, 400)
    assert decide(380, 400, lo) == "pass"  # the bar is cleared when the lower bound equals it


def test_decide_counts_errors_conservatively() -> None:
    # 380/400 passes, but 30 errors as failures give 380/430 whose lower bound is below 0.9
    assert decide(380, 400, 0.9, errors=30) == "undecided"
    # 300/400 fails; with 60 errors counted as successes 360/460 still fails
    assert decide(300, 400, 0.9, errors=60) == "fail"
    # ... but 600 errors as successes (900/1000) could reach the bar: no fail
    assert decide(300, 400, 0.9, errors=600) == "undecided"
    with pytest.raises(ValueError):
        decide(1, 2, 0.5, errors=-1)


def test_bounds_are_one_sided() -> None:
    lo, hi = clopper_pearson(30, 50, 0.90)
    assert lower_bound(30, 50, 0.05) == pytest.approx(lo)
    assert upper_bound(30, 50, 0.05) == pytest.approx(hi)


def test_paired_binary_uses_discordant_pairs() -> None:
    rng = np.random.default_rng(1)
    ref = (rng.random(500) < 0.9).astype(float)
    same = ref.copy()
    diff, low, decision = paired_non_inferiority(same, ref, 0.03)
    assert diff == 0.0 and decision == "pass" and -0.03 < low <= 0.0
    worse = ref.copy()
    worse[np.nonzero(ref == 1)[0][:100]] = 0.0  # 100 discordant pairs, all against the model: -0.2
    diff, low, decision = paired_non_inferiority(worse, ref, 0.03)
    assert diff == pytest.approx(-0.2) and decision == "fail" and low < -0.2
    slightly = ref.copy()
    slightly[np.nonzero(ref == 1)[0][:10]] = 0.0  # -0.02: cannot be shown above -0.03 nor below it
    assert paired_non_inferiority(slightly, ref, 0.03)[2] == "undecided"


def test_paired_exact_method_keeps_its_error_rate() -> None:
    """At a true difference of exactly -margin, 'pass' must happen at most 2.5% of the time."""
    rng = np.random.default_rng(3)
    reps, n, margin = 2000, 300, 0.05
    passes = 0
    for _ in range(reps):
        u = rng.random(n)  # pair types: model-only right 5%, reference-only right 10%, both right 75%
        model = ((u < 0.05) | (u >= 0.15) & (u < 0.90)).astype(float)
        ref = ((u >= 0.05) & (u < 0.90)).astype(float)
        passes += paired_non_inferiority(model, ref, margin)[2] == "pass"
    assert passes / reps <= 0.025 + 3 * math.sqrt(0.025 * 0.975 / reps)


def test_paired_fractional_scores() -> None:
    rng = np.random.default_rng(2)
    ref = rng.uniform(0.6, 1.0, 800)
    model = np.clip(ref + rng.normal(0, 0.05, 800), 0, 1)
    diff, low, decision = paired_non_inferiority(model, ref, 0.1)
    assert abs(diff) < 0.02 and low > -0.1 and decision == "pass"
    with pytest.raises(ValueError):
        paired_non_inferiority([0.5, 2.0], [0.5, 0.5], 0.1)
    with pytest.raises(ValueError):
        paired_non_inferiority([0.5], [0.5, 0.5], 0.1)
    assert math.isnan(paired_non_inferiority([], [], 0.1)[0])


def test_percentile() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0, float("nan")], 95) == 5.0
    assert percentile([], 95) is None
    assert percentile(list(range(101)), 95) == pytest.approx(95.0)
    with pytest.raises(ValueError):
        percentile([1.0], 101)
