"""The store: SQLAlchemy tables, Alembic migrations and sessions (SQLite by default, PostgreSQL too)."""

from satisfice.store.db import Store, make_engine, migrate, open_store
from satisfice.store.schema import Base

__all__ = ["Base", "Store", "make_engine", "migrate", "open_store"]
