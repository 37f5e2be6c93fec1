"""Pipeline runs on real recorded snapshots write their findings as insights: a price cut, a raise, nothing new."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from satisfice.catalog.repository import load_catalog
from satisfice.insights import get_insight, list_insights, pipeline_hook
from satisfice.market.cost import annual_bill
from satisfice.pipeline import add_watch, run
from satisfice.store import Store
from satisfice.store.schema_insights import InsightFindingRecord

LITELLM = Path(__file__).resolve().parents[1] / "data" / "pipeline" / "litellm_prices_subset.json"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)

    def __call__(self) -> dt.datetime:
        return self.now


def _findings(store: Store) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(InsightFindingRecord)) or 0


def _run(store: Store, location: str, clock: Clock) -> dict:
    return run(store, {"litellm": location}, now=clock, hooks={"insights": pipeline_hook()})


def test_real_snapshot_then_same_content_then_a_price_cut(bundled_store: Store, tmp_path: Path) -> None:
    clock = Clock()
    first = _run(bundled_store, str(LITELLM), clock)
    assert first["ok"] and first["insights"]["insight"] is not None
    doc = get_insight(bundled_store, first["insights"]["insight"])
    assert doc["trigger"] == "pipeline" and doc["run"] == first["run"] and doc["date"] == clock.now.date().isoformat()
    # LiteLLM lists DeepSeek's own API for V3.2 at $0.28/$0.40 (above the catalog's $0.2288/$0.3432): the default
    # (first-party) price rises, and V3.2 stays the cheapest model clearing the bar at the new price
    swe = next(f for f in doc["findings"] if f["kind"] == "workload" and f["benchmark"] == "swe-bench-verified"
               and f["threshold"] == 70.0)
    assert [m["model"] for m in swe["models"]] == ["deepseek-v3.2", "deepseek-v3.2"]
    assert swe["numbers"]["new_price"] == pytest.approx(0.75 * 0.28 + 0.25 * 0.40)
    assert swe["numbers"]["old_price"] == 0.75 * 0.2288 + 0.25 * 0.3432
    assert swe["numbers"]["new_annual"] == annual_bill(swe["numbers"]["new_price"], 100e6)
    assert swe["sources"] and any("LiteLLM" in s for s in swe["sources"])
    count = _findings(bundled_store)

    again = _run(bundled_store, str(LITELLM), clock)  # identical content: nothing applied, nothing found
    assert again["sources"][0]["outcome"] == "same" and again["insights"] == {"insight": None, "findings": 0}
    assert _findings(bundled_store) == count and len(list_insights(bundled_store)) == 1

    doc = json.loads(LITELLM.read_text())
    doc["deepseek/deepseek-v3.2"].update(input_cost_per_token=1.4e-7, output_cost_per_token=2e-7)
    cut = tmp_path / "litellm.json"
    cut.write_text(json.dumps(doc))
    clock.now += dt.timedelta(days=1)
    third = _run(bundled_store, str(cut), clock)
    assert third["sources"][0]["changed_prices"] == 1
    found = get_insight(bundled_store, third["insights"]["insight"])["findings"]
    assert found and all(f["kind"] == "workload" and f["models"][-1]["model"] == "deepseek-v3.2" for f in found)
    assert {f["numbers"]["new_price"] for f in found} == {0.75 * 0.14 + 0.25 * 0.2}
    assert [d["id"] for d in list_insights(bundled_store)] == [third["insights"]["insight"],
                                                                first["insights"]["insight"]]


def test_a_run_that_moves_no_analysis_writes_nothing(bundled_store: Store, tmp_path: Path) -> None:
    """Prices of models without scores change: applied by the pipeline, but no bar, gap or bill moves."""
    doc = {"sample_spec": json.loads(LITELLM.read_text())["sample_spec"],
           "openai/gpt-3.5-turbo-instruct": {"input_cost_per_token": 1.5e-6, "output_cost_per_token": 2e-6,
                                             "litellm_provider": "openai", "mode": "chat"}}
    path = tmp_path / "litellm.json"
    path.write_text(json.dumps(doc))
    report = _run(bundled_store, str(path), Clock())
    assert report["sources"][0]["outcome"] == "ok", report
    assert report["insights"] == {"insight": None, "findings": 0}
    assert list_insights(bundled_store) == []


def test_a_watch_that_fires_is_a_finding(bundled_store: Store, tmp_path: Path) -> None:
    add_watch(bundled_store, "gpqa-diamond", 80.0, max_price=0.2, open_only=True)
    doc = json.loads(LITELLM.read_text())
    doc["deepseek/deepseek-v3.2"].update(input_cost_per_token=1.4e-7, output_cost_per_token=2e-7)
    path = tmp_path / "litellm.json"
    path.write_text(json.dumps(doc))
    report = _run(bundled_store, str(path), Clock())
    assert report["watches"]
    found = get_insight(bundled_store, report["insights"]["insight"])["findings"]
    watch = next(f for f in found if f["kind"] == "watch")
    assert watch["benchmark"] == "gpqa-diamond" and watch["threshold"] == 80.0
    assert "deepseek-v3.2" in [m["model"] for m in watch["models"]]
    assert watch["numbers"]["cheapest_price"] <= 0.2
    assert load_catalog(bundled_store).score("deepseek-v3.2", "gpqa-diamond") is not None


def test_a_failing_hook_is_reported_and_the_run_kept(bundled_store: Store, tmp_path: Path) -> None:
    def broken(store: Store):  # type: ignore[no-untyped-def]
        return lambda report: 1 / 0

    report = run(bundled_store, {"litellm": str(LITELLM)}, now=Clock(), hooks={"broken": broken})
    assert report["ok"] and report["broken"] == {"error": "ZeroDivisionError: division by zero"}
