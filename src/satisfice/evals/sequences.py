"""Anytime-valid sequential tests and confidence sequences for mean scores in [0, 1].

Every test here is a nonnegative (super)martingale "wealth" that starts at 1 under the hypothesis; by Ville's
inequality it ever reaches ``1/delta`` with probability at most ``delta`` - whenever one looks, and however
one decides when to stop. Two tools:

* :class:`FiniteSequentialTest` - *sampling without replacement* from a finite set of N items: predicts, from
  a random-order prefix, which side of two fixed cut-offs the **total over all N items** lies on. At the last
  item the answer is exact. Used by :mod:`satisfice.evals.adaptive` to reproduce the exhaustive (every-item)
  decision early. Each one-sided hypothesis "total <= c" (or ">= c") is tested by

  - for 0/1 scores, an **exact hypergeometric mixture likelihood ratio** (Waudby-Smith & Ramdas, "Confidence
    sequences for sampling without replacement", NeurIPS 2020): given the seen prefix, a total T makes the next
    item a success with probability ``(T - seen) / remaining``. The wealth is the prior-weighted average, over
    alternative totals T' beyond c, of the likelihood ratio of the prefix under T' against T = c. Each ratio
    is a martingale when T = c and a supermartingale for every T on the hypothesis' side (the expected factor
    is linear in T, equal to 1 at T = c, and moves the right way; shown in :class:`_HypergeometricSide`), so
    the average is too. The prior puts equal weights on a geometric grid of gaps ``|T' - c|`` (about
    log-uniform) from a quarter of ``sqrt(N)`` to the largest possible gap, fixed before any data;
  - for fractional scores, the **betting** capital process of Waudby-Smith & Ramdas ("Estimating means of
    bounded random variables by betting", JRSS-B 2023, Section 6): bets of a fixed grid of sizes against the
    next item's mean under the hypothesis, ``(c - seen) / remaining``, averaged.

  Once the seen total alone contradicts the hypothesis it is rejected outright.
* :func:`confidence_sequence` - a betting confidence sequence for the *true* mean of i.i.d. scores, to report
  an interval that stays valid after stopping early.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def _log_mean_exp(values: np.ndarray) -> np.ndarray:
    """log(mean(exp(values))) along the last axis, computed stably."""
    top = values.max(axis=-1, keepdims=True)
    return np.asarray((top + np.log(np.exp(values - top).mean(axis=-1, keepdims=True)))[..., 0])


TRUNCATION = 0.75
"""Largest share of the wealth ever bet (keeps every factor >= 0.25, as in WSR 2023)."""


def bet_grid(n: int, *, ratio: float = 1.6) -> np.ndarray:
    """Bet sizes (in units of 1/variance): geometric from ~0.5 standard errors at n items up to all-in."""
    d_min = 0.25 / math.sqrt(max(n, 1))
    count = max(1, math.ceil(math.log(1.0 / d_min) / math.log(ratio)) + 1)
    return np.geomspace(d_min, 1.0, count)


@dataclass
class _BettingSide:
    """One one-sided WoR betting test for scores in [0, 1]: 'total <= cut' (direction +1) or '>= cut' (-1)."""

    cut: float
    direction: int
    delta: float
    n: int
    lam: np.ndarray
    log_wealth: np.ndarray
    total: float = 0.0

    def consume(self, x: np.ndarray, start: int) -> int | None:
        """Feed scores drawn at positions ``start+1 ..``; return the 1-based index within x of the rejection."""
        k = x.size
        before = self.total + np.concatenate(([0.0], np.cumsum(x)[:-1]))
        after = before + x
        remaining = self.n - (start + np.arange(k))  # items left before each draw, this one included
        mu = np.clip((self.cut - before) / remaining, 0.0, 1.0)
        if self.direction > 0:
            impossible = after > self.cut + 1e-9  # the seen total alone already exceeds the cut
            cap = TRUNCATION / np.maximum(mu, 1e-12)
            gain = x - mu
        else:
            impossible = after + (remaining - 1) < self.cut - 1e-9  # even all-ones cannot reach the cut
            cap = TRUNCATION / np.maximum(1.0 - mu, 1e-12)
            gain = mu - x
        bets = np.minimum(self.lam[None, :], cap[:, None])
        log_w = self.log_wealth[None, :] + np.cumsum(np.log1p(bets * gain[:, None]), axis=0)
        mixture = _log_mean_exp(log_w)
        hit = np.nonzero(impossible | (mixture >= math.log(1.0 / self.delta)))[0]
        used = int(hit[0]) + 1 if hit.size else k
        self.log_wealth = log_w[used - 1]
        self.total += float(x[:used].sum())
        return used if hit.size else None


GAP_RATIO = 1.25
"""Spacing of the alternative totals of the hypergeometric mixture (geometric in the gap)."""


def gap_grid(room: float, n: int) -> np.ndarray:
    """Gaps ``|T' - c|`` of the alternative totals: geometric from ~sqrt(n)/4 to ``room`` (whole numbers)."""
    top = math.floor(room + 1e-9)
    if top < 1:
        return np.zeros(0)
    low = min(float(top), max(1.0, 0.25 * math.sqrt(n)))
    count = max(2, math.ceil(math.log(top / low) / math.log(GAP_RATIO)) + 1)
    return np.unique(np.round(np.geomspace(low, top, count)))


