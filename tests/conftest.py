from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from satisfice.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own SATISFICE_HOME and no inherited database URL."""
    monkeypatch.setenv("SATISFICE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SATISFICE_DB", raising=False)
    monkeypatch.delenv("SATISFICE_NO_BUNDLED", raising=False)


def _db_url(tmp_path: Path) -> str:
    pg = os.environ.get("SATISFICE_TEST_PG_URL")
    if pg:
        return pg
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty migrated store (SQLite in tmp, or PostgreSQL when SATISFICE_TEST_PG_URL is set)."""
    s = open_store(_db_url(tmp_path))
    try:
        yield s
    finally:
        s.close()
