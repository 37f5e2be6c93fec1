"""Replaying the catalog's dated history: the findings each date would have produced, written as insights.

Dates are the release dates of models and the effective dates of prices, up to today (scheduled future prices
are not history yet). At each date the catalog is cut to what was known then (:meth:`Catalog.as_of`) and its
analyses compared with the previous date's, exactly as a pipeline run compares before and after.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from satisfice.catalog.repository import load_catalog
from satisfice.catalog.rows import Catalog
from satisfice.insights.records import add_findings, utcnow
from satisfice.market.findings import Finding, FindingRules, bars_for, compare, market_state, scored_part
from satisfice.store import Store
from satisfice.store.schema_insights import InsightFindingRecord


def history(catalog: Catalog, rules: FindingRules, until: dt.date) -> list[tuple[dt.date, list[Finding]]]:
    """``(date, findings)`` for every dated event up to ``until`` that produced findings, oldest first."""
    catalog = scored_part(catalog)
    dates = sorted({m.release_date for m in catalog.models.values() if m.release_date is not None}
                   | {o.effective_date for o in catalog.offers})
    dates = [d for d in dates if d <= until]
    if not dates:
        return []
    bars = bars_for(catalog, rules)
    before = market_state(catalog.as_of(dates[0] - dt.timedelta(days=1)), bars, rules)
    out = []
    for day in dates:
        after = market_state(catalog.as_of(day), bars, rules)
        found = compare(before, after, day, rules)
        if found:
            out.append((day, found))
        before = after
    return out


def backfill(store: Store, rules: FindingRules | None = None, *, today: dt.date | None = None,
             now: dt.datetime | None = None) -> dict[str, Any]:
    """Write the replayed history's findings (one insight per date); findings already stored are skipped.

    Returns ``{"dates", "insights", "findings_found", "findings_added"}``: dates with findings, insights added
    or extended, findings found and findings new to the store. Everything is written in one transaction.
    """
    at = now or utcnow()
    replayed = history(load_catalog(store), rules or FindingRules(), today or at.date())
    touched: set[int] = set()
    with store.transaction() as s:
        count_before = s.scalar(select(func.count()).select_from(InsightFindingRecord)) or 0
        for day, found in replayed:
            insight = add_findings(s, found, key=f"backfill:{day.isoformat()}", day=day, trigger="backfill", now=at)
            if insight is not None:
                touched.add(insight)
        s.flush()
        added = (s.scalar(select(func.count()).select_from(InsightFindingRecord)) or 0) - count_before
    return {"dates": len(replayed), "insights": len(touched), "findings_found": sum(len(f) for _, f in replayed),
            "findings_added": added}
