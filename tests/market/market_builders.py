"""Hand-made catalogs for the market tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from satisfice.catalog.batch import BENCHMARKS
from satisfice.catalog.rows import Catalog, ModelRow, OfferRow, ScoreRow


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@dataclass
class M:
    """One model: prices as (date, input, output) or (date, blended) tuples; first price defaults to release."""

    id: str
    released: str | None
    open: bool | None = False
    scores: dict[str, float] = field(default_factory=dict)
    prices: list[tuple] = field(default_factory=list)
    reasoning: bool = False
    name: str | None = None


def build(models: Iterable[M]) -> Catalog:
    rows, offers, scores = [], [], []
    for m in models:
        rows.append(ModelRow(m.id, m.name or m.id, open_weights=m.open,
                             release_date=d(m.released) if m.released else None, reasoning=m.reasoning))
        for p in m.prices:
            if len(p) == 3:
                offers.append(OfferRow(m.id, "p", d(p[0]), input_per_m=p[1], output_per_m=p[2]))
            else:
                offers.append(OfferRow(m.id, "p", d(p[0]), blended_per_m=p[1], blend_input_share=0.75))
        scores.extend(ScoreRow(m.id, b, v) for b, v in m.scores.items())
    return Catalog.build(rows, offers, scores, BENCHMARKS.values())


def gp(id: str, released: str, score: float | None, price: float | None, open: bool | None = False,
       **kw: object) -> M:
    """A model with one GPQA score and one blended price (given as input = output = price) at release."""
    return M(id, released, open, {"gpqa-diamond": score} if score is not None else {},
             [(released, price, price)] if price is not None else [], **kw)  # type: ignore[arg-type]
