"""Plain catalog values and the price-at-date rule; what market analyses consume.

A :class:`Catalog` is an immutable snapshot of models, dated offers and scores. The price
of a model at a date is the latest offer effective on or before that date, per provider; which
provider's (see :meth:`Catalog.price_at`):

- by default, the model's first-party offer (its organization's own API); a model without one
  (an open model sold only by hosts) takes the cheapest ``serving`` offer;
- ``provider="any"``: the cheapest per-token list price (first-party or serving);
- ``provider=NAME``: that provider's offer, whatever its kind.

Resellers and subscription bundles are never the default, nor the cheapest of ``any``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from satisfice.catalog.harness import pick
from satisfice.catalog.kinds import kind_from_name
from satisfice.catalog.providers import FIRST_PARTY, LIST_PRICE_KINDS, SERVING, canonical_organization, provider_kind
from satisfice.core import DEFAULT_INPUT_SHARE, blend

ANY_PROVIDER = "any"
"""``--provider any``: compare every per-token list price (first-party and serving)."""


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
    kind: str | None = None
    """``chat``, ``embedding``, ``image`` ... from source metadata (None: by the name rule, see :attr:`model_kind`)."""

    @property
    def model_kind(self) -> str:
        """The kind from metadata, else from the name rule."""
        return self.kind or kind_from_name(self.id)


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
    provider_kind: str | None = None
    """``first-party``, ``serving``, ``reseller`` or ``subscription`` (None: not classified yet)."""
    starts_unknown: bool = False
    """The source gives this price without a start date, as in force before a dated change."""

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


def settle_start(offer: OfferRow, release_date: dt.date | None) -> OfferRow:
    """An offer whose start the source does not give starts at the model's release date when that is earlier.

    Such an offer (``starts_unknown``) is dated by its source on the last day it is known to be in
    force (the day before a dated change); the price was in force since the model was released.
    """
    if offer.starts_unknown and release_date is not None and release_date < offer.effective_date:
        return replace(offer, effective_date=release_date)
    return offer


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
        by_id = {m.id: m for m in models}
        classified = (o if o.provider_kind else replace(o, provider_kind=provider_kind(
            o.provider, by_id[o.model_id].organization if o.model_id in by_id else None, o.model_id)) for o in offers)
        return cls(
            models=by_id,
            offers=tuple(sorted(classified, key=lambda o: (o.model_id, o.effective_date, o.provider))),
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
        """The offer in force on ``date`` (latest effective on or before it) by the module's provider rule.

        ``provider=None``: the first-party offer, else the cheapest serving one; ``"any"``: the cheapest
        first-party or serving offer; a provider id: that provider's offer.
        """
        latest: dict[str, OfferRow] = {}
        for offer in self.offers_of(model_id):
            if offer.effective_date > date:
                break
            if provider in (None, ANY_PROVIDER) or offer.provider == provider:
                latest[offer.provider] = offer
        priced = [o for o in latest.values() if o.blended(input_share) is not None]
        if provider is None:
            first = [o for o in priced if o.provider_kind == FIRST_PARTY]
            priced = first or [o for o in priced if o.provider_kind == SERVING]
        elif provider == ANY_PROVIDER:
            priced = [o for o in priced if o.provider_kind in LIST_PRICE_KINDS]
        if not priced:
            return None
        return min(priced, key=lambda o: (o.blended(input_share), o.provider))

    def launch_price(self, model_id: str, *, input_share: float = DEFAULT_INPUT_SHARE,
                     provider: str | None = None) -> OfferRow | None:
        """Price at release: the offer in force at the release date, else the earliest offer known."""
        model = self.models.get(model_id)
        offers = self.offers_of(model_id)
        if not offers:
            return None
        if model is not None and model.release_date is not None:
            at_release = self.price_at(model_id, model.release_date, input_share=input_share, provider=provider)
            if at_release is not None:
                return at_release
        for offer in offers:  # the earliest date on which a price of this rule was in force
            found = self.price_at(model_id, offer.effective_date, input_share=input_share, provider=provider)
            if found is not None:
                return found
        return None

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

    def of_kind(self, kind: str | None) -> Catalog:
        """Only the models of ``kind`` (``chat``, ``embedding`` ...; None: all), with their offers and scores."""
        if kind is None:
            return self
        keep = {m.id for m in self.models.values() if m.model_kind == kind}
        return Catalog.build([self.models[i] for i in keep], [o for o in self.offers if o.model_id in keep],
                             [s for s in self.scores if s.model_id in keep], self.benchmarks.values())

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


def settle_model(row: ModelRow) -> ModelRow:
    """A model as the catalog stores it: its organization's canonical name (inferred when a source gives none)."""
    org = canonical_organization(row.organization, row.id)
    return row if org == row.organization else replace(row, organization=org)
