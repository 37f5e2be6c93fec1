"""Applying one source's observation to the store: new models, new dated offers, listings seen or gone.

The rules, for one source observed at time T (a timestamp, not only a day):

- a model the store does not know is added (a ``new_model`` change); a known model only has its
  unknown facts filled (release date, open weights), never overwritten;
- a price (input and output; cached input when both sides know one) is compared with what this
  source listed last time for the same model, provider and start date; when the source never listed
  it, with the store's offer in force for that model and provider. The same price adds nothing.
  A different one becomes a new offer recorded at T: ``price_cut`` or ``price_raise`` (with the
  change in per cent of the blended price) when it changes this source's own earlier price or a
  price imported into the catalog; ``new_offer`` when nothing was in force or when another pipeline
  source set the price in force (two sources disagreeing is not a price change); ``scheduled``
  when its start date is after T's day;
- a listing this source no longer has is marked ``gone_since`` T (a ``gone`` change); its offers stay.

Everything happens in the caller's transaction (rows are written in bulk at the end): a failure
leaves nothing from this source behind.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.providers import provider_kind
from satisfice.catalog.rows import ModelRow, OfferRow, settle_model, settle_start
from satisfice.core import blend
from satisfice.store.schema import ModelRecord, OfferRecord, Source
from satisfice.store.schema_pipeline import ChangeRecord, ListingRecord

_FILLED = ("organization", "open_weights", "release_date", "kind")
_PRICES = ("input_per_m", "output_per_m", "cached_input_per_m")
_MODEL = ("name", "organization", "open_weights", "release_date", "reasoning", "licence", "params_total_b",
          "params_active_b", "kind")


@dataclass
class Counts:
    """What one source's observation changed."""

    new_models: int = 0
    new_offers: int = 0
    changed_prices: int = 0
    scheduled: int = 0
    unchanged: int = 0
    gone: int = 0
    new_model_ids: list[str] = field(default_factory=list)


@dataclass
class _Price:
    """A price in force (from an offer or a listing)."""

    effective_date: dt.date
    recorded_at: dt.datetime
    input_per_m: float | None
    output_per_m: float | None
    cached_input_per_m: float | None
    piped: bool = False


def _limit(*columns: Any) -> int:
    return min(int(c.type.length) for c in columns)


_MODEL_LIMITS = {"id": _limit(ModelRecord.id, OfferRecord.model_id, ListingRecord.model_id, ChangeRecord.model_id),
                 "name": _limit(ModelRecord.name), "organization": _limit(ModelRecord.organization),
                 "licence": _limit(ModelRecord.licence)}
_OFFER_LIMITS = {"model_id": _MODEL_LIMITS["id"],
                 "provider": _limit(OfferRecord.provider, ListingRecord.provider, ChangeRecord.provider)}


def _too_long(row: Any, limits: dict[str, int]) -> str | None:
    for name, limit in limits.items():
        value = getattr(row, name)
        if isinstance(value, str) and len(value) > limit:
            return f"{name} is {len(value):,} characters, over the store's limit of {limit}"
    return None


def fit_to_store(batch: ImportBatch) -> tuple[ImportBatch, list[str]]:
    """The batch without entries whose text does not fit the store's columns, and one error naming each.

    Checked here, the same on every store: SQLite would keep an over-long value and PostgreSQL reject the whole
    transaction. An offer of a skipped model is skipped with it.
    """
    errors: list[str] = []
    models, dropped = [], set()
    for row in batch.models:
        problem = _too_long(row, _MODEL_LIMITS)
        if problem is None:
            models.append(row)
        else:
            dropped.add(row.id)
            errors.append(f"model {row.id[:60]!r}: {problem}; skipped")
    offers = []
    for offer in batch.offers:
        problem = _too_long(offer, _OFFER_LIMITS)
        if problem is None and offer.model_id not in dropped:
            offers.append(offer)
        elif problem is not None:
            errors.append(f"offer of {offer.model_id[:60]!r} at {offer.provider[:60]!r}: {problem}; skipped")
    scores = [s for s in batch.scores if s.model_id not in dropped]
    return replace(batch, models=models, offers=offers, scores=scores), errors


def _close(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return x is y
    return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))


def _same(a: Any, b: OfferRow) -> bool:
    """Same input and output price, and the same cached-input price when both sides know one."""
    if a.cached_input_per_m is not None and b.cached_input_per_m is not None:
        if not _close(a.cached_input_per_m, b.cached_input_per_m):
            return False
    return _close(a.input_per_m, b.input_per_m) and _close(a.output_per_m, b.output_per_m)


