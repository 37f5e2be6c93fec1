"""The pipeline page over a real pipeline run (recorded source snapshots, no network)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from satisfice import pipeline
from satisfice.catalog.bundled import ensure_bundled
from satisfice.store import Store
from satisfice.web import create_app, read_only_store

SNAPSHOTS = Path(__file__).resolve().parents[1] / "data" / "pipeline"


def test_not_set_up_until_the_pipeline_has_run(store: Store, db_url: str) -> None:
    ensure_bundled(store)
    with TestClient(create_app(read_only_store(db_url))) as c:
        doc = c.get("/api/pipeline").json()
        assert doc["set_up"] is False and "not set up" in doc["message"]
        assert "pipeline not set up" in c.get("/pipeline").text


def test_pipeline_page_after_a_run(store: Store, db_url: str) -> None:
    ensure_bundled(store)
    report = pipeline.run(store, {"litellm": str(SNAPSHOTS / "litellm_prices_subset.json"),
                                  "openrouter": str(SNAPSHOTS / "openrouter_models.json")})
    assert report["ok"]
    ro = read_only_store(db_url)
    try:
        with TestClient(create_app(ro)) as c:
            doc = c.get("/api/pipeline?days=90").json()
            assert doc["set_up"] is True
            last = doc["status"]["last_run"]
            assert last["status"] == pipeline.status(store)["last_run"]["status"]
            assert {s["source"] for s in last["sources"]} == {"litellm", "openrouter"}
            kinds = {k["key"]: k["count"] for k in doc["kinds"]}
            assert kinds["new_models"] == report["totals"]["new_models"] > 0
            page = c.get("/pipeline?days=90").text
            assert 'id="sources"' in page and "new models" in page and "litellm" in page
            assert c.get("/pipeline?days=2").status_code == 400
    finally:
        ro.close()


def test_a_stopped_scheduler_shows_as_stopped_and_truncation_says_how_many_more(store: Store, db_url: str) -> None:
    import datetime as dt
    import json

    from satisfice.pipeline.views import HEARTBEAT_STALE_S, SCHEDULE_KEY
    from satisfice.store.schema import Meta

    ensure_bundled(store)
    assert pipeline.run(store, {"openrouter": str(SNAPSHOTS / "openrouter_models.json")})["ok"]
    stale = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=HEARTBEAT_STALE_S * 3)
    with store.transaction() as s:  # what a scheduler killed with SIGKILL leaves behind
        s.add(Meta(key=SCHEDULE_KEY, value=json.dumps({"every_s": 3600.0, "next_run": "2026-01-01T00:00:00Z",
                                                       "heartbeat_at": stale.isoformat(timespec="seconds") + "Z"})))
    ro = read_only_store(db_url)
    try:
        with TestClient(create_app(ro)) as c:
            page = " ".join(c.get("/pipeline?days=90").text.split())
            assert "Scheduler stopped</strong> (last seen" in page and "2026-01-01T00:00:00Z" not in page
            doc = c.get("/api/pipeline?days=90").json()
            kind = next(k for k in doc["kinds"] if k["count"] > len(doc["changes"][k["key"]]))
            more = kind["count"] - len(doc["changes"][kind["key"]])
            assert f"and {more:,} more" in page
    finally:
        ro.close()
