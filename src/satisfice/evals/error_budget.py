"""The error budget of adaptive selection, the full-data rule it reproduces, and why the guarantees hold.

Notation: alpha = 1 - confidence; candidates k = 1..K in increasing price; pass weights w_k >= 0 summing to
1, fixed from prices before any outcome is seen (:func:`allocate`); W<k = w_1 + ... + w_(k-1); s =
``sequential_share`` (0.2). Items are drawn in one seeded uniformly random order; candidate k's N_k items
are an i.i.d. sample of its task distribution, with total score T_k.

**Full-data ("target") rule** of candidate k on all N_k items: pass when the exact one-sided lower bound at
level a_k = (1 - s) w_k alpha clears the bar (Clopper-Pearson for 0/1 scores, Hoeffding-Bentkus otherwise),
i.e. T_k >= pass_cut_k; fail when the upper bound at level alpha/2 - s w_k alpha is below it. This is the
"exhaustive decision" the adaptive method agrees with.

**Adaptive rule.** Candidates are examined cheapest first, each with a without-replacement sequential test
(:class:`~satisfice.evals.sequences.FiniteSequentialTest`) of its total T_k: the *pass* side rejects
"T_k < pass_cut_k" at level d_k = s w_k alpha and passes k; the *no-pass* side rejects "T_k >= pass_cut_k"
at level e_k = s alpha (2 - W<k - w_k) and leaves k (it cannot be the cheapest passing model). The first
passed candidate is recommended and nothing dearer is examined. With ``full_report`` every candidate runs
four sides (pass, fail, no-pass, no-fail), each at level d_k, to a per-model decision.

**(1) P(recommending a model whose true accuracy is below the bar) <= alpha.** Let k be such a model. The
full data pass it with probability at most a_k (exact fixed-sample bound), and, for any fixed items, the pass
side rejects its true hypothesis "T_k < pass_cut_k" with probability at most d_k over the order (Ville's
inequality: valid at any stopping time). So P(k is passed) <= a_k + d_k = w_k alpha. A wrong recommendation
passes some such k; by the union bound its probability is at most sum_k w_k alpha <= alpha, whatever the
stopping, the examination order and the correlation between models on shared items. Leaving a model
(no-pass) can only make the recommendation dearer, never wrong, so the no-pass levels e_k do not enter.

**(2) Agreement with the decided full-data recommendation, for any fixed table (only the order is random).**
Say the full-data rule passes r and fails every cheaper j. The adaptive recommendation differs only if some
j < r is passed (its pass hypothesis is true, since T_j <= fail_cut_j < pass_cut_j: probability <= d_j) or r
is left (its no-pass hypothesis is true: <= e_r; with ``no_pass_grace`` also a fail side: <= d_r); the test
cannot run out of items, as it is exact at the last one. In all: sum_(j<r) s w_j alpha + s alpha (2 - W<r -
w_r) + s w_r alpha = 2 s alpha (0.02 at 95% confidence). With ``full_report``, at most two of each
candidate's four hypotheses are true, so every per-model decision agrees with the full-data one except with
probability <= sum_k 2 d_k = 2 s alpha.

**(3) Fails.** With ``full_report`` a fail is the fail side's (full-data fail, level alpha/2 - d_k, plus
prediction error d_k: alpha/2 per model, as for a plain two-sided interval). A model left by the no-pass
side is reported "fail" only when its anytime-valid confidence sequence (level alpha/2 per side) is below
the bar, else "undecided" with the status "stopped: the full data would not pass it".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import brentq
from scipy.special import betaincinv

from satisfice.evals.stats import Decision, lower_bound, upper_bound


@dataclass(frozen=True)
class ErrorBudget:
    """One candidate's share of 1 - confidence, split between the full-data rule and early stopping.

    ``weight`` is the candidate's share w of the overall pass budget (1/K for an even split; the weights of all
    candidates sum to at most 1); ``before`` is the summed weight of the cheaper candidates (examined first).
    """

    confidence: float
    weight: float
    sequential_share: float = 0.2
    before: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 < self.confidence < 1.0 or not 0.0 < self.weight <= 1.0 or not 0.0 < self.sequential_share < 1.0:
            raise ValueError("need 0 < confidence < 1, 0 < weight <= 1 and 0 < sequential_share < 1")
        if not 0.0 <= self.before <= 1.0 + 1e-9:
            raise ValueError("the weight of the cheaper candidates must lie in [0, 1]")

    @property
    def alpha(self) -> float:
        """Overall probability allowed of recommending a model that is truly below the bar."""
        return 1.0 - self.confidence

    @property
    def sequential(self) -> float:
        """Level of each one-sided sequential test (four per candidate): ``s * w * alpha``."""
        return self.sequential_share * self.weight * self.alpha

    @property
    def pass_target(self) -> float:
        """One-sided level of the full-data pass rule: ``(1 - s) * w * alpha``."""
        return self.weight * self.alpha - self.sequential

    @property
    def fail_target(self) -> float:
        """One-sided level of the full-data fail rule (per model, no multiplicity needed)."""
        return self.alpha / 2.0 - self.sequential

    @property
    def no_pass(self) -> float:
        """Level of the no-pass side when only the cheapest passing model is sought: ``s*alpha*(2 - W<=k)``.

        ``W<=k`` is the weight of this candidate and the cheaper ones (at most 1, so the level is at least
        ``s * alpha``). A wrong no-pass can only make the recommendation dearer, so it spends agreement
        budget, never the pass budget (see the module docstring).
        """
        return self.sequential_share * self.alpha * (2.0 - min(1.0, self.before + self.weight))

    @property
    def agreement(self) -> float:
        """Bound on P(adaptive recommendation != decided full-data one), over the item order: ``2 * s * alpha``."""
        return 2.0 * self.sequential_share * self.alpha


Allocation = Literal["even", "price"]


def allocate(prices: Sequence[float | None], how: Allocation = "even") -> list[float]:
    """Pass-budget weights summing to 1: even (Bonferroni), or in proportion to price (spend-aware).

    "price" gives dearer candidates, whose evidence is expensive, more of the budget and cheap ones less; the
    weights depend on prices only (fixed before any outcome is seen), so the union bound still holds. A
    candidate of unknown price is weighted like the dearest known one. (Measured on the synthetic spend
    benchmark: weights in proportion to price**g for g in 0.5, 0.75, 1, 1.25, 1.5 gave the lowest or
    equal-lowest median spend at g = 1.)
    """
    k = len(prices)
    if how == "even" or k == 1:
        return [1.0 / k] * k
    known = [p for p in prices if p is not None and math.isfinite(p) and p > 0]
    if not known:
        return [1.0 / k] * k
    raw = [p if p is not None and math.isfinite(p) and p > 0 else max(known) for p in prices]
    total = sum(raw)
    return [r / total for r in raw]


@functools.lru_cache(maxsize=4096)
def target_cuts(n: int, bar: float, pass_tail: float, fail_tail: float, binary: bool
                ) -> tuple[float | None, float | None]:
    """Totals at which the full-data rule on n items passes (>= first) or fails (<= second); None: never."""
    if binary:
        s = np.arange(n + 1, dtype=float)
        low = np.where(s > 0, betaincinv(np.maximum(s, 1e-12), n - s + 1, pass_tail), 0.0)  # beta quantiles
        high = np.where(s < n, betaincinv(s + 1, np.maximum(n - s, 1e-12), 1.0 - fail_tail), 1.0)
        passing = np.nonzero(low >= bar)[0]
        failing = np.nonzero(high < bar)[0]
        return (float(passing[0]) if passing.size else None, float(failing[-1]) if failing.size else None)

    def lo(total: float) -> float:
        return lower_bound(total, n, pass_tail, binary=False) - bar

    def hi(total: float) -> float:
        return upper_bound(total, n, fail_tail, binary=False) - bar

    pass_cut = None if lo(float(n)) < 0 else (0.0 if lo(0.0) >= 0 else float(brentq(lo, 0.0, n, xtol=1e-9)))
    fail_cut = None if hi(0.0) >= 0 else (float(n) if hi(float(n)) < 0 else float(brentq(hi, 0.0, n, xtol=1e-9)))
    if fail_cut is not None and hi(fail_cut) >= 0:
        fail_cut = max(0.0, fail_cut - 1e-9)
    return pass_cut, fail_cut


def target_decision(total: float, n: int, bar: float, budget: ErrorBudget, binary: bool, *,
                    errors: int = 0) -> Decision:
    """The full-data rule that the adaptive test reproduces (Bonferroni pass level, per-model fail level).

    ``n`` counts every item including the ``errors``; ``total`` sums the scored ones. Errors count as
    failures towards pass and as successes towards fail.
    """
    if n == 0:
        return "undecided"
    pass_cut, fail_cut = target_cuts(n, bar, budget.pass_target, budget.fail_target, binary)
    if pass_cut is not None and total >= pass_cut - 1e-9:
        return "pass"
    if fail_cut is not None and total + errors <= fail_cut + 1e-9:
        return "fail"
    return "undecided"


__all__ = ["Allocation", "ErrorBudget", "allocate", "target_cuts", "target_decision"]
