"""Insight tables: the migration matches the models; findings are written once; the list filters by date."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from satisfice.insights import get_insight, list_insights, record
from satisfice.market.findings import Finding, FindingModel
from satisfice.store import Store, schema_all


def test_migration_creates_exactly_the_insight_tables(store: Store) -> None:
    assert {"insights", "insight_findings"} <= set(store.table_names())
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema_all.metadata)
    assert [str(d)[:120] for d in diff if "insight" in str(d)] == []


def _finding(day: dt.date, price: float) -> Finding:
    return Finding("workload", day, "gpqa-diamond", "GPQA Diamond", 70.0,
                   (FindingModel("a", "A", "previous cheapest"), FindingModel("b", "B", "new cheapest")),
                   {"tokens_per_day": 1e8, "old_price": 1.0, "new_price": price, "old_annual": 36500.0,
                    "new_annual": price * 36500, "factor": 1 / price, "price_date": "2026-01-01"}, ("src",))


def test_a_fact_is_written_once_and_lists_filter_by_date(store: Store) -> None:
    day = dt.date(2026, 1, 2)
    first = record(store, [_finding(day, 0.5), _finding(day, 0.5)], key="run:1", day=day, trigger="pipeline",
                   run_id=1)
    assert first is not None and len(get_insight(store, first)["findings"]) == 1
    assert record(store, [_finding(day + dt.timedelta(days=3), 0.5)], key="run:2", day=day, trigger="pipeline") \
        is None  # the same fact on a later date adds nothing
    later = record(store, [_finding(day, 0.25)], key="run:3", day=day + dt.timedelta(days=5), trigger="pipeline")
    assert later is not None and later != first
    assert [d["id"] for d in list_insights(store)] == [later, first]
    assert [d["id"] for d in list_insights(store, day + dt.timedelta(days=1))] == [later]
    doc = get_insight(store, later)
    assert doc["title"].startswith("B is now the cheapest over GPQA Diamond 70: $9,125/year")
    assert doc["sources"] == [{"citation": "src", "url": None}]
