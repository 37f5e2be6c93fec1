"""What every command shares: the store for ``--db``, JSON output, and user-facing errors."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from satisfice.config import Settings, get_settings
from satisfice.store import Store, open_store

console = Console()
err_console = Console(stderr=True)


class State:
    """Per-invocation state: settings resolved from ``--db`` and the environment; the store opened lazily."""

    def __init__(self, db_url: str | None) -> None:
        self.settings: Settings = get_settings(db_url)
        self._store: Store | None = None

    def store(self, *, bundled: bool = True) -> Store:
        """The migrated store; on first use the bundled catalog is loaded (unless SATISFICE_NO_BUNDLED)."""
        if self._store is None:
            self._store = open_store(self.settings.db_url)
            if bundled and self.settings.load_bundled:
                from satisfice.catalog.bundled import ensure_bundled

                ensure_bundled(self._store)
        return self._store


def state(ctx: typer.Context) -> State:
    """The State stored by the root callback."""
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State(None)
        ctx.find_root().obj = obj
    return obj


def _default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite(value: Any) -> Any:
    """Replace NaN/inf by None so the output is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def to_jsonable(value: Any) -> Any:
    """Dataclasses, dates and numpy scalars to plain JSON values."""
    return _finite(json.loads(json.dumps(value, default=_default)))


def print_json(value: Any) -> None:
    """Print one JSON document on stdout and nothing else."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


def parse_date(value: str | None, option: str = "--as-of") -> dt.date | None:
    """ISO date from an option, with an error that names the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None
