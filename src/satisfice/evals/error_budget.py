"""One selection rule with one guarantee, for ``select``, ``eval`` and their ``--adaptive`` forms alike.

**The guarantee.** P(recommending a model whose true accuracy is below the bar) <= alpha = 1 - confidence,
over all K candidates of one run, however the candidates' results are correlated (they share items).

Notation: candidates k = 1..K; pass weights w_k >= 0 with sum 1, fixed before any outcome is seen
(:func:`allocate`; even, w_k = 1/K, by default); s = ``sequential_share`` (:data:`SEQUENTIAL_SHARE`); the
N_k items of candidate k are an i.i.d. sample of its task distribution (true accuracy p_k), total score T_k.

**Full-data rule** (the "exhaustive" decision, :func:`target_decision`). Candidate k *passes* when its exact
one-sided lower bound at level a_k = (1 - s) w_k alpha clears the bar (Clopper-Pearson for 0/1 scores,
Hoeffding-Bentkus otherwise), i.e. T_k >= pass_cut_k; it *fails* when its upper bound at level
alpha/2 - s w_k alpha is below the bar. The recommendation is the cheapest passing candidate. ``select`` and
``eval`` apply this rule to all items; ``--adaptive`` predicts it from a random prefix of the items.

**Adaptive rule.** Candidates are examined cheapest first, each with a without-replacement sequential test
(:class:`~satisfice.evals.sequences.FiniteSequentialTest`) of T_k: the *pass* side rejects "T_k <
pass_cut_k" and passes k; the *no-pass* side rejects "T_k >= pass_cut_k" at level e = 2 s alpha and leaves k
(it cannot be the cheapest passing model). The first passed candidate is recommended and nothing dearer is
examined. The pass side's level is d_k = s w_k alpha for fractional scores; for 0/1 scores it is *calibrated*
(:mod:`satisfice.evals.calibration`): the largest d_k such that, for true accuracy exactly at the bar,
P(the pass side rejects at some item, the full-data rule at the last item included) <= w_k alpha, computed
exactly by dynamic programming over the count of successes. The no-pass threshold is calibrated the same way
for a table whose total is exactly the pass cut. With ``full_report`` every candidate runs four sides (pass,
fail, no-pass, no-fail; all but pass at s w_k alpha) to a per-model decision.

**(1) The guarantee holds.** Let k be a candidate with p_k < bar. Exhaustive: the exact fixed-sample bound
passes k with probability at most a_k. Adaptive, fractional scores: the full data pass k with probability at
most a_k, and, for any fixed items, the pass side rejects its true hypothesis "T_k < pass_cut_k" with
probability at most d_k over the random order (Ville's inequality: valid at any stopping time); so P(k
passed) <= a_k + d_k = w_k alpha. Adaptive, 0/1 scores: the items in their random order are i.i.d.
Bernoulli(p_k); the pass region (cross the threshold early, or reach the pass cut at the last item) is an
up-set of the sequence, so coupling the draws gives P_p(pass) <= P_bar(pass) <= w_k alpha, the calibrated
bound (the union bound above counts twice the sequences that pass early *and* on all items, which under the
hypothesis are most of them: the calibrated d_k is 10-45 times s w_k alpha). Stopping a side for any other
reason, or counting an error as a failure, only lowers the pass probability. A wrong recommendation passes
some such k; by the union bound its probability is at most sum_k w_k alpha = alpha (exhaustive: (1 - s)
alpha), whatever the stopping, the examination order and the correlation between models. Leaving a model
(no-pass) can only make the recommendation dearer, never wrong, so the no-pass level e does not enter. The
full-data rule is the same for both ways of deciding, so "the adaptive answer equals the exhaustive answer"
means equal under the same guarantee.

**Why this multiplicity control.** The plain per-model rule (each candidate at alpha/2, no correction) can
recommend a below-bar model with probability up to 1 - (1 - alpha/2)^K (ten near-bar candidates: about
22%). Among the corrections that keep the guarantee:

* *Even split* (weighted Bonferroni, w_k = 1/K): every candidate, cheap ones included, gets the same level; the
  lower bound's z grows only like sqrt(2 log(K / alpha)) (1.96 -> 2.69 for K = 11 at 95%). It needs no result
  of another candidate, so the cheapest passing model can be certified without touching dearer ones.
* *Split in proportion to price* (this module's former default) starves exactly the candidates a user hopes
  to certify: on the RouterBench MBPP table at a 0.55 bar it let adaptive selection recommend claude-v2 instead
  of gpt-3.5-turbo-1106, 17x dearer per request (``benchmarks/selection_spend.py``).
* *Fixed-sequence testing* uses full alpha per test but must stop at the first non-rejection. In increasing
  price order it can therefore only ever recommend the cheapest candidate (going on after a non-pass at full
  alpha is the plain rule again); in decreasing order it is valid but one mediocre dear model ends the chain:
  on the same MBPP table at 0.55 gpt-4 and claude-v2 pass at full alpha, claude-v1 does not, and the chain
  recommends claude-v2 again. It also evaluates the dearest models first.
* *Holm's step-down* (closed testing with Bonferroni tests) gives a cheap candidate more than alpha/K only
  after dearer candidates have been shown to pass, i.e. after paying to evaluate them.
On the three RouterBench tables at bars 0.55-0.85 the even split recommends the same model as the uncorrected
per-model rule in all 21 cases; in simulation with ten candidates just below the bar the plain rule errs far
more often than alpha and the even split stays below it (``benchmarks/selection_spend.py``, ``tests``).

**(2) Never dearer than the full-data recommendation, for any fixed table (only the order is random).**
Say the full-data rule passes r. The adaptive recommendation is dearer (or none) only if r is left: its
no-pass hypothesis is true, so that happens with probability at most e = 2 s alpha (0.02 at 95%; calibrated
exactly, see above); the test cannot run out of items, as it is exact at the last one. It is *cheaper* when a
cheaper model j, whose full data falls short of its pass cut, passes early (at most its pass level, by
Ville); that model carries the guarantee of (1) like any other, and in a settled case (every cheaper model
decided "fail" on its full data) it is all but impossible. A larger no-pass level would leave models that
cannot pass sooner (on the benchmark's synthetic tables e = (1 - s) alpha cut the median spend from 13.0%
to 12.25% with the former levels) but also leave a truly passing model more often, and then the user pays a
dearer recommendation on every request (it did so in 1 of 240 synthetic tables, 2.06x dearer), so it stays
small. With ``full_report``, every per-model decision agrees with the full-data one except with probability
at most the sum of each model's pass level and s w_k alpha (at most two of its four hypotheses are true).

**(3) Fails.** A full-data fail errs with probability at most alpha/2 - d_k per model (a wrong fail can only
hide a passing model, never recommend a bad one, so fails need no multiplicity control); with
``full_report`` the fail side adds d_k. A model left by the no-pass side is reported "fail" only when its
anytime-valid confidence sequence (level alpha/2 per side) is below the bar, else "undecided" with the
status "stopped: the full data would not pass it".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import brentq
from scipy.special import betaincinv

from satisfice.evals.stats import Decision, lower_bound, upper_bound

SEQUENTIAL_SHARE = 0.2
"""Share of each candidate's pass budget that adaptive selection keeps for stopping early (s)."""


