"""What ``/insights`` (the feed), ``/insights/ID`` (one insight) and ``/insights/feed.xml`` (Atom) show.

Insights are read from the store as written by pipeline runs and ``satisfice insights backfill``; the pipeline
line comes from the pipeline's own status document; an insight's chart is drawn by the dashboard's chart code
from the market analysis of its top finding, on the catalog as it stood on the insight's date.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError

from satisfice import insights
from satisfice import pipeline as pipe
from satisfice.catalog.rows import Catalog
from satisfice.errors import NotFoundError
from satisfice.market.frontier import frontier
from satisfice.market.gap import gap
from satisfice.store import Store
from satisfice.web import charts
from satisfice.web.params import Params
from satisfice.web.readonly import CatalogCache

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
NO_TABLES = "insights are not set up in this store (open it once with satisfice to migrate it)"


def pipeline_line(store: Store) -> dict[str, Any]:
    """``{"active", "text", "last_run", "next_run"}`` from the pipeline's status (never invented)."""
    try:
        status = pipe.status(store)
    except DBAPIError:
        return {"active": False, "text": "Pipeline not set up", "last_run": None, "next_run": None}
    last = status.get("last_run")
    last_at = last["finished_at"] if last else None
    active = bool(status.get("next_run") or status.get("running_since"))
    head = "Pipeline active" if active else ("Pipeline idle" if last else "Pipeline not set up")
    text = (f"{head} · last run {last_at or 'never'} · next run "
            f"{status.get('next_run') or 'not scheduled'}")
    return {"active": active, "text": text, "last_run": last_at, "next_run": status.get("next_run")}


def _safe_urls(doc: dict[str, Any]) -> dict[str, Any]:
    """Source links only for http(s) addresses: a stored ``javascript:`` URL is shown as text, never linked."""
    for s in doc["sources"]:
        if s["url"] and urlsplit(s["url"]).scheme not in ("http", "https"):
            s["url"] = None
    return doc


def feed(store: Store, p: Params) -> dict[str, Any]:
    """The insights, newest first, under the pipeline's status line."""
    since = p.date("since")
    line = pipeline_line(store)
    try:
        docs = [_safe_urls(d) for d in insights.list_insights(store, since)]
    except DBAPIError:
        return {"data": {"pipeline": line, "insights": [], "message": NO_TABLES}, "charts": {}}
    return {"data": {"pipeline": line, "since": since.isoformat() if since else None, "insights": docs},
            "charts": {}}


def _chart(catalog: Catalog, doc: dict[str, Any]) -> dict[str, Any] | None:
    spec = doc.get("chart")
    if not spec or spec["benchmark"] not in {s.benchmark for s in catalog.scores}:
        return None
    day = dt.date.fromisoformat(doc["date"])
    if spec["kind"] == "gap" or spec["threshold"] is None:
        return charts.race_figure(gap(catalog, spec["benchmark"], None, day))
    return charts.frontier_figure(frontier(catalog, spec["benchmark"], float(spec["threshold"]), day))


def one(store: Store, cache: CatalogCache, insight_id: str) -> dict[str, Any]:
    """One insight with the chart of its top finding."""
    try:
        number = int(insight_id)
    except ValueError:
        raise NotFoundError(f"no insight with id {insight_id!r}") from None
    doc = _safe_urls(insights.get_insight(store, number))
    figure = cache.derived(("insight-chart", number), lambda catalog: _chart(catalog, doc))
    return {"data": doc, "charts": {"insight": figure} if figure else {}}


def atom(store: Store, base_url: str) -> bytes:
    """The newest insights as an Atom 1.0 feed (RFC 4287); ``base_url`` ends with ``/``."""
    try:
        docs = insights.list_insights(store, None, limit=FEED_SIZE)
    except DBAPIError:  # the insight tables are not in this database: an empty feed
        docs = []
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    def stamp(day: str) -> str:
        return f"{day}T00:00:00Z"

    sub(root, "id", base_url + "insights")
    sub(root, "title", "satisfice insights: what changed in the market")
    sub(root, "updated", stamp(docs[0]["date"]) if docs else "1970-01-01T00:00:00Z")
    sub(sub(root, "author"), "name", "satisfice")
    sub(root, "link", href=base_url + "insights/feed.xml", rel="self", type="application/atom+xml")
    sub(root, "link", href=base_url + "insights", rel="alternate", type="text/html")
    for d in docs:
        entry = sub(root, "entry")
        sub(entry, "id", f"{base_url}insights/{d['id']}")
        sub(entry, "title", d["title"])
        sub(entry, "updated", stamp(d["date"]))
        sub(entry, "link", href=f"{base_url}insights/{d['id']}", rel="alternate", type="text/html")
        sub(entry, "summary", " ".join(d["tldr"]), type="text")
        for kind in dict.fromkeys(f["kind"] for f in d["findings"]):
            sub(entry, "category", term=kind)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
