from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from required import pytest_runtest_makereport  # noqa: F401  (in CI, required skips fail)
from satisfice.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"



@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own SATISFICE_HOME and no inherited database URL."""
    monkeypatch.setenv("SATISFICE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SATISFICE_DB", raising=False)
    monkeypatch.delenv("SATISFICE_NO_BUNDLED", raising=False)


@contextmanager
def _database(tmp_path: Path) -> Iterator[str]:
    """A fresh empty database URL: a SQLite file, or a new database on SATISFICE_TEST_PG_URL's server."""
    pg = os.environ.get("SATISFICE_TEST_PG_URL")
    if not pg:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """URL of a fresh empty database (PostgreSQL when SATISFICE_TEST_PG_URL is set, else SQLite)."""
    with _database(tmp_path) as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An empty migrated store on :func:`db_url`."""
    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests that use a database fixture with ``db`` (the PostgreSQL pass runs ``-m db``)."""
    for item in items:
        if {"store", "db_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