@dataclass(frozen=True)
class ErrorBudget:
    """One candidate's share of 1 - confidence, split between the full-data rule and early stopping.

    ``weight`` is the candidate's share w of the overall pass budget (1/K for an even split; the weights of all
    candidates sum to at most 1).
    """

    confidence: float
    weight: float
    sequential_share: float = SEQUENTIAL_SHARE

    def __post_init__(self) -> None:
        if not 0.0 < self.confidence < 1.0 or not 0.0 < self.weight <= 1.0 or not 0.0 < self.sequential_share < 1.0:
            raise ValueError("need 0 < confidence < 1, 0 < weight <= 1 and 0 < sequential_share < 1")

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
    def pass_budget(self) -> float:
        """The candidate's whole share of alpha, ``w * alpha``: the calibrated pass side keeps within it."""
        return self.weight * self.alpha

    @property
    def no_pass(self) -> float:
        """Level of the no-pass side when only the cheapest passing model is sought: ``2 * s * alpha``.

        A wrong no-pass can only make the recommendation dearer (or none), never wrong, so it spends no pass
        budget; it is the bound on a dearer recommendation than the full-data one (see the module docstring).
        """
        return 2.0 * self.sequential_share * self.alpha


Allocation = Literal["even", "price"]
def allocate(prices: Sequence[float | None], how: Allocation = "even") -> list[float]:
    """Pass-budget weights summing to 1: even (the default), or in proportion to price (kept for comparison).

    Weights depend on the number of candidates (and, for "price", their prices) only, fixed before any outcome
    is seen, so the union bound of the module docstring holds. "price" gives cheap candidates too little of
    the budget to pass (see the module docstring); a candidate of unknown price is weighted like the dearest.
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


def price_rank(prices: Mapping[str, float | None], models: Sequence[str]) -> list[str]:
    """Models by increasing price (unknown prices last), ties in the given order: the examination order."""
    def key(model: str) -> tuple[float, int]:
        price = prices.get(model)
        return (price if price is not None and math.isfinite(price) else math.inf, models.index(model))

    return sorted(models, key=key)


def budgets(models: Sequence[str], confidence: float, *, prices: Mapping[str, float | None] | None = None,
            allocation: Allocation = "even", sequential_share: float = SEQUENTIAL_SHARE) -> dict[str, ErrorBudget]:
    """Each candidate's :class:`ErrorBudget` for one run over ``models`` (weights by increasing price)."""
    if not models:
        return {}
    price_of = dict(prices or {})
    ranked = price_rank(price_of, list(models))
    weights = allocate([price_of.get(m) for m in ranked], allocation)
    return {m: ErrorBudget(confidence, w, sequential_share) for m, w in zip(ranked, weights, strict=True)}


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
    """The full-data rule of ``select`` and ``eval``, which the adaptive test reproduces.

    Pass at the candidate's Bonferroni level ``(1 - s) * w * alpha``, fail at the per-model level.

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


def pass_bound(total: float, n: int, budget: ErrorBudget, binary: bool) -> float:
    """The lower bound the pass decision uses (one-sided at ``budget.pass_target``); 0 without items."""
    return lower_bound(total, n, budget.pass_target, binary=binary) if n else 0.0


__all__ = ["SEQUENTIAL_SHARE", "Allocation", "ErrorBudget", "allocate", "budgets", "pass_bound", "price_rank",
           "target_cuts", "target_decision"]
