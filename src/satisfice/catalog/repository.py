"""Reading and writing the catalog in the store.

Writes are atomic (one transaction per import) and idempotent: an offer is added only
when it changes the price in force for its model and provider at its date, so importing
the same file twice, or a history with repeated points, adds nothing.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from satisfice.catalog.batch import BENCHMARKS, ImportBatch
from satisfice.catalog.providers import provider_kind
from satisfice.catalog.rows import BenchmarkRow, Catalog, ModelRow, OfferRow, ScoreRow, settle_model, settle_start
from satisfice.errors import DataError
from satisfice.store import Store
from satisfice.store.schema import BenchmarkRecord, ModelRecord, OfferRecord, ScoreRecord, Source

_MODEL_FIELDS = ("name", "organization", "open_weights", "licence", "params_total_b", "params_active_b",
                 "release_date", "kind")
_SCORE_FIELDS = ("stderr", "input_tokens", "cached_tokens", "output_tokens", "items", "cost_per_task")
_PRICE_FIELDS = ("input_per_m", "output_per_m", "cached_input_per_m", "blended_per_m", "blend_input_share")


@dataclass(frozen=True)
class ImportResult:
    """What an import added (zero everywhere for a repeated import)."""

    file: str
    models_added: int
    offers_added: int
    scores_added: int
    rows_read: dict[str, int]


def _same_prices(a: OfferRecord, b: OfferRow) -> bool:
    return all(_close(getattr(a, f), getattr(b, f)) for f in _PRICE_FIELDS)


def _close(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return x is y
    return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))


class _Writer:
    def __init__(self, session: Session, batch: ImportBatch) -> None:
        self.s = session
        self.batch = batch
        self.sources: dict[str, int] = {row.citation: row.id for row in session.scalars(select(Source))}
        self.models: dict[str, ModelRecord] = {m.id: m for m in session.scalars(select(ModelRecord))}
        self.benchmarks = {b.slug for b in session.scalars(select(BenchmarkRecord))}
        self.offers: dict[tuple[str, str], list[OfferRecord]] = {}
        self._loaded_providers: set[str] = set()
        self.scores: dict[tuple[str, str, str, str, dt.date | None], ScoreRecord] | None = None

    def source_id(self, citation: str) -> int:
        citation = citation.strip() or f"imported from {self.batch.source_file}"
        if citation not in self.sources:
            src = Source(citation=citation[:1000])
            self.s.add(src)
            self.s.flush()
            self.sources[citation] = src.id
        return self.sources[citation]

    def benchmark(self, row: BenchmarkRow) -> None:
        if row.slug not in self.benchmarks:
            self.s.add(BenchmarkRecord(slug=row.slug, name=row.name, scale=row.scale))
            self.benchmarks.add(row.slug)

    def model(self, row: ModelRow) -> int:
        row = settle_model(row)
        existing = self.models.get(row.id)
        if existing is None:
            rec = ModelRecord(id=row.id, reasoning=row.reasoning,
                              **{f: getattr(row, f) for f in _MODEL_FIELDS})
            self.s.add(rec)
            self.models[row.id] = rec
            return 1
        for f in _MODEL_FIELDS:  # fill gaps, never overwrite a known fact
            if getattr(existing, f) is None and getattr(row, f) is not None:
                setattr(existing, f, getattr(row, f))
        if row.reasoning and not existing.reasoning:
            existing.reasoning = True
        return 0

    def _offers_at(self, model_id: str, provider: str) -> list[OfferRecord]:
        """Offers of one model at one provider, oldest first; loaded per provider once per import."""
        if provider not in self._loaded_providers:
            for rec in self.s.scalars(select(OfferRecord).where(OfferRecord.provider == provider)):
                self.offers.setdefault((rec.model_id, rec.provider), []).append(rec)
            for key, recs in self.offers.items():
                if key[1] == provider:
                    recs.sort(key=lambda r: r.effective_date)
            self._loaded_providers.add(provider)
        return self.offers.setdefault((model_id, provider), [])

    def offer(self, row: OfferRow, now: dt.datetime) -> int:
        if row.model_id not in self.models:
            raise DataError(f"offer for unknown model {row.model_id!r}", file=self.batch.source_file)
        model = self.models[row.model_id]
        row = settle_start(row, model.release_date)
        history = self._offers_at(row.model_id, row.provider)
        pos = bisect.bisect_right([r.effective_date for r in history], row.effective_date)
        in_force = history[pos - 1] if pos else None
        if in_force is not None:
            if _same_prices(in_force, row):
                return 0
            if in_force.effective_date == row.effective_date:
                raise DataError(
                    f"conflicting price for model {row.model_id!r} at provider {row.provider!r} on "
                    f"{row.effective_date}: the store already holds a different price for that date",
                    file=self.batch.source_file, field="price")
        rec = OfferRecord(model_id=row.model_id, provider=row.provider, effective_date=row.effective_date,
                          source_id=self.source_id(row.source), recorded_at=now,
                          provider_kind=row.provider_kind or provider_kind(row.provider, model.organization, model.id),
                          **{f: getattr(row, f) for f in _PRICE_FIELDS})
        self.s.add(rec)
        history.insert(pos, rec)
        return 1

    def score(self, row: ScoreRow) -> int:
        if row.benchmark not in self.benchmarks:
            self.benchmark(BENCHMARKS.get(row.benchmark, BenchmarkRow(row.benchmark, row.benchmark)))
        key = (row.model_id, row.benchmark, row.harness, row.effort, row.date)
        if self.scores is None:
            self.scores = {(r.model_id, r.benchmark, r.harness, r.effort, r.observed_on): r
                           for r in self.s.scalars(select(ScoreRecord))}
        existing = self.scores.get(key)
        if existing is not None:
            if _close(existing.value, row.value):
                return 0
            when = f" on {row.date}" if row.date else ""
            raise DataError(
                f"conflicting score for model {row.model_id!r} on {row.benchmark!r} ({row.harness or 'no harness'}"
                f"{', ' + row.effort if row.effort else ''}{when}): store has {existing.value:g}, file has "
                f"{row.value:g}; a newer observation needs its own date",
                file=self.batch.source_file, field=row.benchmark)
        rec = ScoreRecord(model_id=row.model_id, benchmark=row.benchmark, value=row.value, harness=row.harness,
                          source_id=self.source_id(row.source), effort=row.effort, observed_on=row.date,
                          **{f: getattr(row, f) for f in _SCORE_FIELDS})
        self.s.add(rec)
        self.scores[key] = rec
        return 1


def apply_batch(store: Store, batch: ImportBatch) -> ImportResult:
    """Write a parsed file in one transaction; any error leaves the store unchanged."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.transaction() as session:
        w = _Writer(session, batch)
        for b in batch.benchmarks:
            w.benchmark(b)
        models = sum(w.model(m) for m in batch.models)
        session.flush()
        offers = sum(w.offer(o, now) for o in sorted(batch.offers, key=lambda o: o.effective_date))
        scores = sum(w.score(s) for s in batch.scores)
    return ImportResult(batch.source_file, models, offers, scores, batch.counts())


