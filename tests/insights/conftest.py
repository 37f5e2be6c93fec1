from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from satisfice import pipeline
from satisfice.catalog.bundled import ensure_bundled
from satisfice.catalog.repository import apply_batch, load_catalog
from satisfice.catalog.rows import Catalog
from satisfice.catalog.sources import parse_file
from satisfice.insights import backfill, pipeline_hook
from satisfice.pipeline.views import SCHEDULE_KEY
from satisfice.store import Store, open_store
from satisfice.store.schema import Meta, Source
from satisfice.web import read_only_store


@pytest.fixture
def bundled_store(store: Store) -> Store:
    """A store holding the bundled catalog, as a fresh install's."""
    ensure_bundled(store)
    return store


@pytest.fixture
def bundled(bundled_store: Store) -> Catalog:
    return load_catalog(bundled_store)


HOSTILE_NAME = '<script>alert("pwned")</script>Evil</b>'
HOSTILE_CITATION = "<a href=javascript:alert(6)>src</a>"
LITELLM = Path(__file__).resolve().parents[1] / "data" / "pipeline" / "litellm_prices_subset.json"


def _hostile(tmp: Path) -> Path:
    """An open model whose name and sources carry markup, first open model over GPQA Diamond 90."""
    path = tmp / "hostile.csv"
    path.write_text(
        "id,name,organization,open_weights,release_date,provider,input_per_m,output_per_m,score:gpqa-diamond,"
        "price_source,score_source\n"
        f'evil-model,"{HOSTILE_NAME.replace(chr(34), chr(34) * 2)}",<img src=x onerror=alert(2)>,true,2026-01-10,'
        f'<i>prov</i>,0.2,0.8,91.5,<script>alert(5)</script>,"{HOSTILE_CITATION}"\n', encoding="utf-8")
    return path


@pytest.fixture
def insight_db(db_url: str, tmp_path: Path) -> Iterator[str]:
    """The bundled catalog plus a hostile model, its history backfilled, one pipeline run, a schedule; sources
    with a javascript: URL and an https one."""
    store = open_store(db_url)
    try:
        ensure_bundled(store)
        apply_batch(store, parse_file(_hostile(tmp_path)))
        backfill(store)
        report = pipeline.run(store, {"litellm": str(LITELLM)}, hooks={"insights": pipeline_hook()})
        assert report["insights"]["insight"] is not None
        with store.transaction() as s:
            s.add(Meta(key=SCHEDULE_KEY, value=json.dumps({"every_s": 21600.0, "next_run": "2099-01-01T03:00:00Z",
                                                           "last_started_at": report["started_at"]})))
            for src in s.scalars(select(Source)):
                if src.citation == HOSTILE_CITATION:
                    src.url = "javascript:alert(7)"
                elif src.citation.startswith("GPQA: EBR"):
                    src.url = "https://epoch.ai/data/benchmarking"
    finally:
        store.close()
    yield db_url


@pytest.fixture
def insight_store(insight_db: str) -> Iterator[Store]:
    ro = read_only_store(insight_db)
    try:
        yield ro
    finally:
        ro.close()
