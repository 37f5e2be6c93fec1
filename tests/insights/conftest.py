from __future__ import annotations

import pytest

from satisfice.catalog.bundled import ensure_bundled
from satisfice.catalog.repository import load_catalog
from satisfice.catalog.rows import Catalog
from satisfice.store import Store


@pytest.fixture
def bundled_store(store: Store) -> Store:
    """A store holding the bundled catalog, as a fresh install's."""
    ensure_bundled(store)
    return store


@pytest.fixture
def bundled(bundled_store: Store) -> Catalog:
    return load_catalog(bundled_store)
