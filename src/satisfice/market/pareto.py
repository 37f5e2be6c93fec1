"""Score-vs-price Pareto frontier on a date: the models no other model beats on both at once.

Each scored model is placed at the blended price in force on the date (cheapest provider). A model
is on the frontier when no other model is at most as dear with at least as high a score, one of
the two strictly. Equal (price, score) pairs are all kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from satisfice.catalog.rows import Catalog
from satisfice.core import DEFAULT_INPUT_SHARE
from satisfice.formatting import usd_per_m
from satisfice.market.common import Blend, PricedModel, benchmark_name, check_input_share, priced, resolve_benchmark


@dataclass(frozen=True)
class ParetoResult:
    """Everything ``market pareto`` reports."""

    benchmark: str
    benchmark_name: str
    as_of: dt.date | None
    blend: Blend
    points: tuple[PricedModel, ...]
    """Scored, priced models, cheapest first."""
    frontier: tuple[PricedModel, ...]
    """Pareto-optimal models, cheapest first (scores rise along it)."""
    unpriced: tuple[str, ...]

    def summary(self) -> str:
        """One line: how many models, how many on the frontier, its two ends."""
        if not self.frontier:
            return f"No priced models with a {self.benchmark_name} score ({self.blend.label} blend)."
        lo, hi = self.frontier[0], self.frontier[-1]
        when = self.as_of.isoformat() if self.as_of else "latest prices"
        return (f"{self.benchmark_name}, {when}: {len(self.frontier)} of {len(self.points)} models on the frontier, "
                f"from {lo.name} ({lo.score:g} at {usd_per_m(lo.blended_price)}) to {hi.name} "
                f"({hi.score:g} at {usd_per_m(hi.blended_price)}) ({self.blend.label} blend)")

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``market pareto --json``."""
        return {"benchmark": self.benchmark, "as_of": self.as_of.isoformat() if self.as_of else None,
                **self.blend.to_json(), "frontier": [m.to_json() for m in self.frontier],
                "points": [m.to_json() for m in self.points], "unpriced": list(self.unpriced)}


def dominates(a: PricedModel, b: PricedModel) -> bool:
    """Whether ``a`` is at most as dear and scores at least as high as ``b``, one strictly."""
    assert a.blended_price is not None and b.blended_price is not None
    assert a.score is not None and b.score is not None
    return (a.blended_price <= b.blended_price and a.score >= b.score
            and (a.blended_price < b.blended_price or a.score > b.score))


def pareto(catalog: Catalog, benchmark: str, as_of: dt.date | None = None,
           input_share: float = DEFAULT_INPUT_SHARE, *, provider: str | None = None) -> ParetoResult:
    """The score-vs-price Pareto frontier on ``as_of`` (default: the latest prices known).

    ``provider``: None for each model's default price, ``"any"`` for its cheapest list price, or a provider id.
    """
    share = check_input_share(input_share)
    slug = resolve_benchmark(catalog, benchmark)
    cat = catalog.as_of(as_of) if as_of is not None else catalog
    day = as_of or dt.date.max
    points: list[PricedModel] = []
    unpriced: list[str] = []
    for model in cat.models.values():
        score = cat.score(model.id, slug)
        if score is None:
            continue
        row = priced(model, score, cat.price_at(model.id, day, input_share=share, provider=provider), share)
        if row.blended_price is None:
            unpriced.append(row.name)
        else:
            points.append(row)
    points.sort(key=lambda m: (m.blended_price, -(m.score or 0.0), m.model))
    front = [m for m in points if not any(dominates(o, m) for o in points)]
    return ParetoResult(slug, benchmark_name(cat, slug), as_of, Blend(share), tuple(points), tuple(front),
                        tuple(sorted(unpriced)))
