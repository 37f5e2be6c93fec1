"""The dashboard's read-only view of the store, and a cache of catalog analyses keyed by the catalog's content.

The web app opens its own :class:`~satisfice.store.Store` whose connections the database itself keeps read-only
(SQLite ``PRAGMA query_only``, PostgreSQL ``default_transaction_read_only``): no page can write, whatever it
runs. The catalog is read into a snapshot once per *fingerprint* (row counts and highest ids of the catalog
tables, one aggregate query), so an import made while the dashboard runs shows up at the next page load, and
analyses of an unchanged catalog are computed once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from satisfice.catalog.rows import Catalog
from satisfice.store import Store
from satisfice.store.schema import ModelRecord, OfferRecord, ScoreRecord, Source

T = TypeVar("T")
_CACHE_SIZE = 128


def _sqlite_read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _postgres_read_only(dbapi_connection: Any, _record: Any) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def read_only_store(url: str) -> Store:
    """A store on an already migrated database whose every connection refuses writes."""
    store = Store(url)
    backend = make_url(url).get_backend_name()
    listener = _sqlite_read_only if backend == "sqlite" else _postgres_read_only
    event.listen(store.engine, "connect", listener)
    return store


class CatalogCache:
    """The catalog snapshot and values derived from it, recomputed only when the catalog changes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._fingerprint: tuple[Any, ...] | None = None
        self._catalog: Catalog | None = None
        self._derived: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def fingerprint(self) -> tuple[Any, ...]:
        """Counts and highest ids of the catalog tables (one query)."""
        q = select(
            select(func.count()).select_from(OfferRecord).scalar_subquery(),
            select(func.max(OfferRecord.id)).scalar_subquery(),
            select(func.count()).select_from(ScoreRecord).scalar_subquery(),
            select(func.max(ScoreRecord.id)).scalar_subquery(),
            select(func.count()).select_from(ModelRecord).scalar_subquery(),
            select(func.max(Source.id)).scalar_subquery(),
        )
        with self.store.session() as s:
            row = s.execute(q).one()
        return tuple(row)

    def catalog(self) -> tuple[tuple[Any, ...], Catalog]:
        """``(fingerprint, snapshot)``, reading the catalog again only when it changed."""
        from satisfice.catalog.repository import load_catalog

        fp = self.fingerprint()
        with self._lock:
            if fp == self._fingerprint and self._catalog is not None:
                return fp, self._catalog
        snapshot = load_catalog(self.store)
        with self._lock:
            self._fingerprint, self._catalog = fp, snapshot
            self._derived.clear()
        return fp, snapshot

    def derived(self, key: Hashable, compute: Callable[[Catalog], T]) -> T:
        """``compute(catalog)``, remembered for this catalog content and ``key``."""
        fp, catalog = self.catalog()
        full = (fp, key)
        with self._lock:
            if full in self._derived:
                self._derived.move_to_end(full)
                return self._derived[full]  # type: ignore[no-any-return]
        value = compute(catalog)
        with self._lock:
            self._derived[full] = value
            while len(self._derived) > _CACHE_SIZE:
                self._derived.popitem(last=False)
        return value
