"""Exact thresholds for the 0/1 sequential sides of adaptive selection, computed over every item sequence.

A hypergeometric side (:func:`~satisfice.evals.sequences.hypergeometric_log_wealth`) rejects once its wealth
reaches a threshold u. Ville's inequality makes u = 1/level valid for any table, but it is loose, and the
union bound of :mod:`satisfice.evals.error_budget` (full-data pass at (1 - s) w alpha, early pass at s w alpha)
counts twice the sequences that pass early *and* on all items, which, under the hypothesis, are most of
them. The wealth depends only on (t, S_t), so the probability that a side rejects can be computed exactly by
dynamic programming over the count of successes, absorbing it where the wealth crosses u; the smallest u
whose probability stays within the budget is then used.

* **Pass side** (:func:`pass_level`). Scores are i.i.d. Bernoulli(p) in a random order of an i.i.d. sample.
  The side's rejection region is an up-set (more successes never un-reject) and the full-data rule at the
  last item is part of it, so P_p(pass) <= P_bar(pass) for p < bar (couple the draws). The DP computes
  P_bar(the side crosses at some t < n, or the n items reach the pass cut) and u is the smallest threshold
  with that probability <= w alpha, the candidate's whole pass budget: the guarantee holds exactly per
  candidate and, by the union bound, over all of them. Errors count as failures, which only lowers it.
* **No-pass side** (:func:`no_pass_level`). For a fixed table whose total is exactly the pass cut (the
  hypothesis' worst case, by the same coupling) the draws are a uniformly random order; the DP over that
  walk gives P(the side rejects before the last item), and u is the smallest threshold keeping it within the
  side's level (the bound on leaving a model the full data passes).

Both searches test thresholds on a grid (coarse, then fine inside the bracket), all at once in one vectorised
pass, and only keep a threshold whose computed probability is within the level; the union-bound threshold
1/level is kept if none does better. Beyond :data:`MAX_CALIBRATED_ITEMS` items the Ville thresholds are used
(exact but O(n^2) time). Results are cached per (n, cut, level).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from scipy.special import gammaln

from satisfice.evals.sequences import hypergeometric_log_wealth

MAX_CALIBRATED_ITEMS = 5000
"""Largest item count calibrated exactly (about 6 s on one core); above it, Ville's 1/level thresholds."""

_GRID = 17
_SLACK = 1e-7  # wealth within this of the threshold counts as crossing: rounding can only make it stricter

Walk = Callable[[int, np.ndarray], np.ndarray]
"""P(the t-th draw is a success | S successes in the first t - 1 draws), for an array of S."""


def _crossing(n: int, cut: float, direction: int, log_u: np.ndarray, walk: Walk) -> np.ndarray:
    """P(the side's log wealth reaches each of ``log_u`` at some t <= n), for the walk ``walk``."""
    log_factorial = gammaln(np.arange(n + 1, dtype=float) + 1.0)
    dist = np.zeros((log_u.size, n + 1))
    dist[:, 0] = 1.0
    crossed = np.zeros(log_u.size)
    for t in range(1, n + 1):
        q = walk(t, np.arange(t))
        new = np.zeros((log_u.size, t + 1))
        new[:, :t] = dist[:, :t] * (1.0 - q)
        new[:, 1:] += dist[:, :t] * q
        wealth = hypergeometric_log_wealth(cut, direction, n, t, log_factorial)
        hit = wealth[None, :] >= log_u[:, None] - _SLACK
        crossed += np.where(hit, new, 0.0).sum(axis=1)
        new[hit] = 0.0
        dist[:, : t + 1] = new
    return crossed


def _smallest_threshold(n: int, cut: float, direction: int, level: float, walk: Walk, top: float) -> float:
    """The smallest grid threshold in [0, top] whose crossing probability is <= level; ``top`` if none is."""
    low, high = 0.0, top
    for _ in range(2):  # coarse grid over [0, Ville], then a fine grid inside the bracket found
        grid = np.linspace(low, high, _GRID)
        within = np.nonzero(_crossing(n, cut, direction, grid, walk) <= level)[0]
        if not within.size:
            return top
        k = int(within[0])
        if k == 0:
            return float(grid[0])
        low, high = float(grid[k - 1]), float(grid[k])
    return high


@functools.lru_cache(maxsize=256)
def pass_level(n: int, bar: float, pass_cut: float, budget: float, union_level: float) -> float:
    """Level (1/threshold) of the pass side so that P_bar(pass early or on all n items) <= budget.

    ``pass_cut``: smallest total that passes on all n items; ``budget``: the candidate's pass budget w*alpha;
    ``union_level``: the early-stopping level the union bound allows (s*w*alpha), returned when n is too large
    or calibration cannot do better.
    """
    if n < 1 or n > MAX_CALIBRATED_ITEMS or not 0.0 < bar < 1.0:
        return union_level
    cut = float(math.ceil(pass_cut - 1e-9))

    def iid(_t: int, s: np.ndarray) -> np.ndarray:
        return np.full(s.size, bar)

    threshold = _smallest_threshold(n, cut - 1.0, +1, budget, iid, math.log(1.0 / union_level))
    return max(union_level, math.exp(-threshold))


@functools.lru_cache(maxsize=256)
def no_pass_level(n: int, pass_cut: float, level: float) -> float:
    """Level (1/threshold) of the no-pass side so that, for a total of exactly ``pass_cut``, P(reject) <= level."""
    if n < 1 or n > MAX_CALIBRATED_ITEMS:
        return level
    cut = float(math.ceil(pass_cut - 1e-9))

    def without_replacement(t: int, s: np.ndarray) -> np.ndarray:
        return np.clip((cut - s) / (n - t + 1), 0.0, 1.0)

    return max(level, math.exp(-_smallest_threshold(n, cut, -1, level, without_replacement, math.log(1.0 / level))))


__all__ = ["MAX_CALIBRATED_ITEMS", "no_pass_level", "pass_level"]
