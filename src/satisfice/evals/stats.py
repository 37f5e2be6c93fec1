"""Fixed-sample statistics for decisions against a bar: exact intervals, decisions, paired tests, percentiles.

Scores lie in [0, 1]. Two cases, chosen automatically:

* **Binary outcomes** (every score 0 or 1, so the number of successes is a whole number): the exact
  Clopper–Pearson interval. Its coverage is at least ``confidence`` for every true accuracy and every n.
* **Fractional scores** (e.g. token F1 or a judge's 0.7): the sum of scores is *not* binomial, and
  Clopper–Pearson on it is not guaranteed. We use the Hoeffding–Bentkus bound instead: for independent
  scores in [0, 1] with mean ``m`` and sum ``S``, ``P(S >= s) <= min(exp(-n KL(s/n || m)), e * P(Bin(n, m) >=
  floor(s)))`` (Hoeffding 1963, Thm 1; Bentkus 2004). It depends only on the sum, is valid for *any*
  distribution on [0, 1] and is at worst about as wide as the binomial case it dominates (binary data are
  the worst case for a given mean). Both sides are inverted to give the interval.

Intervals are two-sided at ``confidence``: each bound is wrong with probability at most ``(1 - confidence) /
2``. A model **passes** when the lower bound is at least the bar, **fails** when the upper bound is below it,
and is **undecided** otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats as sps
from scipy.optimize import brentq
from scipy.special import betaincinv

Decision = Literal["pass", "fail", "undecided"]

_INTEGER_TOL = 1e-9


def _check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def _whole(successes: float) -> int | None:
    nearest = round(successes)
    return int(nearest) if abs(successes - nearest) <= _INTEGER_TOL else None


def _kl(a: float, b: float) -> float:
    """Bernoulli Kullback–Leibler divergence KL(a || b), with 0 log 0 = 0."""
    out = 0.0
    if a > 0.0:
        out += a * math.log(a / b) if b > 0.0 else math.inf
    if a < 1.0:
        out += (1.0 - a) * math.log((1.0 - a) / (1.0 - b)) if b < 1.0 else math.inf
    return out


def _hb_upper_tail(total: float, n: int, m: float) -> float:
    """Hoeffding–Bentkus p-value of ``mean <= m`` having seen ``total`` over ``n`` scores in [0, 1]."""
    mean = total / n
    if mean <= m:
        return 1.0
    hoeffding = math.exp(-n * _kl(mean, m))
    bentkus = math.e * float(sps.binom.sf(math.floor(total + _INTEGER_TOL) - 1, n, m))
    return min(1.0, hoeffding, bentkus)


def _hb_lower(total: float, n: int, tail: float) -> float:
    """Largest mean ``m`` that the Hoeffding–Bentkus test rejects at level ``tail`` (the lower bound)."""
    mean = total / n
    if mean <= 0.0:
        return 0.0
    def gap(m: float) -> float:  # increasing in m
        return _hb_upper_tail(total, n, m) - tail

    if gap(0.0) > 0.0:
        return 0.0
    return float(brentq(gap, 0.0, mean, xtol=1e-10))


def lower_bound(total: float, n: int, tail: float, *, binary: bool | None = None) -> float:
    """One-sided lower confidence bound for the mean score, wrong with probability at most ``tail``.

    Args:
        total: Sum of the scores.
        n: Number of scores (``0`` gives ``0.0``).
        tail: One-sided error probability, in (0, 1).
        binary: True: the scores are 0/1 (Clopper–Pearson, ``total`` must be whole); False: fractional scores
            (Hoeffding–Bentkus); None: Clopper–Pearson when ``total`` is a whole number.

    Returns:
        The bound, in [0, 1].
    """
    if not 0.0 < tail < 1.0:
        raise ValueError(f"tail must lie strictly between 0 and 1, got {tail!r}")
    if n < 0 or not math.isfinite(total) or total < -_INTEGER_TOL or total > n + _INTEGER_TOL:
        raise ValueError(f"need 0 <= successes <= n, got successes={total!r}, n={n!r}")
    if n == 0:
        return 0.0
    k = _whole(total)
    if binary is True and k is None:
        raise ValueError(f"binary scores need a whole number of successes, got {total!r}")
    if k is not None and binary is not False:
        return 0.0 if k == 0 else float(betaincinv(k, n - k + 1, tail))  # the beta quantile
    return _hb_lower(min(max(float(total), 0.0), float(n)), n, tail)


def upper_bound(total: float, n: int, tail: float, *, binary: bool | None = None) -> float:
    """One-sided upper confidence bound for the mean score (mirror of :func:`lower_bound`)."""
    if n == 0:
        return 1.0
    return 1.0 - lower_bound(n - total, n, tail, binary=binary)


def clopper_pearson(successes: float, n: int, confidence: float = 0.95, *,
                    binary: bool | None = None) -> tuple[float, float]:
    """Two-sided interval for the mean score: exact Clopper–Pearson for counts, Hoeffding–Bentkus otherwise.

    Args:
        successes: Sum of the scores (a whole number for binary outcomes).
        n: Number of scored items.
        confidence: Two-sided confidence level, e.g. 0.95; each side errs with probability (1 - confidence) / 2.
        binary: Whether the scores are 0/1; None infers it from ``successes`` being whole. Pass False for
            fractional scores whose sum happens to be whole.

    Returns:
        ``(low, high)``; ``(0.0, 1.0)`` when ``n == 0``.

    Raises:
        ValueError: When ``successes`` is outside ``[0, n]`` or confidence outside (0, 1).
    """
    tail = (1.0 - _check_confidence(confidence)) / 2.0
    return (lower_bound(successes, n, tail, binary=binary), upper_bound(successes, n, tail, binary=binary))


def decide(successes: float, n: int, bar: float, confidence: float = 0.95, *, errors: int = 0,
           binary: bool | None = None) -> Decision:
    """Pass, fail or undecided against ``bar``, counting errors conservatively.

    Errors (items with no score after bounded retries) are never scored. To *pass*, they count as failures
    (lower bound of ``successes / (n + errors)``); to *fail*, they count as successes (upper bound of
    ``(successes + errors) / (n + errors)``). So no outcome of the errored items could reverse a decision.

    Args:
        successes: Sum of the scores of the ``n`` scored items.
        n: Number of scored items (errors excluded).
        bar: The accuracy to clear, in [0, 1].
        confidence: Two-sided confidence of the interval.
        errors: Number of items that ended in an error.
        binary: Whether the scores are 0/1 (see :func:`clopper_pearson`).

    Returns:
        ``"pass"`` when the lower bound >= bar, ``"fail"`` when the upper bound < bar, else ``"undecided"``.
    """
    if errors < 0:
        raise ValueError(f"errors must be >= 0, got {errors}")
    total = n + errors
    low, _ = clopper_pearson(successes, total, confidence, binary=binary)
    if low >= bar:
        return "pass"
    _, high = clopper_pearson(successes + errors, total, confidence, binary=binary)
    if high < bar:
        return "fail"
    return "undecided"


def _pairs(model: Sequence[float], reference: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(model, dtype=float)
    b = np.asarray(reference, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired scores need equal-length sequences, got {a.shape} and {b.shape}")
    for arr in (a, b):
        if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0.0 or arr.max() > 1.0):
            raise ValueError("paired scores must be finite and lie in [0, 1]")
    return a, b


def _discordant_bounds(a: np.ndarray, b: np.ndarray, tail: float) -> tuple[float, float]:
    """Exact-based bounds for p_model - p_reference from discordant pairs (binary outcomes).

    With ``psi`` the probability that a pair is discordant and ``pi`` the probability that a discordant pair
    favours the model, the difference is ``psi * (2 pi - 1)``. ``psi`` gets a Clopper–Pearson bound from
    the discordant count out of n, ``pi`` one from the model-favouring count out of the discordant pairs
    (conditionally exact, hence exact), each at ``tail / 2`` per side (Bonferroni), and the worst product
    within both bounds is taken.
    """
    n = int(a.size)
    plus = int(np.sum((a == 1.0) & (b == 0.0)))
    minus = int(np.sum((a == 0.0) & (b == 1.0)))
    disc = plus + minus
    conf = 1.0 - tail  # two-sided at 1 - tail gives each side tail / 2
    psi_lo, psi_hi = clopper_pearson(disc, n, conf)
    pi_lo, pi_hi = clopper_pearson(plus, disc, conf) if disc else (0.0, 1.0)
    low = psi_hi * (2 * pi_lo - 1) if pi_lo < 0.5 else psi_lo * (2 * pi_lo - 1)
    high = psi_lo * (2 * pi_hi - 1) if pi_hi < 0.5 else psi_hi * (2 * pi_hi - 1)
    return low, high


def paired_non_inferiority(model: Sequence[float], reference: Sequence[float], margin: float,
                           confidence: float = 0.95) -> tuple[float, float, Decision]:
    """Is ``model`` no worse than ``reference`` by more than ``margin``, on the same items?

    Method. Binary outcomes: the exact discordant-pair construction above (no normal approximation; valid
    for every n). Fractional scores: the per-item differences ``d = model - reference`` lie in [-1, 1], so
    ``(d + 1) / 2`` lies in [0, 1] and the Hoeffding–Bentkus interval applies (valid for any distribution).
    Both are two-sided at ``confidence``. Pairs must already be restricted to items both models scored.

    Args:
        model: Scores of the candidate, item by item.
        reference: Scores of the reference on the same items, in the same order.
        margin: Allowed shortfall (>= 0).
        confidence: Two-sided confidence.

    Returns:
        ``(mean difference, lower bound, decision)``: pass when the lower bound > -margin, fail when the upper
        bound < -margin, else undecided. With no pairs: ``(nan, -1.0, "undecided")``.
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    tail = (1.0 - _check_confidence(confidence)) / 2.0
    a, b = _pairs(model, reference)
    if a.size == 0:
        return math.nan, -1.0, "undecided"
    diff = float(np.mean(a - b))
    binary = bool(np.all((a == 0.0) | (a == 1.0)) and np.all((b == 0.0) | (b == 1.0)))
    if binary:
        low, high = _discordant_bounds(a, b, tail)
    else:
        n = int(a.size)
        shifted = float(np.sum((a - b + 1.0) / 2.0))  # not binomial even when whole: always Hoeffding–Bentkus
        lo01, hi01 = lower_bound(shifted, n, tail, binary=False), upper_bound(shifted, n, tail, binary=False)
        low, high = 2 * lo01 - 1, 2 * hi01 - 1
    decision: Decision = "pass" if low > -margin else "fail" if high < -margin else "undecided"
    return diff, float(low), decision


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100, linear interpolation) of the finite values; None when there are none."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile must lie in [0, 100], got {q}")
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return None
    return float(np.percentile(arr, q))


__all__ = [
    "Decision",
    "clopper_pearson",
    "decide",
    "lower_bound",
    "paired_non_inferiority",
    "percentile",
    "upper_bound",
]
