"""Exact thresholds for the 0/1 sequential sides of adaptive selection, computed over every item sequence.

A hypergeometric side (:class:`~satisfice.evals.sequences.HypergeometricWealth`) rejects once its wealth
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
1/level is kept if none does better. The programme follows the counts within 12 standard deviations of the
walk's mean; mass leaving them (< 1e-30) is counted as crossing, which can only raise the threshold. Beyond
:data:`MAX_CALIBRATED_ITEMS` items the union-bound thresholds are used (time grows like n^1.5). Results are
cached per (n, cut, level).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from satisfice.evals.sequences import HypergeometricWealth

MAX_CALIBRATED_ITEMS = 5000
"""Largest item count calibrated exactly (about 6 s on one core); above it, Ville's 1/level thresholds."""

_GRID = 17
_SPREAD = 12.0  # standard deviations of the walk followed either side of its mean
_SLACK = 1e-7  # wealth within this of the threshold counts as crossing: rounding can only make it stricter

Walk = Callable[[int, np.ndarray], np.ndarray]
"""P(the t-th draw is a success | S successes in the first t - 1 draws), for an array of S."""


def _window(t: int, p: float) -> tuple[int, int]:
    """Counts of successes after t draws kept by the programme; the walk leaves them with probability < 1e-30."""
    spread = _SPREAD * math.sqrt(t * p * (1.0 - p)) + 2.0
    return max(0, math.floor(t * p - spread)), min(t, math.ceil(t * p + spread))


def _crossing(n: int, wealth: HypergeometricWealth, log_u: np.ndarray, walk: Walk, centre: float) -> np.ndarray:
    """P(the side's log wealth reaches each of ``log_u`` at some t <= n), for the walk ``walk``.

    Only counts of successes near ``centre * t`` are followed (:func:`_window`); mass leaving them is counted
    as crossing, so the result can only be too large (a conservative threshold), never too small.
    """
    crossed = np.zeros(log_u.size)
    lo, dist = 0, np.ones((log_u.size, 1))  # dist[:, j]: P(S = lo + j and not yet crossed)
    for t in range(1, n + 1):
        s_prev = lo + np.arange(dist.shape[1])
        q = walk(t, s_prev)
        grown = np.zeros((log_u.size, dist.shape[1] + 1))  # counts lo .. lo + width
        grown[:, :-1] = dist * (1.0 - q)
        grown[:, 1:] += dist * q
        new_lo, new_hi = _window(t, centre)
        keep_from, keep_to = max(new_lo - lo, 0), min(new_hi - lo, grown.shape[1] - 1)
        kept = grown[:, keep_from:keep_to + 1]
        crossed += grown.sum(axis=1) - kept.sum(axis=1)  # left the window: counted as crossing
        lo = lo + keep_from
        hit = wealth(t, lo + np.arange(kept.shape[1]))[None, :] >= log_u[:, None] - _SLACK
        crossed += np.where(hit, kept, 0.0).sum(axis=1)
        dist = np.where(hit, 0.0, kept)
    return crossed


def _smallest_threshold(n: int, wealth: HypergeometricWealth, level: float, walk: Walk, centre: float,
                        top: float) -> float:
    """The smallest grid threshold in [0, top] whose crossing probability is <= level; ``top`` if none is."""
    low, high = 0.0, top
    for _ in range(2):  # coarse grid over [0, Ville], then a fine grid inside the bracket found
        grid = np.linspace(low, high, _GRID)
        within = np.nonzero(_crossing(n, wealth, grid, walk, centre) <= level)[0]
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

    wealth = HypergeometricWealth(cut - 1.0, +1, n)
    threshold = _smallest_threshold(n, wealth, budget, iid, bar, math.log(1.0 / union_level))
    return max(union_level, math.exp(-threshold))


@functools.lru_cache(maxsize=256)
def no_pass_level(n: int, pass_cut: float, level: float) -> float:
    """Level (1/threshold) of the no-pass side so that, for a total of exactly ``pass_cut``, P(reject) <= level."""
    if n < 1 or n > MAX_CALIBRATED_ITEMS:
        return level
    cut = float(math.ceil(pass_cut - 1e-9))

    def without_replacement(t: int, s: np.ndarray) -> np.ndarray:
        return np.clip((cut - s) / (n - t + 1), 0.0, 1.0)

    wealth = HypergeometricWealth(cut, -1, n)
    threshold = _smallest_threshold(n, wealth, level, without_replacement, cut / n, math.log(1.0 / level))
    return max(level, math.exp(-threshold))


__all__ = ["MAX_CALIBRATED_ITEMS", "no_pass_level", "pass_level"]
