"""What every command shares: the store for ``--db``, consoles, shared options, JSON output, user-facing errors.

Imports stay light (no store, numpy or scipy at import time) so ``satisfice --help`` starts fast; commands
import what they need inside their bodies.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from satisfice.formatting import usd

if TYPE_CHECKING:
    from satisfice.config import Settings
    from satisfice.store import Store

PIPED_WIDTH = 10_000
"""Console width when output is not a terminal: tables and lines are never cut or wrapped for a pipe."""


class _Console(Console):
    """A Rich console whose tables fold long cells instead of cutting them (ids, money and names stay whole)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: D102 - Console.print's contract
        for obj in objects:
            if isinstance(obj, Table):
                for column in obj.columns:
                    if column.overflow == "ellipsis":
                        column.overflow = "fold"
                    column.no_wrap = False
        super().print(*objects, **kwargs)


console = _Console()
err_console = _Console(stderr=True)


def fit_consoles() -> None:
    """Full width when a console's output is piped or captured (a terminal keeps its own width)."""
    for c in (console, err_console):
        if not c.is_terminal and "COLUMNS" not in os.environ:
            c.width = PIPED_WIDTH


Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")]
"""The ``--json`` option every reporting command shares."""


def money(value: float | None) -> str:
    """USD for tables, by the one formatter (``$0.002``, ``$12.50``, ``$958,125``; ``-`` when unknown)."""
    return usd(value)


def in_range(option: str, low: float | None = None, high: float | None = None, what: str = ""
             ) -> Any:
    """A Typer callback refusing values outside ``[low, high]`` with a message that states the range."""

    def check(value: float | None) -> float | None:
        if value is None:
            return value
        bad = not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high)
        if bad:
            if low is not None and high is not None:
                rule = f"between {low:g} and {high:g}"
            else:
                rule = f">= {low:g}" if low is not None else f"<= {high:g}"
            raise typer.BadParameter(f"must be {rule}{' (' + what + ')' if what else ''}, got {value:g}",
                                     param_hint=option)
        return value

    return check


def _can_create_in(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried for real: permission bits do not bind root)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def writable_path(option: str, suffixes: tuple[str, ...]) -> Any:
    """A Typer callback that checks an output file before any work: its suffix, and that it can be written.

    Its folder must exist (no folder is created silently: a typo in a path is an error, not a new tree).
    """

    def check(value: Path | None) -> Path | None:
        if value is None:
            return None
        if value.suffix.lower() not in suffixes:
            raise typer.BadParameter(f"{str(value)!r} must end in {', '.join(suffixes)}", param_hint=option)
        if value.is_dir():
            raise typer.BadParameter(f"{str(value)!r} is a folder; give a file name", param_hint=option)
        if value.exists() and not os.access(value, os.W_OK):
            raise typer.BadParameter(f"cannot write {str(value)!r} (permission denied)", param_hint=option)
        folder = value.absolute().parent
        if not folder.exists():
            raise typer.BadParameter(f"cannot write {str(value)!r}: folder {str(folder)!r} does not exist "
                                     "(create it first)", param_hint=option)
        if not folder.is_dir() or not _can_create_in(folder):
            raise typer.BadParameter(f"cannot write {str(value)!r}: folder {str(folder)!r} is not writable",
                                     param_hint=option)
        return value

    return check


CHART_SUFFIXES = (".png", ".svg", ".pdf")
Chart = Annotated[Path | None, typer.Option("--chart", metavar="FILE", help="Write a chart (.png, .svg or .pdf).",
                                            callback=writable_path("--chart", CHART_SUFFIXES))]
"""The ``--chart FILE`` option, checked before any work."""


def check_db_url(url: str) -> None:
    """Check a ``--db`` / ``SATISFICE_DB`` SQLite file before any work: its folder must exist and be writable.

    Only the default store under SATISFICE_HOME has its folder created; a named path with a missing folder is
    an error (a typo must not create a new, empty store somewhere else).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # the store reports an unparsable URL with its own message
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database).expanduser()
    folder = path.absolute().parent
    if path.is_dir():
        raise typer.BadParameter(f"{str(path)!r} is a folder; give a database file", param_hint="--db")
    if not folder.is_dir():
        raise typer.BadParameter(f"folder {str(folder)!r} of the database {str(path)!r} does not exist "
                                 "(create it first)", param_hint="--db")
    if not path.exists() and not _can_create_in(folder):
        raise typer.BadParameter(f"cannot create the database {str(path)!r}: folder {str(folder)!r} is not "
                                 "writable", param_hint="--db")


class State:
    """Per-invocation state: settings resolved from ``--db`` and the environment; the store opened lazily."""

    def __init__(self, db_url: str | None) -> None:
        from satisfice.config import get_settings

        if db_url is not None:
            check_db_url(db_url)
        self.settings: Settings = get_settings(db_url)
        self._store: Store | None = None

    def store(self, *, bundled: bool = True) -> Store:
        """The migrated store; on first use the bundled catalog is loaded (unless SATISFICE_NO_BUNDLED)."""
        if self._store is None:
            from satisfice.store import open_store

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
