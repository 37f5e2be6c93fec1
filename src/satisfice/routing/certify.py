"""Certification of routing policies: an exact binomial lower bound, tested in a fixed sequence (Learn-then-Test).

Policies are ordered once, before the calibration items are looked at (dearest first, from the items they were
chosen on). Each is tested on the calibration items for "accuracy >= bar": certified when its one-sided
Clopper–Pearson lower bound at level ``1 - confidence`` is at least the bar. The sequence stops at the first
policy that is not certified. Testing a fixed sequence at full level keeps the chance of certifying any policy
whose true accuracy is below the bar at most ``1 - confidence`` however many policies are in it, so the
multiplicity of the thresholds and policies tried costs nothing as long as the order is fixed in advance.
Fractional scores use the Hoeffding–Bentkus bound of :mod:`satisfice.evals.stats` instead of the binomial one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from satisfice.evals.stats import lower_bound


def accuracy_lower_bound(scores: np.ndarray, confidence: float) -> float:
    """One-sided lower confidence bound at ``confidence`` on the mean of ``scores`` (exact for 0/1 scores)."""
    n = int(scores.size)
    if n == 0:
        return 0.0
    total = float(scores.sum())
    binary = bool(np.all((scores == 0.0) | (scores == 1.0)))
    return float(lower_bound(round(total) if binary else total, n, 1.0 - confidence, binary=binary))


@dataclass(frozen=True)
class Certificate:
    """One tested policy: its index in the sequence, the lower bound and whether it cleared the bar."""

    index: int
    lower: float
    certified: bool


def fixed_sequence(scores: Sequence[np.ndarray], bar: float, confidence: float) -> list[Certificate]:
    """Test policies in the given order on their calibration scores; stop at the first one below the bar.

    Args:
        scores: Per policy, its scores on the calibration items (the order is the test order).
        bar: Accuracy the policies must clear.
        confidence: Confidence of the whole family (each test runs at level ``1 - confidence``).

    Returns:
        The certificates of the policies tested, in order; only the last one may be uncertified.
    """
    out: list[Certificate] = []
    for i, s in enumerate(scores):
        low = accuracy_lower_bound(s, confidence)
        out.append(Certificate(i, low, low >= bar))
        if low < bar:
            break
    return out


__all__ = ["Certificate", "accuracy_lower_bound", "fixed_sequence"]
