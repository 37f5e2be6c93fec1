"""Applying one source's observation to the store: new models, new dated offers, listings seen or gone.

The rules, for one source observed at time T (a timestamp, not only a day):

- a model the store does not know is added (a ``new_model`` change); a known model only has its
  unknown facts filled (release date, open weights), never overwritten;
- a price (input and output; cached input when both sides know one) is compared with what this
  source listed last time for the same model, provider and start
  date; when the source never listed it, with the store's offer in force for that model and provider.
  The same price adds nothing. A different one becomes a new offer recorded at T: ``price_cut`` or
  ``price_raise`` (with the change in per cent of the blended price) when it changes this source's
  own earlier price or a price imported into the catalog; ``new_offer`` when nothing was in force or
  when another pipeline source set the price in force (two sources disagreeing is not a price
  change); ``scheduled`` when its start date is after T's day;
- a listing this source no longer has is marked ``gone_since`` T (a ``gone`` change); its offers stay.

Everything happens in the caller's transaction: a failure leaves nothing from this source behind.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.rows import ModelRow, OfferRow
from satisfice.core import blend
from satisfice.store.schema import ModelRecord, OfferRecord, Source
from satisfice.store.schema_pipeline import ChangeRecord, ListingRecord

_FILLED = ("organization", "open_weights", "release_date")
_PRICES = ("input_per_m", "output_per_m", "cached_input_per_m")


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


def _close(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return x is y
    return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))


def _same(a: ListingRecord | OfferRecord, b: OfferRow) -> bool:
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
        self.snapshot = snapshot
        self.counts = Counts()
        self._sources: dict[str, int] = {}
        self._piped = set(session.scalars(select(Source.id).where(Source.citation.like("%[pipeline %"))))
        self._offers: dict[tuple[str, str], list[OfferRecord]] = {}

    def apply(self, batch: ImportBatch, provider: dict[str, str]) -> Counts:
        """Write ``batch`` (offers' providers renamed by ``provider``) and return what changed."""
        known = {m.id: m for m in self.s.scalars(select(ModelRecord))}
        for row in batch.models:
            self._model(row, known)
        self.s.flush()
        for rec in self.s.scalars(select(OfferRecord).order_by(OfferRecord.effective_date, OfferRecord.recorded_at,
                                                               OfferRecord.id)):
            self._offers.setdefault((rec.model_id, rec.provider), []).append(rec)
        listings = {(r.model_id, r.provider, r.starts): r for r in
                    self.s.scalars(select(ListingRecord).where(ListingRecord.source == self.source))}
        seen: set[tuple[str, str, str]] = set()
        for offer in batch.offers:
            renamed = provider.get(offer.provider, offer.provider)
            if renamed != offer.provider:
                offer = replace(offer, provider=renamed)
            starts = "" if offer.effective_date == self.day else offer.effective_date.isoformat()
            key = (offer.model_id, offer.provider, starts)
            if key in seen:
                continue
            seen.add(key)
            self._offer(offer, starts, listings.get(key))
        for key, listing in listings.items():
            if key not in seen and listing.gone_since is None:
                listing.gone_since = self.at
                self.counts.gone += 1
                self._change("gone", listing.model_id, listing.provider, listing.starts or None,
                             detail=f"no longer listed by {self.source}")
        return self.counts

    def _model(self, row: ModelRow, known: dict[str, ModelRecord]) -> None:
        existing = known.get(row.id)
        if existing is None:
            rec = ModelRecord(id=row.id, name=row.name, organization=row.organization, open_weights=row.open_weights,
                              release_date=row.release_date, reasoning=row.reasoning, licence=row.licence,
                              params_total_b=row.params_total_b, params_active_b=row.params_active_b)
            self.s.add(rec)
            known[row.id] = rec
            self.counts.new_models += 1
            self.counts.new_model_ids.append(row.id)
            self._change("new_model", row.id, None, row.release_date.isoformat() if row.release_date else None,
                         detail=row.name)
            return
        for f in _FILLED:
            if getattr(existing, f) is None and getattr(row, f) is not None:
                setattr(existing, f, getattr(row, f))

    def _offer(self, row: OfferRow, starts: str, listing: ListingRecord | None) -> None:
        history = self._offers.setdefault((row.model_id, row.provider), [])
        if listing is not None:
            listing.last_seen_at = self.at
            listing.gone_since = None
            before: ListingRecord | OfferRecord | None = listing
        else:
            before = _in_force(history, row.effective_date, exact=bool(starts))
            self.s.add(ListingRecord(source=self.source, model_id=row.model_id, provider=row.provider, starts=starts,
                                     first_seen_at=self.at, last_seen_at=self.at,
                                     **{f: getattr(row, f) for f in _PRICES}))
        if before is not None and _same(before, row):
            self.counts.unchanged += 1
            return
        old_in = before.input_per_m if before is not None else None
        old_out = before.output_per_m if before is not None else None
        old_cached = before.cached_input_per_m if before is not None else None
        if listing is not None:
            for f in _PRICES:
                setattr(listing, f, getattr(row, f))
        rec = OfferRecord(model_id=row.model_id, provider=row.provider, effective_date=row.effective_date,
                          source_id=self._source_id(row.source), recorded_at=self.at,
                          **{f: getattr(row, f) for f in _PRICES})
        self.s.add(rec)
        bisect.insort(history, rec, key=lambda r: (r.effective_date, r.recorded_at))
        pct = _pct(old_in, old_out, row)
        if row.effective_date > self.day:
            kind = "scheduled"
            self.counts.scheduled += 1
        elif before is None or (listing is None and isinstance(before, OfferRecord)
                                and before.source_id in self._piped):
            kind = "new_offer"
            self.counts.new_offers += 1
        else:
            lower = pct < 0 if pct else (row.cached_input_per_m or 0.0) < (old_cached or 0.0)
            kind = "price_cut" if lower else "price_raise"
            self.counts.changed_prices += 1
        self._change(kind, row.model_id, row.provider, row.effective_date.isoformat(), old_in, old_out, row, pct)

    def _source_id(self, citation: str) -> int:
        text = (f"{citation} [pipeline {self.source}, snapshot sha256 {self.snapshot[:12]}]")[:1000]
        found = self._sources.get(text)
        if found is None:
            found = self.s.scalars(select(Source.id).where(Source.citation == text)).first()
            if found is None:
                src = Source(citation=text)
                self.s.add(src)
                self.s.flush()
                found = src.id
            self._sources[text] = found
            self._piped.add(found)
        return found

    def _change(self, kind: str, model_id: str, provider: str | None, effective: str | None,
                old_in: float | None = None, old_out: float | None = None, new: OfferRow | None = None,
                pct: float | None = None, detail: str = "") -> None:
        self.s.add(ChangeRecord(run_id=self.run_id, source=self.source, at=self.at, kind=kind, model_id=model_id,
                                provider=provider, effective_date=effective, old_input_per_m=old_in,
                                old_output_per_m=old_out, new_input_per_m=new.input_per_m if new else None,
                                new_output_per_m=new.output_per_m if new else None, pct=pct, detail=detail))


def _in_force(history: list[OfferRecord], day: dt.date, *, exact: bool) -> OfferRecord | None:
    """The latest offer effective on or before ``day`` (on ``day`` exactly, for a dated listing)."""
    found = None
    for rec in history:
        if rec.effective_date > day:
            break
        found = rec
    if exact and found is not None and found.effective_date != day:
        return None
    return found
