"""Price trends at fixed capability by Epoch AI's method.

Source: Epoch AI, "LLM inference prices have fallen rapidly but unequally across tasks" (March 2025);
code: github.com/epoch-research/llm-benchmark-efficiency, ``llm_price_trends.ipynb``, "Full analysis".

The method, as that notebook runs it:

1. Reasoning models are left out (``ModelRow.reasoning``, and by name: o1, o1-mini, o1-preview,
   o3-mini, DeepSeek-R1).
2. Every price point (offer) is an *entry* dated at its effective date, carrying its model's scores
   and its blended price. Entries are walked in date order (same date: by model name, provider).
3. Thresholds: the score of every entry that was the top-1 scorer among the entries dated on or
   before some date (evaluated once per date, so an entry beaten by another of the same date never
   counts; pandas ``nlargest`` keeps the first of equal scores, so a later equal score does not
   take over). On MMLU and GPQA Diamond thresholds below 30 are skipped.
4. For a threshold ``T`` the band is ``[T, 100)`` (``[T, inf)`` on an Elo scale). Walking the
   entries in the band, keep each entry strictly cheaper than every earlier kept one; then when two
   kept entries share a date, drop the earlier (dearer) one.
5. With at least 4 kept entries, fit OLS of log10(price) on the day number (``toordinal``);
   factor per year = ``10 ** (-slope * 365)`` with its 90% t-interval (see :mod:`regression`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from satisfice.catalog.batch import slugify
from satisfice.catalog.rows import Catalog, ModelRow
from satisfice.core import DEFAULT_INPUT_SHARE
from satisfice.market.common import Blend, check_input_share, is_elo, resolve_benchmark, scored_benchmarks
from satisfice.market.regression import TrendFit, fit_price_trend

REASONING_MODEL_NAMES = frozenset({"o1", "o1-mini", "o1-preview", "o3-mini", "deepseek-r1"})
"""Epoch's ``reasoning_model_names`` (compared as slugs of the model's name and id)."""
MQA_BENCHMARKS = frozenset({"mmlu", "gpqa-diamond"})
"""Multiple-choice benchmarks on which thresholds below :data:`MQA_MIN_THRESHOLD` are skipped."""
MQA_MIN_THRESHOLD = 30.0
MIN_POINTS = 4
PERCENT_UPPER_BOUND = 100.0


@dataclass(frozen=True)
class Entry:
    """One price point of one model with that model's score on the benchmark."""

    date: dt.date
    price: float
    score: float
    model: str
    name: str
    provider: str
    open_weights: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {"date": self.date.isoformat(), "model": self.model, "name": self.name, "provider": self.provider,
                "score": self.score, "blended_price": self.price, "open_weights": self.open_weights}


@dataclass(frozen=True)
class TrendRow:
    """The fitted trend for one benchmark and threshold (or why there is none)."""

    benchmark: str
    threshold_model: str
    threshold_model_id: str
    threshold: float
    upper_bound: float
    points: tuple[Entry, ...]
    fit: TrendFit | None

    @property
    def n(self) -> int:
        """Number of kept entries (the regression's sample size)."""
        return len(self.points)

    def to_json(self) -> dict[str, Any]:
        """The contract keys of the issue first, then the points used."""
        fit = self.fit
        return {
            "benchmark": self.benchmark,
            "threshold_model": self.threshold_model,
            "threshold": self.threshold,
            "n": self.n,
            "start_date": self.points[0].date.isoformat() if self.points else None,
            "end_date": self.points[-1].date.isoformat() if self.points else None,
            "factor_per_year": fit.factor_per_year if fit else None,
            "ci90": [fit.ci90[0], fit.ci90[1]] if fit else None,
            "r2": fit.r2 if fit else None,
            "threshold_model_id": self.threshold_model_id,
            "band": [self.threshold, self.upper_bound],
            "points": [p.to_json() for p in self.points],
        }


