"""What every market analysis shares: benchmark lookup, blend checks and the row views they report."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from satisfice.catalog.batch import BENCHMARKS, slugify
from satisfice.catalog.rows import Catalog, ModelRow, OfferRow, ScoreRow
from satisfice.core import blend_label
from satisfice.errors import ConfigError, NotFoundError

_ALIASES = {
    "gpqa": "gpqa-diamond",
    "gpqa-d": "gpqa-diamond",
    "elo": "arena-elo",
    "arena": "arena-elo",
    "chatbot-arena": "arena-elo",
    "lmsys-chatbot-arena-elo": "arena-elo",
    "math-5": "math-level-5",
    "math5": "math-level-5",
    "swe-bench": "swe-bench-verified",
    "aa-intelligence-index": "aa-intelligence-index-v4.3",
}
"""Other spellings users (and Epoch's column names) give for the built-in benchmark slugs."""


def check_input_share(input_share: float) -> float:
    """The share of input tokens in the blend, checked to lie within [0, 1]."""
    if not isinstance(input_share, int | float) or math.isnan(input_share) or not 0.0 <= input_share <= 1.0:
        raise ConfigError(f"input share must be a number within [0, 1] (0.75 = 3:1 input:output), got {input_share!r}")
    return float(input_share)


def scored_benchmarks(catalog: Catalog) -> list[str]:
    """Slugs of the benchmarks that have at least one score, in the built-in order, then alphabetical."""
    present = {s.benchmark for s in catalog.scores}
    order = [b for b in BENCHMARKS if b in present]
    return order + sorted(present - set(order))


def resolve_benchmark(catalog: Catalog, name: str) -> str:
    """The benchmark slug for ``name`` (a slug, a display name or a common alias).

    Raises:
        NotFoundError: no benchmark of that name; the message lists the ones with scores.
    """
    known = set(BENCHMARKS) | set(catalog.benchmarks) | {s.benchmark for s in catalog.scores}
    candidates = [name, name.lower(), slugify(name)]
    for cand in candidates:
        if cand in known:
            return cand
        if cand in _ALIASES and _ALIASES[cand] in known:
            return _ALIASES[cand]
    by_name = {b.name.lower(): slug for slug, b in {**BENCHMARKS, **catalog.benchmarks}.items()}
    if name.lower() in by_name:
        return by_name[name.lower()]
    scored = scored_benchmarks(catalog)
    listing = ", ".join(scored) if scored else "none (the catalog holds no scores)"
    raise NotFoundError(f"unknown benchmark {name!r}; benchmarks with scores: {listing}")


def is_elo(catalog: Catalog, benchmark: str) -> bool:
    """Whether the benchmark is on an Elo scale (no upper bound) rather than a percentage."""
    row = catalog.benchmarks.get(benchmark) or BENCHMARKS.get(benchmark)
    return row is not None and row.scale == "elo"


def benchmark_name(catalog: Catalog, benchmark: str) -> str:
    """Display name of a benchmark slug."""
    row = catalog.benchmarks.get(benchmark) or BENCHMARKS.get(benchmark)
    return row.name if row is not None else benchmark


def openness(model: ModelRow) -> str:
    """``open``, ``closed`` or ``unknown`` weights."""
    if model.open_weights is None:
        return "unknown"
    return "open" if model.open_weights else "closed"


@dataclass(frozen=True)
class Blend:
    """Which blend of input and output prices an analysis used."""

    input_share: float

    @property
    def label(self) -> str:
        """Human name, e.g. ``3:1 input:output``."""
        return blend_label(self.input_share)

    def to_json(self) -> dict[str, Any]:
        """``{"input_share", "blend"}``."""
        return {"input_share": self.input_share, "blend": self.label}


@dataclass(frozen=True)
class PricedModel:
    """A model with its score on one benchmark and one blended price (both may be missing)."""

    model: str
    name: str
    release_date: dt.date | None
    open_weights: bool | None
    score: float | None
    blended_price: float | None
    price_date: dt.date | None = None
    price_note: str | None = None
    price_provider: str | None = None
    price_kind: str | None = None
    """The provider's kind (first-party, serving, reseller) of the offer behind ``blended_price``."""
    harness: str | None = None
    """Who ran the benchmark the score comes from."""
    score_source: str | None = None

    @property
    def weights(self) -> str:
        """``open``, ``closed`` or ``unknown``."""
        if self.open_weights is None:
            return "unknown"
        return "open" if self.open_weights else "closed"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "model": self.model,
            "name": self.name,
            "release_date": self.release_date.isoformat() if self.release_date else None,
            "open_weights": self.open_weights,
            "score": self.score,
            "blended_price": self.blended_price,
            "price_date": self.price_date.isoformat() if self.price_date else None,
            "price_note": self.price_note,
            "price_provider": self.price_provider,
            "price_kind": self.price_kind,
            "harness": self.harness,
            "score_source": self.score_source,
        }


def priced(model: ModelRow, score: float | ScoreRow | None, offer: OfferRow | None,
           input_share: float) -> PricedModel:
    """Combine a model, its score (a value, or the observation with its harness) and its offer into one row."""
    observed = score if isinstance(score, ScoreRow) else None
    return PricedModel(
        model=model.id,
        name=model.name,
        release_date=model.release_date,
        open_weights=model.open_weights,
        score=score.value if isinstance(score, ScoreRow) else score,
        harness=observed.harness if observed is not None else None,
        score_source=observed.source if observed is not None else None,
        blended_price=offer.blended(input_share) if offer is not None else None,
        price_date=offer.effective_date if offer is not None else None,
        price_note=offer.blend_note(input_share) if offer is not None else None,
        price_provider=offer.provider if offer is not None else None,
        price_kind=offer.provider_kind if offer is not None else None,
    )
