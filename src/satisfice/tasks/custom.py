"""Custom Python scorers: import ``module:function`` (from the task's folder first) and check what it returns."""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any

from satisfice.core import Completion, Score
from satisfice.pyref import load_function
from satisfice.tasks.sample import Sample


def as_score(value: Any, *, where: str) -> Score:
    """A custom scorer's result as a Score: bool -> 0/1, number in [0, 1], or a Score.

    Raises:
        ValueError: For values outside [0, 1], NaN, or other types.
    """
    if isinstance(value, Score):
        score = value
    elif isinstance(value, bool):
        score = Score(float(value))
    elif isinstance(value, int | float):
        score = Score(float(value))
    else:
        raise ValueError(f"{where} returned {type(value).__name__}; return a float, a bool or a Score")
    if math.isnan(score.value) or not 0.0 <= score.value <= 1.0:
        raise ValueError(f"{where} returned {score.value!r}; scores must lie in [0, 1]")
    return score


class CustomScorer:
    """A user function ``(sample, completion) -> float | bool | Score`` (sync or async); options as keywords."""

    def __init__(self, ref: str, options: dict[str, Any], base_dir: Path) -> None:
        self.ref = ref
        self.function = load_function(ref, base_dir=base_dir, what="custom scorer")
        self.options = options
        self.needs_reference = bool(getattr(self.function, "needs_reference", True))

    async def __call__(self, sample: Sample, completion: Completion) -> Score:
        """Call the user's function and check its result."""
        result = self.function(sample, completion, **self.options)
        if inspect.isawaitable(result):
            result = await result
        return as_score(result, where=f"custom scorer {self.ref!r}")


__all__ = ["CustomScorer", "as_score"]