def hypergeometric_alternatives(cut: float, direction: int, n: int) -> tuple[float, np.ndarray, np.ndarray]:
    """The whole-number cut, the alternative totals and their log prior weights of one hypergeometric side."""
    whole = float(math.floor(cut + 1e-9) if direction > 0 else math.ceil(cut - 1e-9))
    gaps = gap_grid(n - whole if direction > 0 else whole, n)
    log_prior = np.full(gaps.size, -math.log(gaps.size)) if gaps.size else np.zeros(0)
    return whole, whole + direction * gaps, log_prior


class HypergeometricWealth:
    """Log wealth of one hypergeometric side after t items, in closed form, for given counts of successes S.

    The wealth depends on the prefix only through (t, S): the likelihood of an ordered prefix under a total T is
    ``T!/(T-S)! (n-T)!/(n-T-t+S)! (n-t)!/n!``. +inf where the prefix refutes the hypothesis outright, -inf
    where the wealth is 0. Same numbers as :meth:`_HypergeometricSide.consume` up to rounding; used to
    calibrate thresholds exactly (:mod:`satisfice.evals.calibration`).
    """

    def __init__(self, cut: float, direction: int, n: int, alternatives: Sequence[int] | None = None) -> None:
        """The side's own mixture over alternative totals, or equal weights on ``alternatives`` if given."""
        whole, alt, self.log_prior = hypergeometric_alternatives(cut, direction, n)
        if alternatives is not None:
            alt = np.asarray(alternatives, dtype=float)
            self.log_prior = np.full(alt.size, -math.log(alt.size)) if alt.size else np.zeros(0)
        self.cut, self.direction, self.n = int(whole), direction, n
        self.totals = alt.astype(int)[:, None]
        self.log_factorial = np.cumsum(np.log(np.maximum(np.arange(n + 1, dtype=float), 1.0)))  # log k!

    def _log_falling(self, a: np.ndarray | int, k: np.ndarray) -> np.ndarray:
        a_arr = np.asarray(a)
        ok = (k <= a_arr) & (a_arr >= 0)
        lf, n = self.log_factorial, self.n
        return np.where(ok, lf[np.clip(a_arr, 0, n)] - lf[np.clip(a_arr - k, 0, n)], -np.inf)

    def __call__(self, t: int | np.ndarray, s: np.ndarray) -> np.ndarray:
        """Log wealth after t items with s successes (counts in 0..t; t a number, or an array shaped like s)."""
        n, c = self.n, self.cut
        null = self._log_falling(c, s) + self._log_falling(n - c, t - s)
        refuted = s > c if self.direction > 0 else (t - s) > (n - c)
        if not self.totals.size:
            return np.where(refuted, np.inf, -np.inf)
        under = (self._log_falling(self.totals, s[None, :]) + self._log_falling(n - self.totals, (t - s)[None, :])
                 + self.log_prior[:, None])
        top = under.max(axis=0)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mixture = np.where(np.isfinite(top), safe + np.log(np.exp(under - safe).sum(axis=0)), -np.inf)
            wealth = np.where(np.isfinite(null), mixture - null, -np.inf)
        return np.where(refuted, np.inf, wealth)


