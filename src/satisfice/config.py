"""Settings from the environment: where the store lives and what it loads.

Read lazily (call :func:`get_settings`); nothing is created at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Resolved settings; ``SATISFICE_`` environment variables override defaults."""

    home: Path
    db_url: str
    load_bundled: bool
    machine_usd_per_hour: float

    @property
    def is_default_db(self) -> bool:
        """True when the store is the embedded SQLite file under home."""
        return self.db_url == default_db_url(self.home)


def default_db_url(home: Path) -> str:
    """SQLite file under SATISFICE_HOME."""
    return f"sqlite:///{home / 'satisfice.db'}"


def get_settings(db_url: str | None = None) -> Settings:
    """Settings for this process; ``db_url`` (the CLI's ``--db``) wins over ``SATISFICE_DB``."""
    home = Path(os.environ.get("SATISFICE_HOME") or Path.home() / ".satisfice").expanduser()
    url = db_url or os.environ.get("SATISFICE_DB") or default_db_url(home)
    return Settings(
        home=home,
        db_url=url,
        load_bundled=not _truthy(os.environ.get("SATISFICE_NO_BUNDLED")),
        machine_usd_per_hour=float(os.environ.get("SATISFICE_MACHINE_USD_PER_HOUR", "0.10")),
    )
