"""What changed in the market between two catalog snapshots, as dated findings with numbers, models and sources.

A :class:`MarketState` is what the existing analyses say about one snapshot: per bar (benchmark, threshold) the
result of :func:`~satisfice.market.frontier.frontier` (first closed and first open model to clear it, lag, price
ratio, cheapest launch price) and the cheapest model clearing it at the latest prices
(:func:`~satisfice.market.overview.first_clearing`, priced with :func:`~satisfice.market.overview.annual_bill`);
per benchmark the open-vs-closed gap (:func:`~satisfice.market.gap.gap`). :func:`compare` sets two states side
by side and returns a :class:`Finding` for each change a registered kind calls notable (:data:`KINDS`; thresholds
in :class:`FindingRules`). Findings carry only figures these analyses computed; equal states give no findings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from satisfice.catalog.rows import Catalog
from satisfice.core import DEFAULT_INPUT_SHARE
from satisfice.market.common import PricedModel, benchmark_name, is_elo, scored_benchmarks
from satisfice.market.frontier import FrontierResult, frontier
from satisfice.market.gap import GapStep, gap
from satisfice.market.overview import annual_bill, first_clearing
from satisfice.market.pareto import pareto

Bar = tuple[str, float]


@dataclass(frozen=True)
class FindingRules:
    """Which bars are followed and what change is notable (every figure has a default)."""

    percent_step: float = 10.0
    """Bars on percentage benchmarks: every multiple of this many points from ``percent_min``."""
    percent_min: float = 30.0
    elo_step: float = 50.0
    """Bars on Elo benchmarks: every multiple of this many points within the scores seen."""
    bars: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    """Explicit bars per benchmark slug, replacing the stepped ones for that benchmark."""
    min_price_factor: float = 1.2
    """A frontier price or workload bill change is notable when old/new (or new/old) reaches this."""
    min_gap_points: float = 2.0
    min_gap_elo: float = 20.0
    tokens_per_day: float = 100e6
    """The standard workload whose annual bill is reported."""
    input_share: float = DEFAULT_INPUT_SHARE


@dataclass(frozen=True)
class FindingModel:
    """A model a finding names, with its role in it (``first closed``, ``new cheapest``, ...)."""

    model: str
    name: str
    role: str
    open_weights: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {"model": self.model, "name": self.name, "role": self.role, "open_weights": self.open_weights}


@dataclass(frozen=True)
class Finding:
    """One notable change: its kind, bar, the models and figures behind it, and their sources."""

    kind: str
    date: dt.date
    benchmark: str | None
    benchmark_name: str | None
    threshold: float | None
    models: tuple[FindingModel, ...]
    numbers: Mapping[str, Any]
    sources: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """The fact itself (kind, bar, models, figures; not the date): the same fact found twice is one."""
        nums = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in sorted(self.numbers.items())}
        key = [self.kind, self.benchmark, self.threshold, [m.model for m in self.models], nums]
        return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:32]

    def to_json(self) -> dict[str, Any]:
        """The finding as ``insights list --json`` prints it."""
        return {"kind": self.kind, "date": self.date.isoformat(), "benchmark": self.benchmark,
                "benchmark_name": self.benchmark_name, "threshold": self.threshold,
                "models": [m.to_json() for m in self.models], "numbers": dict(self.numbers),
                "sources": list(self.sources)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Finding:
        """The inverse of :meth:`to_json`."""
        return cls(doc["kind"], dt.date.fromisoformat(doc["date"]), doc.get("benchmark"), doc.get("benchmark_name"),
                   doc.get("threshold"), tuple(FindingModel(**m) for m in doc.get("models", [])),
                   dict(doc.get("numbers", {})), tuple(doc.get("sources", [])))


@dataclass(frozen=True)
class BarState:
    """The analyses of one bar on one snapshot."""

    front: FrontierResult
    cheapest_now: PricedModel | None

    @property
    def first(self) -> PricedModel | None:
        """The first model (any weights) to clear the bar."""
        return self.front.models[0] if self.front.models else None

    @property
    def cheapest_launch(self) -> PricedModel | None:
        """The last point of the cost frontier: the lowest launch price among the models clearing the bar."""
        return self.front.frontier[-1] if self.front.frontier else None


@dataclass(frozen=True)
class MarketState:
    """The analyses of one catalog snapshot, with the catalog kept to name sources."""

    catalog: Catalog
    bars: Mapping[Bar, BarState]
    gaps: Mapping[str, GapStep | None]


def scored_part(catalog: Catalog) -> Catalog:
    """The models with at least one score, with their offers and scores: all that any finding can involve."""
    keep = {s.model_id for s in catalog.scores}
    return Catalog.build([m for m in catalog.models.values() if m.id in keep],
                         [o for o in catalog.offers if o.model_id in keep], catalog.scores, catalog.benchmarks.values())


def bars_for(catalog: Catalog, rules: FindingRules) -> list[Bar]:
    """The bars followed: explicit ones, else steps up to the best score seen on each scored benchmark."""
    out: list[Bar] = []
    for slug in scored_benchmarks(catalog):
        if slug in rules.bars:
            out.extend((slug, float(t)) for t in rules.bars[slug])
            continue
        values = [s.value for s in catalog.scores if s.benchmark == slug]
        step, low = (rules.elo_step, math.floor(min(values) / rules.elo_step) * rules.elo_step) if is_elo(
            catalog, slug) else (rules.percent_step, rules.percent_min)
        t = low + step
        while t <= max(values) + 1e-9:
            out.append((slug, round(t, 6)))
            t += step
    return out


def market_state(catalog: Catalog, bars: Iterable[Bar], rules: FindingRules) -> MarketState:
    """The analyses of ``catalog`` (already cut to its date with :meth:`Catalog.as_of` when replaying)."""
    share = rules.input_share
    known = set(scored_benchmarks(catalog))
    states: dict[Bar, BarState] = {}
    points: dict[str, tuple[PricedModel, ...]] = {}
    for slug, threshold in bars:
        if slug not in known:
            continue
        if slug not in points:
            points[slug] = pareto(catalog, slug, None, share).points
        cheapest = first_clearing(points[slug], threshold)
        states[(slug, threshold)] = BarState(frontier(catalog, slug, threshold, None, share), cheapest)
    gaps = {slug: (g.steps[-1] if (g := gap(catalog, slug)).steps else None) for slug in known}
    return MarketState(catalog, states, gaps)


def _ref(m: PricedModel, role: str) -> FindingModel:
    return FindingModel(m.model, m.name, role, m.open_weights)


def _factor(old: float | None, new: float | None) -> float | None:
    return old / new if old is not None and new else None


def _notable(factor: float | None, rules: FindingRules) -> bool:
    return factor is not None and (factor >= rules.min_price_factor or 1 / factor >= rules.min_price_factor)


Hit = tuple[tuple[FindingModel, ...], dict[str, Any]]
"""What a comparison found: the models named and the figures."""
Compare = Callable[[BarState | None, BarState, FindingRules], Hit | None]


def _first_cleared(before: BarState | None, after: BarState, rules: FindingRules) -> Hit | None:
    new, old = after.first, before.first if before else None
    if new is None or (old is not None and old.model == new.model):
        return None
    return (_ref(new, "first to clear"),), {"score": new.score, "release_date": str(new.release_date),
                                           "blended_price": new.blended_price}


def _open_cleared(before: BarState | None, after: BarState, rules: FindingRules) -> Hit | None:
    f = after.front
    old = before.front.first_open if before else None
    if f.first_open is None or (old is not None and old.model == f.first_open.model):
        return None
    models = ((_ref(f.first_closed, "first closed"),) if f.first_closed else ()) + (_ref(f.first_open, "first open"),)
    return models, {"lag_days": f.lag_days, "price_ratio": f.price_ratio, "open_score": f.first_open.score,
                    "open_release_date": str(f.first_open.release_date),
                    "open_price": f.first_open.blended_price,
                    "closed_price": f.first_closed.blended_price if f.first_closed else None}


def _frontier_price(before: BarState | None, after: BarState, rules: FindingRules) -> Hit | None:
    old, new = (before.cheapest_launch if before else None), after.cheapest_launch
    if old is None or new is None or old.model == new.model:
        return None
    factor = _factor(old.blended_price, new.blended_price)
    if not _notable(factor, rules):
        return None
    return (_ref(old, "previous cheapest"), _ref(new, "new cheapest")), {
        "old_price": old.blended_price, "new_price": new.blended_price, "factor": factor,
        "release_date": str(new.release_date), "frontier_points": len(after.front.frontier)}


def _workload(before: BarState | None, after: BarState, rules: FindingRules) -> Hit | None:
    old, new = (before.cheapest_now if before else None), after.cheapest_now
    if old is None or new is None or old.blended_price is None or new.blended_price is None:
        return None
    factor = _factor(old.blended_price, new.blended_price)
    if old.model == new.model and not _notable(factor, rules):
        return None
    if old.model != new.model and factor is not None and abs(factor - 1) < 1e-12:
        return None
    return (_ref(old, "previous cheapest"), _ref(new, "new cheapest")), {
        "tokens_per_day": rules.tokens_per_day, "old_price": old.blended_price, "new_price": new.blended_price,
        "old_annual": annual_bill(old.blended_price, rules.tokens_per_day),
        "new_annual": annual_bill(new.blended_price, rules.tokens_per_day), "factor": factor,
        "price_date": str(new.price_date)}


@dataclass(frozen=True)
class Kind:
    """A kind of finding: how notable changes are found, and how much one weighs against others."""

    name: str
    label: str
    priority: int
    magnitude: Callable[[Mapping[str, Any]], float]
    compare: Compare | None = None


def _num(key: str) -> Callable[[Mapping[str, Any]], float]:
    def value(numbers: Mapping[str, Any]) -> float:
        v = numbers.get(key)
        return abs(float(v)) if isinstance(v, int | float) and math.isfinite(v) else 0.0
    return value


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("open_cleared", "first open model clears a bar", 6, _num("price_ratio"), _open_cleared),
    Kind("first_cleared", "first model clears a bar", 5, _num("score"), _first_cleared),
    Kind("watch", "a watch fired", 4, _num("models")),
    Kind("frontier_price", "frontier price change", 3, _num("factor"), _frontier_price),
    Kind("workload", "new cheapest for the standard workload", 2, _num("factor"), _workload),
    Kind("gap", "open-closed gap change", 1, _num("change")),
)}
"""The registry of finding kinds (bar kinds have a ``compare``; gap and watch findings are made below)."""


def rank(f: Finding) -> tuple[int, float]:
    """How large a finding is: its kind's priority, then its main figure."""
    kind = KINDS[f.kind]
    return kind.priority, kind.magnitude(f.numbers)


