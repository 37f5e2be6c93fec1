"""The /gateway page's production-loop panel: experiments and drift checks from the store, escaped."""

from __future__ import annotations

import datetime as dt

from starlette.testclient import TestClient

from satisfice.store import open_store
from satisfice.store.schema_outcomes import GatewayDrift, GatewayExperiment
from satisfice.web import create_app, read_only_store


def test_the_gateway_page_shows_experiments_and_drift(seeded: tuple[str, list[int]]) -> None:
    db_url = seeded[0]
    store = open_store(db_url)
    now = dt.datetime(2026, 1, 1)
    with store.transaction() as s:
        s.add(GatewayExperiment(route="task/t", model="<script>alert(1)</script>", incumbent="big", bar=0.9,
                                confidence=0.95, state="promoted", reason="cleared", started_at=now, decided_at=now,
                                requests=40, scored=31, accuracy=1.0, ci_low=0.91, ci_high=1.0, spend_usd=0.0123))
        s.add(GatewayDrift(route="task/t", checked_at=now, bar=0.9, confidence=0.95, window=500, scored=80,
                           accuracy=0.5, ci_low=0.35, ci_high=0.66, alarm=True))
    store.close()
    ro = read_only_store(db_url)
    try:
        with TestClient(create_app(ro)) as client:
            page = client.get("/gateway")
            api = client.get("/api/gateway")
    finally:
        ro.close()
    assert page.status_code == 200 and "Experiments and drift" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert 'id="drift"' in page.text and "DRIFT" in page.text
    assert api.status_code == 200
    data = api.json()["data"] if "data" in api.json() else api.json()
    assert data["experiments"][0]["state"] == "promoted" and data["drift"][0]["alarm"] is True