@dataclass(frozen=True)
class TrendsResult:
    """``market trends --method epoch``: fitted trends, and thresholds left out for too few points."""

    benchmarks: tuple[str, ...]
    blend: Blend
    trends: tuple[TrendRow, ...]
    skipped: tuple[TrendRow, ...]
    excluded_models: tuple[str, ...]
    as_of: dt.date | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"trends": [...], ...}``."""
        return {
            "method": "epoch",
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "benchmarks": list(self.benchmarks),
            **self.blend.to_json(),
            "trends": [t.to_json() for t in self.trends],
            "skipped": [{**t.to_json(), "reason": f"fewer than {MIN_POINTS} points"} for t in self.skipped],
            "excluded_reasoning_models": list(self.excluded_models),
        }


def is_reasoning(model: ModelRow) -> bool:
    """Reasoning models by flag, or by Epoch's name list."""
    return model.reasoning or slugify(model.name) in REASONING_MODEL_NAMES or model.id in REASONING_MODEL_NAMES


def entries(catalog: Catalog, benchmark: str, input_share: float = DEFAULT_INPUT_SHARE,
            as_of: dt.date | None = None) -> list[Entry]:
    """Every priced offer of a non-reasoning model with a score on ``benchmark``, in walking order.

    With ``as_of``, only offers effective on or before that date: the data as they stood then.
    """
    out: list[Entry] = []
    for model in catalog.models.values():
        if is_reasoning(model):
            continue
        score = catalog.score(model.id, benchmark)
        if score is None:
            continue
        for offer in catalog.offers_of(model.id):
            if as_of is not None and offer.effective_date > as_of:
                continue
            price = offer.blended(input_share)
            if price is None or price <= 0:
                continue
            out.append(Entry(offer.effective_date, price, score.value, model.id, model.name, offer.provider,
                             model.open_weights))
    out.sort(key=lambda e: (e.date, e.name, e.model, e.provider))
    return out


def threshold_entries(walk: Iterable[Entry]) -> list[Entry]:
    """Entries that were the top-1 scorer among all entries dated on or before some date.

    The top is taken once per date, after every entry of that date is in: an entry that led only
    until a better one of the same date came in never counts. Of equal scores the earlier entry
    (in walking order) stays on top.
    """
    by_date: dict[dt.date, list[Entry]] = {}
    for e in walk:
        by_date.setdefault(e.date, []).append(e)
    tops: list[Entry] = []
    for day in sorted(by_date):
        best = max(by_date[day], key=lambda e: e.score)  # max() keeps the first of equal scores
        if not tops or best.score > tops[-1].score:
            tops.append(best)
    return tops


def cheapest_in_band(walk: Iterable[Entry], low: float, high: float) -> list[Entry]:
    """Entries in ``[low, high)`` cheaper than every earlier kept one; same date: only the last (cheapest)."""
    kept: list[Entry] = []
    for e in walk:
        if low <= e.score < high and (not kept or e.price < kept[-1].price):
            kept.append(e)
    return [e for i, e in enumerate(kept) if i + 1 == len(kept) or kept[i + 1].date != e.date]


def epoch_trends(catalog: Catalog, benchmark: str | None = None,
                 input_share: float = DEFAULT_INPUT_SHARE, as_of: dt.date | None = None) -> TrendsResult:
    """Run Epoch AI's method on one benchmark, or on every benchmark with scores (``None`` or ``"all"``).

    ``as_of`` keeps only price points dated on or before it (thresholds and fits as they could be made then).
    """
    share = check_input_share(input_share)
    if benchmark is None or benchmark.lower() == "all":
        slugs = scored_benchmarks(catalog)
    else:
        slugs = [resolve_benchmark(catalog, benchmark)]
    fitted: list[TrendRow] = []
    skipped: list[TrendRow] = []
    for slug in slugs:
        walk = entries(catalog, slug, share, as_of)
        upper = float("inf") if is_elo(catalog, slug) else PERCENT_UPPER_BOUND
        for top in threshold_entries(walk):
            if slug in MQA_BENCHMARKS and top.score < MQA_MIN_THRESHOLD:
                continue
            points = cheapest_in_band(walk, top.score, upper)
            fit = fit_price_trend([(p.date, p.price) for p in points]) if len(points) >= MIN_POINTS else None
            row = TrendRow(slug, top.name, top.model, top.score, upper, tuple(points), fit)
            (fitted if fit is not None else skipped).append(row)
    excluded = sorted(m.name for m in catalog.models.values() if is_reasoning(m))
    return TrendsResult(tuple(slugs), Blend(share), tuple(fitted), tuple(skipped), tuple(excluded),
                        as_of)
