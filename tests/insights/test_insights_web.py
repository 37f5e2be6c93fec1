"""The insight pages in-process: the feed, one insight, the Atom feed; escaping, read-only access, errors."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from sqlalchemy import MetaData, func, select
from starlette.testclient import TestClient

from satisfice import insights
from satisfice.store import Store, open_store
from satisfice.web import create_app

from .conftest import HOSTILE_NAME

A = "{http://www.w3.org/2005/Atom}"
RAW_MARKUP = re.compile(r"<script>alert|<img src=x|<i>prov</i>|<a href=javascript|href=\"javascript")


@pytest.fixture
def client(insight_store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(insight_store)) as c:
        yield c


def _hostile_insight(store: Store) -> dict:
    return next(d for d in insights.list_insights(store) if any(
        m["model"] == "evil-model" for f in d["findings"] for m in f["models"]))


def test_feed_lists_newest_first_under_the_pipeline_status(client: TestClient, insight_store: Store) -> None:
    page = client.get("/insights")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    from satisfice.pipeline import status

    last = status(insight_store)["last_run"]["finished_at"]
    assert f"Pipeline active · last run {last} · next run 2099-01-01T03:00:00Z" in page.text
    api = client.get("/api/insights/list").json()
    assert api["pipeline"]["active"] is True and api["pipeline"]["next_run"] == "2099-01-01T03:00:00Z"
    dates = [d["date"] for d in api["insights"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == len(insights.list_insights(insight_store))
    ids = [int(i) for i in re.findall(r'<a href="/insights/(\d+)">', page.text)]
    assert ids == [d["id"] for d in api["insights"]]
    since = client.get("/api/insights/list?since=2026-01-01").json()["insights"]
    assert since and all(d["date"] >= "2026-01-01" for d in since)
    assert 'href="/api/insights/list"' in page.text and 'href="/insights/feed.xml"' in page.text


def test_one_insight_with_cards_chart_models_and_sources(client: TestClient, insight_store: Store) -> None:
    doc = next(d for d in insights.list_insights(insight_store) if d["date"] == "2025-01-20")
    page = client.get(f"/insights/{doc['id']}")
    assert page.status_code == 200
    assert 'class="chart-spec"' in page.text and 'class="card"' in page.text
    for m in doc["models"]:
        assert f'href="/catalog/{m["model"]}"' in page.text
    assert 'href="https://epoch.ai/data/benchmarking"' in page.text  # a source with a web address is a link
    assert "46 days after o1" in page.text
    twin = client.get(f"/api/insights/{doc['id']}").json()
    assert twin["title"] == doc["title"] and twin["findings"] == doc["findings"]


def test_imported_markup_is_escaped_and_never_a_link(client: TestClient, insight_store: Store) -> None:
    hostile = _hostile_insight(insight_store)
    for path in ("/insights", f"/insights/{hostile['id']}", "/insights/feed.xml"):
        body = client.get(path).text
        assert not RAW_MARKUP.search(body), (path, RAW_MARKUP.search(body))
    page = client.get(f"/insights/{hostile['id']}").text
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;Evil&lt;/b&gt;" in page
    assert "javascript:alert(7)" not in page  # the stored javascript: URL is shown as text only
    twin = client.get(f"/api/insights/{hostile['id']}").json()
    assert HOSTILE_NAME in {m["name"] for m in twin["models"]}


def test_atom_feed_is_valid_atom(client: TestClient, insight_store: Store) -> None:
    resp = client.get("/insights/feed.xml")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(resp.content)
    assert root.tag == f"{A}feed"
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    for tag in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{tag}")) == 1 and root.findtext(f"{A}{tag}")
    assert stamp.match(root.findtext(f"{A}updated") or "")
    assert root.find(f"{A}author/{A}name") is not None
    assert {link.get("rel") for link in root.findall(f"{A}link")} == {"self", "alternate"}
    entries = root.findall(f"{A}entry")
    listed = insights.list_insights(insight_store, limit=50)
    assert len(entries) == len(listed) > 0
    for entry, doc in zip(entries, listed, strict=True):
        for tag in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{tag}")) == 1
        assert entry.findtext(f"{A}title") == doc["title"] and stamp.match(entry.findtext(f"{A}updated") or "")
        link = entry.find(f"{A}link")
        assert link is not None and link.get("href", "").endswith(f"/insights/{doc['id']}")
        assert entry.findtext(f"{A}summary")
    assert len({e.findtext(f"{A}id") for e in entries}) == len(entries)
    assert root.findtext(f"{A}updated") == max(e.findtext(f"{A}updated") or "" for e in entries)


def _counts(db_url: str) -> dict[str, int]:
    store = open_store(db_url)
    try:
        meta = MetaData()
        meta.reflect(store.engine)
        with store.engine.connect() as conn:
            return {n: conn.execute(select(func.count()).select_from(t)).scalar_one() for n, t in meta.tables.items()}
    finally:
        store.close()


def test_pages_only_read(client: TestClient, insight_db: str, insight_store: Store) -> None:
    before = _counts(insight_db)
    first = insights.list_insights(insight_store)[0]["id"]
    for path in ("/insights", f"/insights/{first}", "/insights/feed.xml", "/api/insights/list"):
        assert client.get(path).status_code == 200
        assert client.post(path).status_code == 405
    assert _counts(insight_db) == before


def test_unknown_insights_are_404(client: TestClient) -> None:
    assert client.get("/insights/99999").status_code == 404
    assert "no insight with id 99999" in client.get("/api/insights/99999").json()["error"]
    assert client.get("/insights/abc").status_code == 404
    assert client.get("/insights?since=2025-13-01").status_code == 400


def test_empty_store_is_honest(db_url: str) -> None:
    from satisfice.web import read_only_store

    open_store(db_url).close()
    ro = read_only_store(db_url)
    try:
        with TestClient(create_app(ro)) as c:
            page = c.get("/insights").text
            assert "No insights yet" in page and "Pipeline not set up" in page
            root = ET.fromstring(c.get("/insights/feed.xml").content)
            assert root.findall(f"{A}entry") == [] and root.findtext(f"{A}id")
    finally:
        ro.close()
