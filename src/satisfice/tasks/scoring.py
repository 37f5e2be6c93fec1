"""The scorer seam: :class:`Scorer` grades one completion for one sample.

Its own module so the scorer registry and every scorer implementation depend on the seam, not on each other.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from satisfice.core import Completion, Score
from satisfice.tasks.sample import Sample


@runtime_checkable
class Scorer(Protocol):
    """Grades a completion for a sample; ``needs_reference`` says whether it reads the sample's target."""

    needs_reference: bool

    async def __call__(self, sample: Sample, completion: Completion) -> Score:
        """Score one completion."""
        ...


__all__ = ["Scorer"]