class _HypergeometricSide:
    """One one-sided exact WoR test for 0/1 scores: 'total <= cut' (direction +1) or 'total >= cut' (-1).

    Wealth: the average over alternative totals T' (beyond the cut, equal weights on :func:`gap_grid`) of
    ``P_T'(prefix) / P_c(prefix)``. Validity: with ``m`` items left, ``a = c - seen``, ``a' = T' - seen`` and
    a true ``a_T = T - seen``, the expected factor of the next item is ``(a_T/m)(a'/a) + (1 - a_T/m)(m - a')/(m -
    a)``: linear in ``a_T``, equal to 1 at ``a_T = a`` and with the sign of ``a' - a`` as slope, so at most 1
    for every total T on the hypothesis' side. Zero-probability cases: a draw impossible under T = c but
    possible under the hypothesis can only come once every alternative is already impossible (wealth 0); a draw
    impossible under the whole hypothesis rejects it outright.
    """

    def __init__(self, cut: float, direction: int, delta: float, n: int) -> None:
        self.cut, self.alt, self.log_prior = hypergeometric_alternatives(cut, direction, n)
        self.direction, self.delta, self.n = direction, delta, n
        self.log_lr = np.zeros(self.alt.size)
        self.total = 0.0

    def consume(self, x: np.ndarray, start: int) -> int | None:
        """Feed 0/1 scores drawn at positions ``start+1 ..``; return the 1-based index of the rejection."""
        k = x.size
        one = x > 0.5
        before = self.total + np.concatenate(([0.0], np.cumsum(x)[:-1]))
        m = (self.n - (start + np.arange(k))).astype(float)  # items left before each draw, this one included
        # remaining successes (x = 1) or failures (x = 0) under the cut and under each alternative
        a_null = np.where(one, self.cut - before, m - self.cut + before)
        impossible = (a_null < 0.5) & (one if self.direction > 0 else ~one)
        a_alt = np.where(one[:, None], self.alt[None, :] - before[:, None],
                         m[:, None] - self.alt[None, :] + before[:, None])
        with np.errstate(divide="ignore"):
            step = np.log(np.maximum(a_alt, 0.0)) - np.log(np.maximum(a_null, 0.5))[:, None]
        log_lr = self.log_lr[None, :] + np.cumsum(step, axis=0)
        if self.alt.size:
            z = log_lr + self.log_prior[None, :]
            top = z.max(axis=1)
            safe = np.where(np.isfinite(top), top, 0.0)
            with np.errstate(divide="ignore"):
                mixture = np.where(np.isfinite(top), safe + np.log(np.exp(z - safe[:, None]).sum(axis=1)), -np.inf)
        else:
            mixture = np.full(k, -np.inf)
        hit = np.nonzero(impossible | (mixture >= math.log(1.0 / self.delta)))[0]
        used = int(hit[0]) + 1 if hit.size else k
        self.log_lr = log_lr[used - 1]
        self.total += float(x[:used].sum())
        return used if hit.size else None


