"""Who ran a benchmark, and which of several observations of one score stands by default.

A score is an observation: a model's value on a benchmark as measured by a *harness* (who ran it:
``epoch``, ``artificial-analysis``, ``openrouter``, ``vendor``...), with an effort/variant, a date
and a source. Several observations of one (model, benchmark) are kept side by side; analyses use
one of them, chosen by :func:`pick`: a harness asked for by name, else the first harness in
:data:`PRECEDENCE` (independent runs before leaderboards that copy vendor figures before vendor
claims), and within one harness the newest observation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

PRECEDENCE: tuple[str, ...] = (
    "epoch",
    "artificial-analysis",
    "openrouter",
    "satisfice",
    "swe-bench",
    "tiger-lab",
    "lmarena",
    "third-party",
    "vendor",
)
"""Harnesses in default order of trust: independent runs first, vendor-reported figures last.

A harness not listed here ranks after the independent ones and before ``vendor``."""

UNSPECIFIED = "unspecified"
"""The harness of a score whose source does not say who ran it (ranked last)."""


class Observed(Protocol):
    """What :func:`pick` needs of a score observation."""

    @property
    def harness(self) -> str: ...  # noqa: D102

    @property
    def date(self) -> dt.date | None: ...  # noqa: D102


S = TypeVar("S", bound=Observed)


def rank(harness: str) -> int:
    """Position of ``harness`` in the default precedence (lower is preferred)."""
    if harness in PRECEDENCE:
        index = PRECEDENCE.index(harness)
        return index if harness != "vendor" else len(PRECEDENCE) + 1
    if not harness or harness == UNSPECIFIED:
        return len(PRECEDENCE) + 2
    return len(PRECEDENCE)  # an unknown harness: after the independent ones, before vendor claims


def pick(observations: Sequence[S], harness: str | None = None) -> S | None:
    """The observation that stands: of ``harness`` when given, else by precedence; newest within one harness."""
    candidates: Iterable[S] = observations
    if harness is not None:
        candidates = [o for o in observations if o.harness == harness]
    best: S | None = None
    for obs in candidates:
        if best is None or _key(obs) < _key(best):
            best = obs
    return best


def _key(obs: Observed) -> tuple[int, int]:
    day = obs.date.toordinal() if obs.date is not None else 0
    return (rank(obs.harness), -day)