def load_catalog(store: Store) -> Catalog:
    """Read the whole catalog into an immutable snapshot."""
    with store.session() as s:
        sources = {src.id: src.citation for src in s.scalars(select(Source))}
        models = [settle_model(ModelRow(
            id=m.id, name=m.name, organization=m.organization, open_weights=m.open_weights,
            release_date=m.release_date, reasoning=m.reasoning, licence=m.licence, params_total_b=m.params_total_b,
            params_active_b=m.params_active_b, kind=m.kind))
            for m in s.scalars(select(ModelRecord).order_by(ModelRecord.id))]
        offers = [OfferRow(model_id=o.model_id, provider=o.provider, effective_date=o.effective_date,
                           source=sources.get(o.source_id, ""), provider_kind=o.provider_kind,
                           **{f: getattr(o, f) for f in _PRICE_FIELDS})
                  for o in s.scalars(select(OfferRecord).order_by(OfferRecord.id))]
        scores = [ScoreRow(model_id=r.model_id, benchmark=r.benchmark, value=r.value, harness=r.harness,
                           source=sources.get(r.source_id, ""), effort=r.effort, date=r.observed_on,
                           **{f: getattr(r, f) for f in _SCORE_FIELDS})
                  for r in s.scalars(select(ScoreRecord).order_by(ScoreRecord.id))]
        benchmarks = [BenchmarkRow(b.slug, b.name, b.scale) for b in s.scalars(select(BenchmarkRecord))]
    return Catalog.build(models, offers, scores, benchmarks)