def _pct(old_in: float | None, old_out: float | None, new: OfferRow) -> float | None:
    if old_in is None or old_out is None or new.input_per_m is None or new.output_per_m is None:
        return None
    before = blend(old_in, old_out)
    return None if before <= 0 else round(100.0 * (blend(new.input_per_m, new.output_per_m) - before) / before, 2)


class Observation:
    """Applies one parsed source document to the store inside one session."""

    def __init__(self, session: Session, source: str, run_id: int, at: dt.datetime, snapshot: str) -> None:
        self.s = session
        self.source = source
        self.run_id = run_id
        self.at = at
        self.day = at.date()
        self.tag = f" [pipeline {source}, snapshot sha256 {snapshot[:12]}]"
        self.counts = Counts()
        self._models: list[dict[str, Any]] = []
        self._offers: list[dict[str, Any]] = []
        self._listings: list[dict[str, Any]] = []
        self._listing_updates: list[dict[str, Any]] = []
        self._changes: list[dict[str, Any]] = []

    def apply(self, batch: ImportBatch, provider: dict[str, str]) -> Counts:
        """Write ``batch`` (offers' providers renamed by ``provider``) and return what changed.

        Each offer is classified by its provider's kind (first-party, serving, reseller, subscription);
        a price whose start the source does not give starts at the model's release date.
        """
        models = self._add_models(batch.models)
        piped = set(self.s.scalars(select(Source.id).where(Source.citation.like("%[pipeline %"))))
        history: dict[tuple[str, str], list[_Price]] = {}
        for r in self.s.execute(select(OfferRecord.model_id, OfferRecord.provider, OfferRecord.effective_date,
                                       OfferRecord.recorded_at, OfferRecord.input_per_m, OfferRecord.output_per_m,
                                       OfferRecord.cached_input_per_m, OfferRecord.source_id)
                                .order_by(OfferRecord.effective_date, OfferRecord.recorded_at, OfferRecord.id)):
            history.setdefault((r.model_id, r.provider), []).append(
                _Price(r.effective_date, r.recorded_at, r.input_per_m, r.output_per_m, r.cached_input_per_m,
                       r.source_id in piped))
        listings = {(r.model_id, r.provider, r.starts): r for r in self.s.execute(
            select(ListingRecord.id, ListingRecord.model_id, ListingRecord.provider, ListingRecord.starts,
                   ListingRecord.input_per_m, ListingRecord.output_per_m, ListingRecord.cached_input_per_m,
                   ListingRecord.gone_since).where(ListingRecord.source == self.source))}
        seen: set[tuple[str, str, str]] = set()
        for offer in batch.offers:
            renamed = provider.get(offer.provider, offer.provider)
            org, release = models.get(offer.model_id, (None, None))
            # the listing is keyed by the start the source gives, not by the settled one: a release date
            # learned later (from another source) must not turn a known listing into a new one
            starts = "" if offer.effective_date == self.day else offer.effective_date.isoformat()
            offer = settle_start(replace(offer, provider=renamed, provider_kind=offer.provider_kind or provider_kind(
                renamed, org, offer.model_id)), release)
            key = (offer.model_id, offer.provider, starts)
            if key in seen:
                continue
            seen.add(key)
            self._offer(offer, starts, listings.get(key), history.setdefault((offer.model_id, offer.provider), []))
        for key, listing in listings.items():
            if key not in seen and listing.gone_since is None:
                self._listing_updates.append({"id": listing.id, "gone_since": self.at})
                self.counts.gone += 1
                self._change("gone", listing.model_id, listing.provider, listing.starts or None,
                             detail=f"no longer listed by {self.source}")
        self._flush()
        return self.counts

    def _add_models(self, rows: list[ModelRow]) -> dict[str, tuple[str | None, dt.date | None]]:
        """Add new models, fill known ones' gaps; ``{id: (organization, release date)}`` of every model."""
        known = {r.id: r for r in self.s.execute(select(ModelRecord.id, *(getattr(ModelRecord, f) for f in _FILLED)))}
        facts = {i: (r.organization, r.release_date) for i, r in known.items()}
        for row in map(settle_model, rows):
            existing = known.get(row.id)
            if existing is not None:
                gaps = {f: getattr(row, f) for f in _FILLED
                        if getattr(existing, f) is None and getattr(row, f) is not None}
                if gaps:  # fill gaps, never overwrite a known fact
                    self.s.execute(update(ModelRecord).where(ModelRecord.id == row.id).values(**gaps))
                    before = facts[row.id]
                    facts[row.id] = (before[0] or row.organization, before[1] or row.release_date)
                continue
            facts[row.id] = (row.organization, row.release_date)
            self._models.append({"id": row.id, **{f: getattr(row, f) for f in _MODEL}})
            self.counts.new_models += 1
            self.counts.new_model_ids.append(row.id)
            self._change("new_model", row.id, None, row.release_date.isoformat() if row.release_date else None,
                         detail=row.name)
        if self._models:
            self.s.execute(insert(ModelRecord), self._models)
        return facts

    def _offer(self, row: OfferRow, starts: str, listing: Any, history: list[_Price]) -> None:
        before: Any
        if listing is not None:
            before = listing
            update_row: dict[str, Any] = {"id": listing.id, "last_seen_at": self.at, "gone_since": None}
            self._listing_updates.append(update_row)
        else:
            before = _in_force(history, row.effective_date, exact=bool(starts))
            self._listings.append({"source": self.source, "model_id": row.model_id, "provider": row.provider,
                                   "starts": starts, "first_seen_at": self.at, "last_seen_at": self.at,
                                   "gone_since": None, **{f: getattr(row, f) for f in _PRICES}})
        if before is not None and _same(before, row):
            self.counts.unchanged += 1
            return
        if listing is not None:
            update_row.update({f: getattr(row, f) for f in _PRICES})
        self._offers.append({"model_id": row.model_id, "provider": row.provider, "effective_date": row.effective_date,
                             "recorded_at": self.at, "citation": (row.source + self.tag)[-1000:],
                             "provider_kind": row.provider_kind,
                             **{f: getattr(row, f) for f in _PRICES}})
        bisect.insort(history, _Price(row.effective_date, self.at, row.input_per_m, row.output_per_m,
                                      row.cached_input_per_m, True),
                      key=lambda p: (p.effective_date, p.recorded_at))
        old_in = before.input_per_m if before is not None else None
        old_out = before.output_per_m if before is not None else None
        pct = _pct(old_in, old_out, row)
        if row.effective_date > self.day:
            kind = "scheduled"
            self.counts.scheduled += 1
        elif before is None or (listing is None and before.piped):
            kind = "new_offer"
            self.counts.new_offers += 1
        else:
            lower = pct < 0 if pct else (row.cached_input_per_m or 0.0) < (before.cached_input_per_m or 0.0)
            kind = "price_cut" if lower else "price_raise"
            self.counts.changed_prices += 1
        self._change(kind, row.model_id, row.provider, row.effective_date.isoformat(), old_in, old_out, row, pct)

    def _change(self, kind: str, model_id: str, provider: str | None, effective: str | None,
                old_in: float | None = None, old_out: float | None = None, new: OfferRow | None = None,
                pct: float | None = None, detail: str = "") -> None:
        self._changes.append({"run_id": self.run_id, "source": self.source, "at": self.at, "kind": kind,
                              "model_id": model_id, "provider": provider, "effective_date": effective,
                              "old_input_per_m": old_in, "old_output_per_m": old_out,
                              "new_input_per_m": new.input_per_m if new else None,
                              "new_output_per_m": new.output_per_m if new else None, "pct": pct, "detail": detail})

    def _flush(self) -> None:
        """Write the collected rows in a few bulk statements."""
        if self._offers:
            wanted = {o["citation"] for o in self._offers}
            query = select(Source.citation, Source.id).where(Source.citation.like("%[pipeline %"))
            ids: dict[str, int] = {c: i for c, i in self.s.execute(query)}
            missing = [{"citation": c} for c in sorted(wanted - set(ids))]
            if missing:
                self.s.execute(insert(Source), missing)
                ids = {c: i for c, i in self.s.execute(query)}
            self.s.execute(insert(OfferRecord), [{**{k: v for k, v in o.items() if k != "citation"},
                                                  "source_id": ids[o["citation"]]} for o in self._offers])
        if self._listings:
            self.s.execute(insert(ListingRecord), self._listings)
        if self._listing_updates:
            self.s.execute(update(ListingRecord), self._listing_updates)
        if self._changes:
            self.s.execute(insert(ChangeRecord), self._changes)


def _in_force(history: list[_Price], day: dt.date, *, exact: bool) -> _Price | None:
    """The latest offer effective on or before ``day`` (on ``day`` exactly, for a dated listing)."""
    pos = bisect.bisect_right(history, day, key=lambda p: p.effective_date)
    found = history[pos - 1] if pos else None
    if exact and found is not None and found.effective_date != day:
        return None
    return found


__all__ = ["Counts", "Observation", "fit_to_store"]
