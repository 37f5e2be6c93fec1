from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from satisfice.store import Store, open_store
from satisfice.web import create_app, read_only_store

from .seed import NOW, seed_catalog, seed_evals, seed_gateway


@pytest.fixture
def seeded(db_url: str, tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    """A store with the bundled catalog, a hostile import, 3,000 spend rows, keys and 6 eval runs."""
    store = open_store(db_url)
    try:
        seed_catalog(store, tmp_path)
        seed_gateway(store, 3000)
        runs = seed_evals(store, 6, items=40)
    finally:
        store.close()
    yield db_url, runs


@pytest.fixture
def ro_store(seeded: tuple[str, list[int]]) -> Iterator[Store]:
    store = read_only_store(seeded[0])
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def client(ro_store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(ro_store)) as c:
        yield c


__all__ = ["NOW"]
