"""The dashboard says who ran each score: harness on the market table, effort and date on a model, saturation panel."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from satisfice.catalog.bundled import ensure_bundled
from satisfice.store import open_store
from satisfice.web import create_app, read_only_store


def test_pages_show_harness_effort_and_saturation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    store = open_store(url)
    ensure_bundled(store)
    store.close()
    ro = read_only_store(url)
    try:
        client = TestClient(create_app(ro))
        insights = client.get("/")
        assert insights.status_code == 200 and 'id="saturation-table"' in insights.text
        api = client.get("/api/insights").json()["saturation"]
        gpqa = next(b for b in api["benchmarks"] if b["benchmark"] == "gpqa-diamond")
        assert gpqa["top"]["harness"] and gpqa["human_baseline"]["value"] == 65.0
        market = client.get("/market?benchmark=gpqa-diamond&threshold=70").text
        assert "<th>harness</th>" in market and "<td>epoch</td>" in market
        model = client.get("/catalog/o3").text
        assert "<th>effort</th>" in model and "<td>medium</td>" in model
    finally:
        ro.close()