class FiniteSequentialTest:
    """Decide early, from items drawn in random order without replacement, what the full-N decision will be.

    The full decision is "pass" when the total over all N items is at least ``pass_total``, "fail" when it is
    at most ``fail_total``, "undecided" in between. Four one-sided tests run side by side, each rejecting a
    hypothesis about that total at its own level:

    ======== ====================================== ============================================
    side     rejects                                so we know
    ======== ====================================== ============================================
    pass     total <= pass_total - step             the full data will pass
    fail     total >= fail_total + step             the full data will fail
    no_pass  total >= pass_total                    the full data will not pass
    no_fail  total <= fail_total                    the full data will not fail
    ======== ====================================== ============================================

    The test stops at "pass" or "fail", or "undecided" once both no_pass and no_fail hold (or, with
    ``no_pass_grace``, soon after no_pass holds: enough to move on to the next candidate). At the N-th item
    every answer is exact. Given the N items, each side is wrong with probability at most its level (only the
    random order is random), so the test disagrees with the full decision with probability at most the sum of
    the levels of the sides whose hypothesis is true (two of the four, or fewer).

    With ``step == 1`` the scores must be 0 or 1 and every side is the exact hypergeometric test; otherwise the
    betting test. Errors are scored conservatively: as 0 by the pass and no_fail sides, as 1 by the fail and
    no_pass sides.
    """

    def __init__(self, n: int, *, pass_total: float | None, fail_total: float | None, delta: float,
                 step: float = 1.0, no_pass_grace: float | None = None,
                 levels: Mapping[str, float] | None = None) -> None:
        """Set up the test.

        Args:
            n: Number of items in the finite set (the horizon).
            pass_total: Smallest total that passes on all n items (None: no total passes).
            fail_total: Largest total that fails on all n items (None: no total fails).
            delta: Level of each side not named in ``levels``.
            step: Gap between a passing total and the largest non-passing one: 1 for 0/1 scores (exact
                hypergeometric sides), 0 for fractional scores (betting sides).
            no_pass_grace: None: run to pass, fail or undecided. A number g >= 0: also stop once the full data is
                known not to pass, after at most g times as many further items spent trying to settle "fail".
            levels: Side name -> its level, overriding ``delta``; a level of 0 leaves that side out.
        """
        if n <= 0:
            raise ValueError("a sequential test needs at least one item")
        self.binary = step == 1.0
        if self.binary:  # whole totals: passing means >= the smallest whole total that passes, and so on
            pass_total = None if pass_total is None else float(math.ceil(pass_total - 1e-9))
            fail_total = None if fail_total is None else float(math.floor(fail_total + 1e-9))
        self.n, self.t = n, 0
        self.pass_total, self.fail_total = pass_total, fail_total
        self.no_pass_grace = no_pass_grace
        level = {name: delta for name in ("pass", "no_pass", "fail", "no_fail")}
        level.update(levels or {})
        if any(not 0.0 <= v < 1.0 for v in level.values()):
            raise ValueError("side levels must lie in [0, 1)")
        lam = bet_grid(n)
        cuts: dict[str, tuple[float, int]] = {}
        if pass_total is not None:
            cuts.update({"pass": (pass_total - step, +1), "no_pass": (pass_total, -1)})
        if fail_total is not None:
            cuts.update({"fail": (fail_total + step, -1), "no_fail": (fail_total, +1)})
        self._sides: dict[str, _HypergeometricSide | _BettingSide] = {}
        for name, (cut, direction) in cuts.items():
            if level[name] <= 0.0:
                continue
            self._sides[name] = (_HypergeometricSide(cut, direction, level[name], n) if self.binary else
                                 _BettingSide(cut, direction, level[name], n, lam, np.zeros(lam.size)))
        self.known: dict[str, int] = {}  # side -> item count at which it rejected
        if pass_total is None:
            self.known["no_pass"] = 0
        if fail_total is None:
            self.known["no_fail"] = 0
        self.decision: str | None = None
        self._settle(0)

    @property
    def done(self) -> bool:
        """True once decided (or every item consumed)."""
        return self.decision is not None

    @property
    def will_not_pass(self) -> bool:
        """True once the full data is known not to pass."""
        return "no_pass" in self.known or self.decision == "fail"

    def _stop_time(self) -> tuple[int, str] | None:
        times: list[tuple[int, int, str]] = []
        if "fail" in self.known:
            times.append((self.known["fail"], 0, "fail"))
        if "pass" in self.known:
            times.append((self.known["pass"], 1, "pass"))
        if "no_pass" in self.known and "no_fail" in self.known:
            times.append((max(self.known["no_pass"], self.known["no_fail"]), 2, "undecided"))
        if self.no_pass_grace is not None and "no_pass" in self.known:
            at = self.known["no_pass"]
            times.append((min(self.n, at + math.ceil(self.no_pass_grace * at)), 3, "undecided"))
        if not times:
            return None
        when, _, what = min(times)
        return when, what

    def _settle(self, t_end: int) -> int | None:
        """Decide if a stopping time falls at or before ``t_end`` items; return that time."""
        stop = self._stop_time()
        if stop is None or stop[0] > t_end:
            return None
        self.decision = stop[1]
        return stop[0]

    def consume(self, scores: np.ndarray, errors: np.ndarray | None = None) -> int:
        """Feed the next scores (in draw order); stop at the first decision.

        Args:
            scores: Scores in [0, 1] (any value where ``errors`` is True).
            errors: Which entries are errors; None: none.

        Returns:
            How many of the given scores were used (all of them unless the test stopped earlier).
        """
        if self.done:
            return 0
        x = np.asarray(scores, dtype=float)[: self.n - self.t]
        if x.size == 0:
            return 0
        err = np.zeros(x.size, bool) if errors is None else np.asarray(errors, bool)[: x.size]
        if self.binary and not np.all((x == 0.0) | (x == 1.0) | err):
            raise ValueError("this test takes 0/1 scores (step=1); use step=0 for fractional scores")
        for name, side in self._sides.items():
            if name in self.known:
                continue
            at = side.consume(np.where(err, 0.0 if side.direction > 0 else 1.0, x), self.t)
            if at is not None:
                self.known[name] = self.t + at
        stop = self._settle(self.t + x.size)
        used = x.size if stop is None else max(stop - self.t, 0)
        self.t += used
        if self.decision is None and self.t >= self.n:
            self.decision = "undecided"
        return used


