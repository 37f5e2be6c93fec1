"""The decision rule of a guarded experiment: does a challenger's accuracy clear the bar, and how sure are we.

Scores (one per scored request, in [0, 1], in the order they arrived) feed two one-sided betting tests at the
bar (:func:`satisfice.evals.sequences.log_wealth`): "accuracy <= bar" is rejected (promote) once its wealth
reaches ``1/alpha``; "accuracy >= bar" is rejected (stop) once the mirror test's does. Each wealth is a
nonnegative supermartingale under its hypothesis, so by Ville's inequality a challenger whose true accuracy is
below the bar is promoted with probability at most ``alpha``, however often the evidence is looked at and
however the experiment is stopped. The interval reported is the betting confidence sequence with each side at
``alpha`` (:func:`satisfice.evals.sequences.confidence_sequence`).

Assumptions: scores of a challenger are independent draws with a fixed mean (traffic does not drift during the
experiment), and a score once counted does not change (a later feedback that replaces an earlier one breaks
this slightly; it is counted where the request first scored).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from satisfice.evals.sequences import confidence_sequence, log_wealth


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where one challenger stands on its evidence."""

    scored: int
    accuracy: float | None
    ci_low: float
    ci_high: float
    decision: str
    """``promote``, ``stop`` or ``continue``."""
    reason: str = ""


def decide(scores: np.ndarray, bar: float, alpha: float, horizon: int) -> tuple[str, str]:
    """``(decision, reason)`` on the scores so far: ``promote``, ``stop`` or ``continue`` (see the module)."""
    if scores.size == 0:
        return "continue", "no evidence yet"
    threshold = math.log(1.0 / alpha)
    if log_wealth(scores, bar, +1, horizon=horizon) >= threshold:
        return "promote", f"accuracy above {bar:g} with the stated confidence"
    if log_wealth(scores, bar, -1, horizon=horizon) >= threshold:
        return "stop", f"accuracy below {bar:g} with the stated confidence"
    if scores.size >= horizon:
        return "stop", f"undecided after {horizon} scored requests"
    return "continue", ""


def judge(scores: Sequence[float] | np.ndarray, bar: float, alpha: float, horizon: int) -> Verdict:
    """Test "accuracy >= bar" on the scores so far, each way wrong with probability at most ``alpha``."""
    x = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    decision, reason = decide(x, bar, alpha, horizon)
    if x.size == 0:
        return Verdict(0, None, 0.0, 1.0, decision, reason)
    low, high = confidence_sequence(x, 1.0 - 2.0 * alpha, horizon=horizon)
    return Verdict(x.size, float(x.mean()), low, high, decision, reason)


__all__ = ["Verdict", "decide", "judge"]