def _sources(catalog: Catalog, benchmark: str | None, models: Iterable[FindingModel], share: float) -> tuple[str, ...]:
    out: list[str] = []
    for m in models:
        score = catalog.score(m.model, benchmark) if benchmark else None
        offers = [catalog.launch_price(m.model, input_share=share),
                  catalog.price_at(m.model, dt.date.max, input_share=share)]
        for text in [score.source if score else None, *(o.source if o else None for o in offers)]:
            if text and text not in out:
                out.append(text)
    return tuple(out)


def _gap_finding(slug: str, old: GapStep | None, new: GapStep | None, rules: FindingRules,
                 catalog: Catalog) -> Hit | None:
    if old is None or new is None or old.gap is None or new.gap is None:
        return None
    change = new.gap - old.gap
    if abs(change) < (rules.min_gap_elo if is_elo(catalog, slug) else rules.min_gap_points):
        return None
    assert new.best_closed is not None and new.best_open is not None
    models = (FindingModel(new.best_closed.model, new.best_closed.name, "best closed", False),
              FindingModel(new.best_open.model, new.best_open.name, "best open", True))
    return models, {"old_gap": old.gap, "new_gap": new.gap, "change": change,
                    "best_closed_score": new.best_closed.score, "best_open_score": new.best_open.score}


