from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pipeline_helpers import REAL, Clock, Server

from satisfice.catalog.bundled import ensure_bundled
from satisfice.store import Store


@pytest.fixture
def real() -> dict[str, str]:
    """Every built-in source at its recorded real snapshot."""
    return {name: str(path) for name, path in REAL.items()}


@pytest.fixture
def bundled_store(store: Store) -> Store:
    """An empty store with the bundled catalog loaded, as a fresh user's store is."""
    ensure_bundled(store)
    return store


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 29, 9, 0, 0))


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    try:
        yield s
    finally:
        s.close()
