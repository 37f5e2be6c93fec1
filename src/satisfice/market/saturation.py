"""Saturation: the top score over time per benchmark, against its ceiling and its human baseline.

Each model is placed at its release date with the score that stands for it (the default harness
precedence, or one harness). The record line keeps each model that beat every model released before
it. A benchmark is *near its ceiling* when the record is within :data:`NEAR_CEILING` points of it:
differences that small are mostly noise and label errors, and the benchmark no longer separates models.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from satisfice.catalog.rows import Catalog
from satisfice.market.common import benchmark_name, is_elo, resolve_benchmark, scored_benchmarks

NEAR_CEILING = 5.0
"""Points below the ceiling at which a benchmark counts as saturated."""


@dataclass(frozen=True)
class Baseline:
    """A human reference score and where it comes from."""

    value: float
    who: str
    source: str


HUMAN_BASELINES: dict[str, Baseline] = {
    "mmlu": Baseline(89.8, "estimated expert-level accuracy",
                     "Hendrycks et al. 2021, Measuring Massive Multitask Language Understanding"),
    "gpqa-diamond": Baseline(65.0, "domain experts (PhD holders or candidates), full GPQA set",
                             "Rein et al. 2023, GPQA: A Graduate-Level Google-Proof Q&A Benchmark"),
}
"""Human baselines with their sources; benchmarks without a published one report none."""


@dataclass(frozen=True)
class Record:
    """A model that set a new top score."""

    date: dt.date
    model: str
    name: str
    score: float
    harness: str

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {"date": self.date.isoformat(), "model": self.model, "name": self.name, "score": self.score,
                "harness": self.harness}


@dataclass(frozen=True)
class Saturation:
    """One benchmark's record line and how close it is to its ceiling."""

    benchmark: str
    benchmark_name: str
    ceiling: float | None
    human: Baseline | None
    records: tuple[Record, ...]
    human_passed_on: dt.date | None

    @property
    def top(self) -> Record | None:
        """The current record."""
        return self.records[-1] if self.records else None

    @property
    def headroom(self) -> float | None:
        """Points left between the record and the ceiling."""
        if self.ceiling is None or self.top is None:
            return None
        return self.ceiling - self.top.score

    @property
    def status(self) -> str:
        """``saturated`` (within :data:`NEAR_CEILING` of the ceiling), ``open``, or ``no ceiling``."""
        if self.headroom is None:
            return "no ceiling"
        return "saturated" if self.headroom <= NEAR_CEILING else "open"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        top = self.top
        return {"benchmark": self.benchmark, "benchmark_name": self.benchmark_name, "ceiling": self.ceiling,
                "human_baseline": None if self.human is None else {"value": self.human.value, "who": self.human.who,
                                                                  "source": self.human.source},
                "human_passed_on": self.human_passed_on.isoformat() if self.human_passed_on else None,
                "top": top.to_json() if top else None, "headroom": self.headroom, "status": self.status,
                "records": [r.to_json() for r in self.records]}


@dataclass(frozen=True)
class SaturationResult:
    """Everything ``market saturation`` reports."""

    benchmarks: tuple[Saturation, ...]
    near_ceiling: float = NEAR_CEILING

    def to_json(self) -> dict[str, Any]:
        """``{"near_ceiling", "benchmarks": [...]}``."""
        return {"near_ceiling": self.near_ceiling, "benchmarks": [b.to_json() for b in self.benchmarks]}

    def summary(self) -> str:
        """One line: which benchmarks are saturated."""
        done = [b.benchmark_name for b in self.benchmarks if b.status == "saturated"]
        return (f"{len(done)} of {len(self.benchmarks)} benchmark(s) within {self.near_ceiling:g} points of their "
                f"ceiling" + (f": {', '.join(done)}" if done else "") + ".")


def saturation(catalog: Catalog, benchmark: str | None = None) -> SaturationResult:
    """The record line of one benchmark (a slug, name or alias), or of every benchmark with scores."""
    slugs = [resolve_benchmark(catalog, benchmark)] if benchmark else scored_benchmarks(catalog)
    return SaturationResult(tuple(_one(catalog, slug) for slug in slugs))


def _one(catalog: Catalog, slug: str) -> Saturation:
    scored: list[tuple[dt.date, float, str, str, str]] = []
    for model in catalog.models.values():
        obs = catalog.score(model.id, slug)
        if obs is not None and model.release_date is not None:
            scored.append((model.release_date, -obs.value, model.id, model.name, obs.harness))
    records: list[Record] = []
    for day, neg, model_id, name, harness in sorted(scored):
        if not records or -neg > records[-1].score:
            records.append(Record(day, model_id, name, -neg, harness))
    human = HUMAN_BASELINES.get(slug)
    passed = next((r.date for r in records if human is not None and r.score >= human.value), None)
    return Saturation(slug, benchmark_name(catalog, slug), None if is_elo(catalog, slug) else 100.0, human,
                      tuple(records), passed)
