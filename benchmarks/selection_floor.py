"""How little any test could spend to reproduce the every-item recommendation: two floors for one case.

Adaptive selection (``satisfice.evals.adaptive``) must show, from a random prefix of the items, that every
model cheaper than the every-item recommendation r would not pass on its full data (its *no-pass* side, at
level ``e``) and that r would (its *pass* side, at level ``d``; both as calibrated by
``satisfice.evals.adaptive.side_levels``). Whatever test is used, at those levels:

* ``oracle``: each side is Wald's sequential probability-ratio test *told the model's true total* over all its
  items (the alternative the real test must guess), on the case's own item order. Not implementable (it
  knows the answer); for a simple alternative it is the sequential test with the least expected sample size
  (Wald & Wolfowitz, 1948), so it shows what guessing the alternative costs.
* ``floor``: for each model, the fewest items at which even the most powerful *fixed-sample* test at the
  same level (Neyman-Pearson, randomised, on the hypergeometric count, told the true total) succeeds half of
  the time. A valid sequential test that has stopped by item t is a level-``d`` test at t, so it can succeed
  by t no more often than this one: no valid method reaches the every-item answer with a median below it
  (per model; summed over the models a case must examine, at each model's mean cost per item).

Only 0/1 scores (the exact hypergeometric sides); a case with fractional scores gets no floors.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import hypergeom

from satisfice.evals.adaptive import side_levels
from satisfice.evals.error_budget import budgets, price_rank, target_cuts
from satisfice.evals.outcomes import OutcomesTable
from satisfice.evals.sequences import HypergeometricWealth


def sprt_items(x: np.ndarray, cut: int, direction: int, level: float, total: int) -> int:
    """Items the one-sided SPRT of 'total <= cut' (direction +1) or '>= cut' (-1) against the truth needs."""
    n = x.size
    told = HypergeometricWealth(cut, direction, n, alternatives=[total])  # the side's wealth, one alternative
    log_lr = told(np.arange(1, n + 1), np.cumsum(x).astype(int))
    hit = np.nonzero(log_lr >= math.log(1.0 / level))[0]  # +inf where the prefix alone refutes the hypothesis
    return int(hit[0]) + 1 if hit.size else n


def np_power(n: int, cut: int, total: int, t: int, level: float, direction: int) -> float:
    """Power at t items of the randomised most powerful level-``level`` test of total = cut against the truth."""
    null, alt = hypergeom(n, cut, t), hypergeom(n, total, t)
    if direction > 0:  # reject for large counts
        k = int(null.isf(level))  # smallest k with P_null(S > k) <= level
        room = level - null.sf(k)
        gamma = room / null.pmf(k) if null.pmf(k) > 0 else 0.0
        return float(alt.sf(k) + min(1.0, gamma) * alt.pmf(k))
    k = int(null.ppf(level))  # smallest k with P_null(S <= k) >= level
    below = null.cdf(k - 1) if k > 0 else 0.0
    gamma = (level - below) / null.pmf(k) if null.pmf(k) > 0 else 0.0
    return float((alt.cdf(k - 1) if k > 0 else 0.0) + min(1.0, gamma) * alt.pmf(k))


def np_median_items(n: int, cut: int, total: int, level: float, direction: int) -> int:
    """Fewest items at which that test succeeds at least half of the time (power is rising in t)."""
    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi) // 2
        if np_power(n, cut, total, mid, level, direction) >= 0.5:
            hi = mid
        else:
            lo = mid + 1
    return lo


def floors(table: OutcomesTable, bar: float, confidence: float, seed: int) -> dict[str, float | None]:
    """Spend of the oracle and the floor for one case, as shares of every model on every item."""
    prices = {m: table.cost_per_item(m) for m in table.models}
    observed = {m: np.isfinite(table.scores[m]) for m in table.models}
    if any(not np.all(np.isin(table.scores[m][observed[m]], (0.0, 1.0))) for m in table.models):
        return {"oracle": None, "floor": None}
    share = budgets(table.models, confidence, prices=prices)
    order = np.random.default_rng(seed).permutation(table.n_items)  # the adaptive selector's item order
    full = sum(float(np.nansum(np.where(observed[m], c, np.nan))) for m in table.models
               if (c := table.costs[m]) is not None)
    oracle = floor = 0.0
    for model in price_rank(prices, table.models):
        mine = order[observed[model][order]]
        x, costs = table.scores[model][mine], table.costs[model]
        cost = costs[mine] if costs is not None else np.zeros(mine.size)
        n, total = x.size, int(x.sum())
        b = share[model]
        pass_cut, _ = target_cuts(n, bar, b.pass_target, b.fail_target, True) if n else (None, None)
        if pass_cut is None:
            continue  # nothing to examine: no total passes
        cut = math.ceil(pass_cut - 1e-9)
        passes = total >= cut
        pass_level, no_pass = side_levels(b, n, bar, pass_cut, True)  # the levels adaptive selection uses
        side = (cut - 1, +1, pass_level) if passes else (cut, -1, no_pass)
        oracle += float(cost[:sprt_items(x, side[0], side[1], side[2], total)].sum())
        floor += float(np.mean(cost)) * np_median_items(n, side[0], total, side[2], side[1]) if n else 0.0
        if passes:
            break  # the every-item recommendation: nothing dearer is examined
    return {"oracle": oracle / full if full else None, "floor": floor / full if full else None}


__all__ = ["floors", "np_median_items", "np_power", "sprt_items"]
