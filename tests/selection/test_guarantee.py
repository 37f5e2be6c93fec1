"""The stated guarantee: P(recommending a model whose true accuracy is below the bar) <= alpha, for every rule.

Exhaustive selection is checked exactly (binomial tails of independent candidates, no simulation noise);
adaptive selection by simulation with fixed seeds. The plain per-model rule is checked to break the bound in
the same configurations, which shows they can expose a missing multiplicity control.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from satisfice.evals.adaptive import select_adaptive
from satisfice.evals.error_budget import budgets, target_cuts
from satisfice.evals.outcomes import OutcomesTable
from satisfice.evals.select import select_from_outcomes

ALPHA = 0.05
BAR = 0.8


def exact_error(k: int, n: int, p: float, pass_level: float) -> float:
    """P(at least one of k independent candidates with true accuracy p passes at this one-sided level)."""
    cut = target_cuts(n, BAR, pass_level, ALPHA / 2, True)[0]
    assert cut is not None
    single = float(sps.binom.sf(cut - 1, n, p))
    return 1.0 - (1.0 - single) ** k


@pytest.mark.parametrize("k", [1, 2, 5, 11, 30])
@pytest.mark.parametrize("n", [60, 300, 1000])
def test_exhaustive_rule_keeps_the_bound_exactly(k: int, n: int) -> None:
    """Worst case for a false pass: every candidate a hair below the bar; the error must stay <= alpha."""
    level = budgets([f"m{i}" for i in range(k)], 1 - ALPHA)["m0"].pass_target
    worst = max(exact_error(k, n, p, level) for p in (BAR - 1e-9, BAR - 0.005, BAR - 0.02))
    assert worst <= ALPHA
    assert worst > 0.3 * ALPHA or k == 1 or n < 100  # the bound is used, not vacuous (Bonferroni is near-tight)


def test_plain_rule_breaks_the_bound_with_many_candidates() -> None:
    assert exact_error(11, 600, BAR - 1e-9, ALPHA / 2) > 0.2  # ~1 - 0.975 ** 11
    assert exact_error(1, 600, BAR - 1e-9, ALPHA / 2) <= ALPHA


def table_of(accuracies: list[float], n: int, rng: np.random.Generator, *, correlated: bool) -> OutcomesTable:
    if correlated:  # a shared item difficulty moves every model together
        shift = rng.normal(0, 0.08, n)
        probs = [np.clip(p + shift, 0, 1) for p in accuracies]
    else:
        probs = [np.full(n, p) for p in accuracies]
    scores = {f"m{k:02d}": (rng.random(n) < p).astype(float) for k, p in enumerate(probs)}
    return OutcomesTable.from_arrays(scores, {f"m{k:02d}": np.full(n, 1e-4 * 1.3 ** k) for k in range(len(probs))})


def noise_margin(rate: float, reps: int) -> float:
    return 3 * float(np.sqrt(rate * (1 - rate) / reps))


@pytest.mark.parametrize("correlated", [False, True])
def test_ten_candidates_just_below_the_bar(correlated: bool) -> None:
    """Ten cheap models a hair below the bar, one good dear one: adaptive and exhaustive stay within alpha."""
    accuracies, n, reps = [BAR - 0.004] * 10 + [0.93], 300, 60
    wrong = {"adaptive": 0, "exhaustive": 0, "plain": 0}
    for rep in range(reps):
        t = table_of(accuracies, n, np.random.default_rng([11, rep, correlated]), correlated=correlated)
        wrong["adaptive"] += select_adaptive(t, BAR, 1 - ALPHA, seed=rep).recommended not in (None, "m10")
        wrong["exhaustive"] += select_from_outcomes(t, BAR, 1 - ALPHA).recommended not in (None, "m10")
        wrong["plain"] += select_from_outcomes(t, BAR, 1 - ALPHA, plain=True).recommended not in (None, "m10")
    assert wrong["adaptive"] / reps <= ALPHA + noise_margin(ALPHA, reps)
    assert wrong["exhaustive"] / reps <= ALPHA + noise_margin(ALPHA, reps)
    assert wrong["plain"] > max(wrong["adaptive"], wrong["exhaustive"])  # the scenario does expose the plain rule


def test_price_allocation_is_kept_only_for_comparison_and_even_is_the_default() -> None:
    shares = budgets(["a", "b"], 0.95, prices={"a": 1.0, "b": 100.0})
    assert shares["a"].weight == shares["b"].weight == 0.5
    skewed = budgets(["a", "b"], 0.95, prices={"a": 1.0, "b": 100.0}, allocation="price")
    assert skewed["a"].weight < 0.01