def _log_wealth_iid(scores: np.ndarray, m: np.ndarray, lam_units: np.ndarray, side: int) -> np.ndarray:
    """Log of the mixture wealth after all ``scores``, for each hypothesised mean in ``m`` (one side)."""
    var = np.maximum(m * (1.0 - m), 1e-12)
    cap = TRUNCATION / np.maximum(m if side > 0 else 1.0 - m, 1e-12)
    lam = np.minimum(lam_units[None, :] / var[:, None], cap[:, None])  # (M, J)
    x = np.asarray(scores, dtype=float)
    if np.all((x == 0.0) | (x == 1.0)):
        s, t = float(x.sum()), float(x.size)
        up, down = (1.0 - m)[:, None], m[:, None]  # gain when x = 1 and loss when x = 0, betting upwards
        if side > 0:
            log_w = s * np.log1p(lam * up) + (t - s) * np.log1p(-lam * down)
        else:
            log_w = s * np.log1p(-lam * up) + (t - s) * np.log1p(lam * down)
    else:
        log_w = np.zeros_like(lam)
        for chunk in np.array_split(x, max(1, x.size // 256)):
            gain = (chunk[None, :] - m[:, None]) * side  # (M, k)
            log_w += np.log1p(lam[:, :, None] * gain[:, None, :]).sum(axis=2)
    return _log_mean_exp(log_w)


def log_wealth(scores: np.ndarray, mean: float, side: int, *, horizon: int) -> float:
    """Log wealth of the betting test of "the true mean is ``mean``" for i.i.d. scores in [0, 1].

    ``side=+1`` bets on a mean above ``mean``: its wealth is a nonnegative supermartingale whenever the true mean
    is at most ``mean``, so it ever reaches ``1/delta`` with probability at most ``delta`` (Ville), however and
    whenever one looks. ``side=-1`` is the mirror image. ``horizon`` fixes the bet grid before any data.
    """
    x = np.asarray(scores, dtype=float)
    if x.size == 0:
        return 0.0
    return float(_log_wealth_iid(x, np.array([mean]), bet_grid(horizon), side)[0])


def confidence_sequence(scores: np.ndarray, confidence: float, *, horizon: int | None = None,
                        resolution: int = 400) -> tuple[float, float]:
    """Anytime-valid two-sided interval for the true mean of i.i.d. scores in [0, 1], after these scores.

    Valid at any stopping time (Ville's inequality): each side is wrong with probability at most
    ``(1 - confidence) / 2`` however the number of scores was chosen. Computed on a grid of ``resolution``
    hypothesised means and rounded outwards.

    Args:
        scores: The scores seen so far, in [0, 1].
        confidence: Two-sided confidence.
        horizon: The largest sample size planned (tunes the bet grid; defaults to the number of scores).
        resolution: Grid size for the hypothesised means.

    Returns:
        ``(low, high)``; ``(0, 1)`` without scores.
    """
    x = np.asarray(scores, dtype=float)
    if x.size == 0:
        return 0.0, 1.0
    threshold = math.log(2.0 / (1.0 - confidence))
    m = (np.arange(resolution) + 0.5) / resolution
    lam_units = bet_grid(horizon or x.size)
    keep = (_log_wealth_iid(x, m, lam_units, +1) < threshold) & (_log_wealth_iid(x, m, lam_units, -1) < threshold)
    if not keep.any():  # cannot happen for a sane confidence; be safe and return the point estimate
        mean = float(x.mean())
        return mean, mean
    half = 0.5 / resolution
    return max(0.0, float(m[keep].min()) - half), min(1.0, float(m[keep].max()) + half)


__all__ = ["GAP_RATIO", "TRUNCATION", "FiniteSequentialTest", "bet_grid", "confidence_sequence", "gap_grid",
           "log_wealth",
           "HypergeometricWealth", "hypergeometric_alternatives"]
