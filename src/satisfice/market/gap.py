"""The open-vs-closed gap: best closed and best open score over time, as step functions.

At every release date of a scored model the best score so far among closed-weight models and
among open-weight models is updated; the gap is ``best_closed - best_open`` (negative when open
models lead) once both exist. ``first_under`` is the first date the gap fell below ``under`` points.
Models whose openness is unknown, or that have no release date, are left out (and listed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from satisfice.catalog.rows import Catalog
from satisfice.market.common import benchmark_name, resolve_benchmark


@dataclass(frozen=True)
class Leader:
    """The best model of one kind at a date."""

    model: str
    name: str
    score: float
    release_date: dt.date
    harness: str = ""
    """Who ran the benchmark the score comes from."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {"model": self.model, "name": self.name, "score": self.score,
                "release_date": self.release_date.isoformat(), "harness": self.harness}


@dataclass(frozen=True)
class GapStep:
    """State of the race after the releases of one date."""

    date: dt.date
    best_closed: Leader | None
    best_open: Leader | None

    @property
    def gap(self) -> float | None:
        """Best closed score minus best open score (None until both exist)."""
        if self.best_closed is None or self.best_open is None:
            return None
        return self.best_closed.score - self.best_open.score

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {"date": self.date.isoformat(),
                "best_closed": self.best_closed.to_json() if self.best_closed else None,
                "best_open": self.best_open.to_json() if self.best_open else None,
                "gap": self.gap}


@dataclass(frozen=True)
class GapResult:
    """Everything ``market gap`` reports."""

    benchmark: str
    benchmark_name: str
    under: float | None
    as_of: dt.date | None
    steps: tuple[GapStep, ...]
    first_under: dt.date | None
    left_out: tuple[str, ...]

    @property
    def latest_gap(self) -> float | None:
        """The gap after the last release."""
        return self.steps[-1].gap if self.steps else None

    def summary(self) -> str:
        """One line: the gap now and when it first fell under the given points."""
        if not self.steps:
            return f"No scored models with known openness on {self.benchmark_name}."
        last = self.steps[-1]
        parts = [f"{self.benchmark_name} on {last.date}"]
        for label, leader in (("best closed", last.best_closed), ("best open", last.best_open)):
            parts.append(f"{label}: {leader.name} {leader.score:g}" if leader else f"{label}: none")
        if last.gap is not None:
            parts.append(f"gap {last.gap:+.3g} points")
        if self.under is not None:
            parts.append(f"first under {self.under:g} points: {self.first_under or 'never'}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``market gap --json``."""
        return {
            "benchmark": self.benchmark,
            "under": self.under,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "gap_direction": "best_closed.score - best_open.score (negative: open leads)",
            "steps": [s.to_json() for s in self.steps],
            "latest_gap": self.latest_gap,
            "first_under": self.first_under.isoformat() if self.first_under else None,
            "left_out": list(self.left_out),
        }


def gap(catalog: Catalog, benchmark: str, under: float | None = None, as_of: dt.date | None = None) -> GapResult:
    """Best closed vs best open score over time on ``benchmark``.

    Args:
        catalog: the catalog snapshot.
        benchmark: benchmark slug, display name or alias.
        under: report the first date the gap fell below this many points.
        as_of: only models released by this date.
    """
    slug = resolve_benchmark(catalog, benchmark)
    cat = catalog.as_of(as_of) if as_of is not None else catalog
    releases: dict[dt.date, list[tuple[bool, Leader]]] = {}
    left_out: list[str] = []
    for model in cat.models.values():
        score = cat.score(model.id, slug)
        if score is None:
            continue
        if model.open_weights is None or model.release_date is None:
            left_out.append(model.name)
            continue
        leader = Leader(model.id, model.name, score.value, model.release_date, score.harness)
        releases.setdefault(model.release_date, []).append((model.open_weights, leader))
    steps: list[GapStep] = []
    best: dict[bool, Leader | None] = {True: None, False: None}
    first_under = None
    for day in sorted(releases):
        for is_open, leader in sorted(releases[day], key=lambda x: (-x[1].score, x[1].model)):
            current = best[is_open]
            if current is None or leader.score > current.score:
                best[is_open] = leader
        step = GapStep(day, best[False], best[True])
        steps.append(step)
        if first_under is None and under is not None and step.gap is not None and step.gap < under:
            first_under = day
    return GapResult(slug, benchmark_name(cat, slug), under, as_of, tuple(steps), first_under,
                     tuple(sorted(left_out)))
