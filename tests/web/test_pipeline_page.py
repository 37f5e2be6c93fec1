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
