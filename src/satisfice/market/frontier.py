"""Cost at a fixed bar: which models clear a threshold, the cost frontier, first closed vs first open.

Rules (each model is placed at its release date with its blended launch price):

* a model *clears* ``T`` when its score on the benchmark is ``>= T``; a model with no score is
  counted in ``unscored_count`` (listed under ``no_score`` only when asked) and never treated as failing;
* the price is the model's default offer at release (first-party, else serving; see
  :meth:`~satisfice.catalog.rows.Catalog.price_at`), or the rule ``provider`` names;
* the *cost frontier* walks the cleared models in release order and keeps each one that is
  cheaper than every cleared model released before it; of several models released on the same
  day only the cheapest can be kept (ties on price: the lower model id), so frontier dates
  strictly increase and frontier prices strictly fall;
* *first closed* / *first open*: the earliest cleared model with closed / open weights (same
  day: the cheaper, then the lower id); models whose openness is unknown are neither;
* ``lag_days`` = first open release date - first closed release date (negative when an open
  model cleared the bar first); ``price_ratio`` = first closed price / first open price;
* the trend is fitted on the frontier points when there are at least 4 of them;
* with ``measure="run-cost"`` the price of each model is its cost to run the benchmark once
  (:mod:`satisfice.market.runcost`) instead of its blended $/M.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from satisfice.catalog.rows import Catalog
from satisfice.core import DEFAULT_INPUT_SHARE
from satisfice.errors import ConfigError
from satisfice.formatting import usd, usd_per_m
from satisfice.market.common import (
    Blend,
    PricedModel,
    benchmark_name,
    check_input_share,
    priced,
    resolve_benchmark,
)
from satisfice.market.regression import TrendFit, fit_price_trend
from satisfice.market.runcost import RunCostRow, run_cost

MIN_TREND_POINTS = 4
PRICE_RATIO_DIRECTION = "first_closed.blended_price / first_open.blended_price"
LAG_DIRECTION = "first_open.release_date - first_closed.release_date (negative: open cleared first)"


@dataclass(frozen=True)
class FrontierResult:
    """Everything ``market frontier`` reports."""

    benchmark: str
    benchmark_name: str
    threshold: float
    blend: Blend
    as_of: dt.date | None
    models: tuple[PricedModel, ...]
    """Models that clear the threshold, in release order, with their blended launch price."""
    frontier: tuple[PricedModel, ...]
    no_score: tuple[PricedModel, ...]
    """Models with no score on the benchmark: listed only when asked (``show_unscored``), else empty."""
    undated: tuple[PricedModel, ...] = ()
    """Models that clear the threshold but have no release date (cannot be ordered)."""
    first_closed: PricedModel | None = None
    first_open: PricedModel | None = None
    lag_days: int | None = None
    price_ratio: float | None = None
    trend: TrendFit | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    unscored_count: int = 0
    """How many models have no score on the benchmark (whether or not they are listed)."""

    def unscored_line(self) -> str:
        """``1,175 models have no GPQA Diamond score; `--show-unscored` lists them`` (empty when none)."""
        if not self.unscored_count:
            return ""
        noun = "model has" if self.unscored_count == 1 else "models have"
        tail = "" if self.no_score else "; `--show-unscored` lists them"
        return f"{self.unscored_count:,} {noun} no {self.benchmark_name} score (not counted as failing){tail}"
    measure: str = "blended-price"
    """``blended-price`` ($/M at launch) or ``run-cost`` (USD to run the benchmark once)."""

    def summary(self) -> str:
        """One line: who cleared first, at what price, the lag and the ratio, with the blend used."""
        parts = []
        for label, m in (("First closed", self.first_closed), ("first open", self.first_open)):
            if m is None:
                parts.append(f"{label}: none")
            else:
                if self.measure == "blended-price":
                    price = usd_per_m(m.blended_price, unknown="unknown price")
                else:
                    price = f"{usd(m.blended_price)} to run" if m.blended_price is not None else "unknown price"
                parts.append(f"{label}: {m.name} ({m.release_date}) at {price}")
        if self.lag_days is not None:
            parts.append(f"lag {self.lag_days} days" + (" (open first)" if self.lag_days < 0 else ""))
        if self.price_ratio is not None:
            parts.append(f"closed/open price ratio {self.price_ratio:.3g}x")
        return "; ".join(parts) + f" ({self.blend.label} blend)"

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``market frontier --json``."""
        return {
            "benchmark": self.benchmark,
            "threshold": self.threshold,
            "measure": self.measure,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            **self.blend.to_json(),
            "models": [m.to_json() for m in self.models],
            "frontier": [m.to_json() for m in self.frontier],
            "unscored_count": self.unscored_count,
            "no_score": [m.to_json() for m in self.no_score],
            "undated": [m.to_json() for m in self.undated],
            "first_closed": self.first_closed.to_json() if self.first_closed else None,
            "first_open": self.first_open.to_json() if self.first_open else None,
            "lag_days": self.lag_days,
            "lag_direction": LAG_DIRECTION,
            "price_ratio": self.price_ratio,
            "price_ratio_direction": PRICE_RATIO_DIRECTION,
            "trend": self.trend.to_json() if self.trend else None,
            "notes": list(self.notes),
        }