def compare(before: MarketState, after: MarketState, day: dt.date, rules: FindingRules) -> list[Finding]:
    """Every notable change from ``before`` to ``after``, dated ``day``, largest first.

    A fact found at several bars of one benchmark (the same kind and models) is kept once, at its highest bar.
    """
    found: dict[tuple[str, str, tuple[str, ...]], Finding] = {}
    for (slug, threshold), state in after.bars.items():
        for kind in KINDS.values():
            if kind.compare is None:
                continue
            hit = kind.compare(before.bars.get((slug, threshold)), state, rules)
            if hit is None:
                continue
            models, numbers = hit
            f = Finding(kind.name, day, slug, benchmark_name(after.catalog, slug), threshold, models, numbers,
                        _sources(after.catalog, slug, models, rules.input_share))
            key = (kind.name, slug, tuple(m.model for m in models))
            if key not in found or (found[key].threshold or 0) < threshold:
                found[key] = f
    for slug, step in after.gaps.items():
        hit = _gap_finding(slug, before.gaps.get(slug), step, rules, after.catalog)
        if hit is not None:
            models, numbers = hit
            found[("gap", slug, ())] = Finding("gap", day, slug, benchmark_name(after.catalog, slug), None, models,
                                               numbers, _sources(after.catalog, slug, models, rules.input_share))
    return sorted(found.values(), key=lambda f: (rank(f), f.benchmark or "", f.threshold or 0), reverse=True)


def watch_finding(day: dt.date, catalog: Catalog, watch: Mapping[str, Any], models: Iterable[Mapping[str, Any]],
                  rules: FindingRules) -> Finding:
    """A finding for a watch that fired.

    ``watch`` has ``id, benchmark, threshold, max_price, open_only, description``; ``models`` are the newly
    satisfying ones (``model, name, score, blended_per_m, open_weights``).
    """
    refs = tuple(FindingModel(m["model"], m["name"], "satisfies", m.get("open_weights")) for m in models)
    best = min((m for m in models if m.get("blended_per_m") is not None), key=lambda m: m["blended_per_m"],
               default=None)
    numbers = {"watch": watch["id"], "models": len(refs), "max_price": watch.get("max_price"),
               "open_only": bool(watch.get("open_only")), "description": watch["description"],
               "cheapest_price": best["blended_per_m"] if best else None}
    slug = watch["benchmark"]
    return Finding("watch", day, slug, benchmark_name(catalog, slug), float(watch["threshold"]), refs, numbers,
                   _sources(catalog, slug, refs, rules.input_share))
