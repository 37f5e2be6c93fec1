"""Watched bars: "tell me when a model clears benchmark B at T (under price P, open weights)".

A watch remembers the models that already satisfied it; after each run the newly satisfying
ones are reported once. Prices are today's cheapest offer (blended at the watch's input share);
a model without a known price never satisfies a watch with a price cap.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from satisfice.catalog.batch import BENCHMARKS
from satisfice.catalog.repository import load_catalog
from satisfice.catalog.rows import Catalog
from satisfice.core import DEFAULT_INPUT_SHARE
from satisfice.errors import ConfigError, NotFoundError
from satisfice.formatting import usd
from satisfice.store import Store
from satisfice.store.schema_pipeline import WatchRecord


@dataclass(frozen=True)
class Watch:
    """A watched bar."""

    id: int
    benchmark: str
    threshold: float
    max_price: float | None
    open_only: bool
    input_share: float

    def describe(self) -> str:
        """One phrase: "an open-weights model clears SWE-bench Verified 75 under $1/M"."""
        bench = BENCHMARKS[self.benchmark].name if self.benchmark in BENCHMARKS else self.benchmark
        who = "an open-weights model" if self.open_only else "a model"
        price = f" under {usd(self.max_price, trim=True)}/M" if self.max_price is not None else ""
        return f"{who} clears {bench} {self.threshold:g}{price}"


def _watch(rec: WatchRecord) -> Watch:
    return Watch(rec.id, rec.benchmark, rec.threshold, rec.max_price, rec.open_only, rec.input_share)


def satisfying(watch: Watch, catalog: Catalog, day: dt.date) -> list[dict[str, Any]]:
    """Models that satisfy ``watch`` on ``day``, cheapest first."""
    out = []
    for model in catalog.models.values():
        score = catalog.score(model.id, watch.benchmark)
        if score is None or score.value < watch.threshold:
            continue
        if watch.open_only and model.open_weights is not True:
            continue
        offer = catalog.price_at(model.id, day, input_share=watch.input_share)
        price = offer.blended(watch.input_share) if offer is not None else None
        if watch.max_price is not None and (price is None or price > watch.max_price):
            continue
        out.append({"model": model.id, "name": model.name, "score": score.value, "open_weights": model.open_weights,
                    "blended_per_m": price, "provider": offer.provider if offer else None})
    return sorted(out, key=lambda m: (m["blended_per_m"] is None, m["blended_per_m"] or 0.0, m["model"]))


def add_watch(store: Store, benchmark: str, threshold: float, *, max_price: float | None = None,
              open_only: bool = False, input_share: float = DEFAULT_INPUT_SHARE,
              now: dt.datetime | None = None) -> dict[str, Any]:
    """Record a watch; returns it with the models that satisfy it already (not reported again)."""
    if max_price is not None and max_price < 0:
        raise ConfigError(f"--max-price must be at least 0, got {max_price:g}")
    at = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    catalog = load_catalog(store)
    if benchmark not in catalog.benchmarks and benchmark not in BENCHMARKS:
        known = ", ".join(sorted(set(catalog.benchmarks) | set(BENCHMARKS)))
        raise ConfigError(f"unknown benchmark {benchmark!r} (known: {known})")
    with store.transaction() as s:
        rec = WatchRecord(benchmark=benchmark, threshold=threshold, max_price=max_price, open_only=open_only,
                          input_share=input_share, created_at=at, satisfied="[]")
        s.add(rec)
        s.flush()
        watch = _watch(rec)
        now_ok = satisfying(watch, catalog, at.date())
        rec.satisfied = json.dumps(sorted(m["model"] for m in now_ok))
    return {"watch": watch.__dict__ | {"description": watch.describe()}, "satisfied_now": now_ok}


def list_watches(store: Store) -> list[dict[str, Any]]:
    """Every watch with the models it has reported."""
    with store.session() as s:
        return [_watch(r).__dict__ | {"description": _watch(r).describe(), "satisfied": json.loads(r.satisfied),
                                      "created_at": r.created_at.isoformat(timespec="seconds")}
                for r in s.scalars(select(WatchRecord).order_by(WatchRecord.id))]


def remove_watch(store: Store, watch_id: int) -> None:
    """Delete a watch."""
    with store.transaction() as s:
        rec = s.get(WatchRecord, watch_id)
        if rec is None:
            raise NotFoundError(f"no watch with id {watch_id}")
        s.delete(rec)


def newly_satisfied(store: Store, day: dt.date) -> list[dict[str, Any]]:
    """Check every watch; models that satisfy one for the first time are returned and remembered."""
    with store.session() as s:
        if s.scalars(select(WatchRecord.id)).first() is None:
            return []
    catalog = load_catalog(store)
    found = []
    with store.transaction() as s:
        for rec in s.scalars(select(WatchRecord).order_by(WatchRecord.id)):
            watch = _watch(rec)
            before = set(json.loads(rec.satisfied))
            now_ok = satisfying(watch, catalog, day)
            new = [m for m in now_ok if m["model"] not in before]
            if new:
                rec.satisfied = json.dumps(sorted(before | {m["model"] for m in now_ok}))
                found.append({"watch": watch.id, "description": watch.describe(), "models": new})
    return found