def _order_key(m: PricedModel) -> tuple[dt.date, float, str]:
    assert m.release_date is not None
    price = m.blended_price if m.blended_price is not None else float("inf")
    return (m.release_date, price, m.model)


def cost_frontier(cleared: list[PricedModel]) -> list[PricedModel]:
    """Cleared models (release order) that are cheaper than every cleared model released before them."""
    frontier: list[PricedModel] = []
    best = float("inf")
    by_date: dict[dt.date, list[PricedModel]] = {}
    for m in cleared:
        if m.release_date is not None and m.blended_price is not None:
            by_date.setdefault(m.release_date, []).append(m)
    for day in sorted(by_date):
        cheapest = min(by_date[day], key=lambda m: (m.blended_price, m.model))
        assert cheapest.blended_price is not None
        if cheapest.blended_price < best:
            frontier.append(cheapest)
            best = cheapest.blended_price
    return frontier


def _unpriced_name(cat: Catalog, model: PricedModel) -> str:
    """The model's name, naming the resellers that list it (never a default price; ``--provider`` uses one)."""
    resellers = sorted({o.provider for o in cat.offers_of(model.model) if o.provider_kind == "reseller"})
    if not resellers:
        return model.name
    return f"{model.name} (only resold: `--provider {resellers[0]}` prices it there)"


def frontier(catalog: Catalog, benchmark: str, threshold: float, as_of: dt.date | None = None,
             input_share: float = DEFAULT_INPUT_SHARE, measure: str = "blended-price", *,
             provider: str | None = None, show_unscored: bool = False) -> FrontierResult:
    """Models clearing ``threshold`` on ``benchmark``, their cost frontier, first closed vs first open.

    Args:
        catalog: the catalog snapshot.
        benchmark: benchmark slug, display name or alias.
        threshold: the bar (a score in the benchmark's units; a model clears it with score >= threshold).
        as_of: analyse the catalog as it stood on this date (models released and offers effective by then).
        input_share: share of input tokens in the blended price (0.75 = 3:1).
        measure: ``blended-price`` or ``run-cost`` (the cost to run the benchmark, at prices in force on ``as_of``).
        provider: None for the default price, ``"any"`` for the cheapest list price, or a provider id.
        show_unscored: list the models without a score (they are always counted).
    """
    share = check_input_share(input_share)
    slug = resolve_benchmark(catalog, benchmark)
    cat = catalog.as_of(as_of) if as_of is not None else catalog
    run_costs = _run_costs(cat, slug, as_of, share, measure)
    cleared: list[PricedModel] = []
    no_score: list[PricedModel] = []
    undated: list[PricedModel] = []
    for model in cat.models.values():
        score = cat.score(model.id, slug)
        row = priced(model, score, cat.launch_price(model.id, input_share=share, provider=provider), share)
        if run_costs is not None:
            cost = run_costs.get(model.id)
            row = replace(row, blended_price=cost.run_cost_usd if cost else None,
                          price_date=cost.price_date if cost else None,
                          price_note=f"run cost ({cost.basis}, {cost.harness})" if cost else None)
        if score is None:
            no_score.append(row)
        elif score.value >= threshold:
            (cleared if model.release_date is not None else undated).append(row)
    cleared.sort(key=_order_key)
    no_score.sort(key=lambda m: (m.release_date or dt.date.max, m.model))
    undated.sort(key=lambda m: m.model)
    front = cost_frontier(cleared)
    first_closed = next((m for m in cleared if m.open_weights is False), None)
    first_open = next((m for m in cleared if m.open_weights is True), None)
    lag = None
    ratio = None
    if first_closed is not None and first_open is not None:
        assert first_closed.release_date is not None and first_open.release_date is not None
        lag = (first_open.release_date - first_closed.release_date).days
        if first_closed.blended_price is not None and first_open.blended_price:
            ratio = first_closed.blended_price / first_open.blended_price
    trend = None
    if len(front) >= MIN_TREND_POINTS:
        trend = fit_price_trend([(m.release_date, m.blended_price) for m in front
                                 if m.release_date is not None and m.blended_price is not None])
    notes = sorted({m.price_note for m in cleared if m.price_note})
    unpriced = [_unpriced_name(cat, m) for m in cleared if m.blended_price is None]
    if unpriced:
        what = "no price known" if run_costs is None else "no tokens or cost per task published"
        notes.append(f"{what} (left off the frontier): " + ", ".join(unpriced))
    return FrontierResult(
        benchmark=slug, benchmark_name=benchmark_name(cat, slug), threshold=threshold, blend=Blend(share), as_of=as_of,
        models=tuple(cleared), frontier=tuple(front), no_score=tuple(no_score) if show_unscored else (),
        undated=tuple(undated), first_closed=first_closed, first_open=first_open, lag_days=lag, price_ratio=ratio,
        trend=trend, notes=tuple(notes), unscored_count=len(no_score), measure=measure,
    )


MEASURES = ("blended-price", "run-cost")


def _run_costs(cat: Catalog, slug: str, as_of: dt.date | None, share: float,
               measure: str) -> dict[str, RunCostRow] | None:
    if measure not in MEASURES:
        raise ConfigError(f"unknown measure {measure!r}; known: {', '.join(MEASURES)}")
    if measure == "blended-price":
        return None
    return {r.model: r for r in run_cost(cat, slug, as_of, share).rows}
