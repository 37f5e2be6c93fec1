"""Plain catalog values and the price-at-date rule; what market analyses consume.

A :class:`Catalog` is an immutable snapshot of models, dated offers and scores. The price
of a model at a date is the latest offer effective on or before that date (per provider;
``provider=None`` takes the cheapest provider's latest offer).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from satisfice.catalog.harness import pick
from satisfice.core import DEFAULT_INPUT_SHARE, blend


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One model."""

    id: str
    name: str
    organization: str | None = None
    open_weights: bool | None = None
    release_date: dt.date | None = None
    reasoning: bool = False
    licence: str | None = None
    params_total_b: float | None = None
    params_active_b: float | None = None


@dataclass(frozen=True, slots=True)
class OfferRow:
    """A dated price point of one model at one provider (USD per million tokens)."""

    model_id: str
    provider: str
    effective_date: dt.date
    input_per_m: float | None = None
    output_per_m: float | None = None
    cached_input_per_m: float | None = None
    blended_per_m: float | None = None
    blend_input_share: float | None = None
    source: str = ""

    def blended(self, input_share: float = DEFAULT_INPUT_SHARE) -> float | None:
        """Blended price at ``input_share``; a source's given blend is used as given when that is all there is."""
        if self.input_per_m is not None and self.output_per_m is not None:
            return blend(self.input_per_m, self.output_per_m, input_share)
        return self.blended_per_m

    def blend_note(self, input_share: float = DEFAULT_INPUT_SHARE) -> str | None:
        """Say so when the blend is a source's own rather than the one asked for."""
        if self.input_per_m is not None and self.output_per_m is not None:
            return None
        if self.blended_per_m is None:
            return None
        share = self.blend_input_share
        if share is not None and abs(share - input_share) < 1e-9:
            return None
        return "blended price as given by the source" + (f" (input share {share:g})" if share is not None else "")


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One observation of a model's score on a benchmark (0-100, or Elo for ``arena-elo``).

    ``harness`` says who ran it (``epoch``, ``vendor``...), ``effort`` the reasoning effort or variant,
    ``date`` when it was run or published. The ``*_tokens`` fields are per task (item) when the
    source publishes them, ``items`` the number of tasks it ran, ``cost_per_task`` its USD per task.
    """

    model_id: str
    benchmark: str
    value: float
    harness: str = ""
    source: str = ""
    effort: str = ""
    date: dt.date | None = None
    stderr: float | None = None
    input_tokens: float | None = None
    cached_tokens: float | None = None
    output_tokens: float | None = None
    items: int | None = None
    cost_per_task: float | None = None

    def to_json(self) -> dict[str, object]:
        """The contract's keys (``benchmark, value, harness, effort, date, source``) plus the optional ones."""
        return {"benchmark": self.benchmark, "value": self.value, "harness": self.harness, "effort": self.effort,
                "date": self.date.isoformat() if self.date else None, "source": self.source, "stderr": self.stderr,
                "input_tokens": self.input_tokens, "cached_tokens": self.cached_tokens,
                "output_tokens": self.output_tokens, "items": self.items, "cost_per_task": self.cost_per_task}


@dataclass(frozen=True, slots=True)
class BenchmarkRow:
    """A benchmark and its scale (``percent`` or ``elo``)."""

    slug: str
    name: str
    scale: str = "percent"


@dataclass(frozen=True)
class Catalog:
    """An immutable snapshot of the catalog, indexed for analyses."""

    models: dict[str, ModelRow]
    offers: tuple[OfferRow, ...] = ()
    scores: tuple[ScoreRow, ...] = ()
    benchmarks: dict[str, BenchmarkRow] = field(default_factory=dict)
    harness: str | None = None
    """Use only scores of this harness (None: the default precedence)."""

    @classmethod
    def build(cls, models: Iterable[ModelRow], offers: Iterable[OfferRow] = (),
              scores: Iterable[ScoreRow] = (), benchmarks: Iterable[BenchmarkRow] = ()) -> Catalog:
        """Make a snapshot from rows (offers sorted by date)."""
        return cls(
            models={m.id: m for m in models},
            offers=tuple(sorted(offers, key=lambda o: (o.model_id, o.effective_date, o.provider))),
            scores=tuple(scores),
            benchmarks={b.slug: b for b in benchmarks},
        )

    def offers_of(self, model_id: str) -> list[OfferRow]:
        """Every offer of a model, oldest first."""
        return self._offers_by_model().get(model_id, [])

    def _offers_by_model(self) -> dict[str, list[OfferRow]]:
        cache = self.__dict__.get("_by_model")
        if cache is None:
            grouped: dict[str, list[OfferRow]] = defaultdict(list)
            for offer in self.offers:
                grouped[offer.model_id].append(offer)
            cache = dict(grouped)
            object.__setattr__(self, "_by_model", cache)
        return cache

    def price_at(self, model_id: str, date: dt.date, *, provider: str | None = None,
                 input_share: float = DEFAULT_INPUT_SHARE) -> OfferRow | None:
        """Latest offer effective on or before ``date``; ``provider=None`` picks the cheapest provider."""
        latest: dict[str, OfferRow] = {}
        for offer in self.offers_of(model_id):
            if offer.effective_date > date:
                break
            if provider is None or offer.provider == provider:
                latest[offer.provider] = offer
        priced = [o for o in latest.values() if o.blended(input_share) is not None]
        if not priced:
            return None
        return min(priced, key=lambda o: (o.blended(input_share), o.provider))

    def launch_price(self, model_id: str, *, input_share: float = DEFAULT_INPUT_SHARE) -> OfferRow | None:
        """Price at release: the offer in force at the release date, else the earliest offer known."""
        model = self.models.get(model_id)
        offers = self.offers_of(model_id)
        if not offers:
            return None
        if model is not None and model.release_date is not None:
            at_release = self.price_at(model_id, model.release_date, input_share=input_share)
            if at_release is not None:
                return at_release
        first_date = offers[0].effective_date
        return self.price_at(model_id, first_date, input_share=input_share)

    def score(self, model_id: str, benchmark: str, harness: str | None = None) -> ScoreRow | None:
        """The score that stands (see :func:`satisfice.catalog.harness.pick`), or None."""
        return pick(self.observations(model_id, benchmark), harness or self.harness)

    def observations(self, model_id: str, benchmark: str) -> list[ScoreRow]:
        """Every observation of a model's score on a benchmark, in the order recorded."""
        return self._scores_index().get((model_id, benchmark), [])

    def with_harness(self, harness: str | None) -> Catalog:
        """This catalog with every analysis using only scores of ``harness`` (None: the default precedence)."""
        return replace(self, harness=harness)

    def _scores_index(self) -> dict[tuple[str, str], list[ScoreRow]]:
        cache = self.__dict__.get("_scores")
        if cache is None:
            grouped: dict[tuple[str, str], list[ScoreRow]] = defaultdict(list)
            for s in self.scores:
                grouped[(s.model_id, s.benchmark)].append(s)
            cache = dict(grouped)
            object.__setattr__(self, "_scores", cache)
        return cache

    def as_of(self, date: dt.date) -> Catalog:
        """The catalog as it stood on ``date``: models released and offers effective by then."""
        models = [m for m in self.models.values() if m.release_date is None or m.release_date <= date]
        keep = {m.id for m in models}
        return Catalog.build(
            models,
            [o for o in self.offers if o.model_id in keep and o.effective_date <= date],
            [s for s in self.scores if s.model_id in keep],
            self.benchmarks.values(),
        ).with_harness(self.harness)
