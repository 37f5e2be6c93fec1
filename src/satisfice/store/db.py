"""Engine, sessions and migrations: one :class:`Store` per database URL.

A fresh database is created and migrated to the latest schema on first use (Alembic).
SQLite runs in WAL mode with foreign keys on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from satisfice.errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"
_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite files, the parent folder is created too."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise ConfigError(f"cannot parse database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision (no-op when already there)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(engine)
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current != heads:
        command.upgrade(cfg, "heads")


class Store:
    """A migrated database: hands out sessions and transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def session(self) -> Session:
        """A new session (caller closes it)."""
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def table_names(self) -> list[str]:
        """Tables that exist in the database."""
        return inspect(self.engine).get_table_names()

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()


def _shown(url: str) -> str:
    """The URL as it may be shown (password hidden); only called once make_engine has parsed it."""
    return make_url(url).render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    """The driver's message without SQLAlchemy's trailing SQL and background-link lines."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("(Background on")]
    return " ".join(lines[:2]) or type(exc).__name__


def open_store(url: str) -> Store:
    """Open (and if needed create and migrate) the store at ``url``."""
    try:
        store = Store(url)
    except ConfigError:
        raise
    except Exception as exc:  # an unknown dialect or a missing driver
        raise ConfigError(f"cannot open database {_shown(url)}: {_first_line(exc)}") from exc
    with _lock:
        try:
            migrate(store.engine)
        except ConfigError:
            raise
        except Exception as exc:
            store.close()
            raise ConfigError(f"cannot open database {_shown(url)}: {_first_line(exc)}") from exc
    return store
