"""The importer registry: each catalog file format declares its name, how to recognise it and its parser.

A third-party importer is one file: a parser ``(path, as_of) -> ImportBatch`` (and optionally a ``sniff``
that recognises the format from a :class:`Peek`), registered with ``@IMPORTERS.register("name", ...)`` in a
module named by a ``satisfice.importers`` entry point, or an entry point naming an :class:`ImporterEntry`.
``satisfice catalog import --format`` and format detection then know it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from satisfice.catalog.batch import ImportBatch
from satisfice.registry import Registry


class Peek:
    """A file seen by the format sniffers: its text, and its JSON value or CSV header parsed once, on demand."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    @property
    def is_json(self) -> bool:
        """Whether the file is JSON by name or first character."""
        return self.path.suffix.lower() == ".json" or self.text.lstrip()[:1] in ("{", "[")

    @cached_property
    def json(self) -> Any:
        """The parsed JSON value (a DataError naming the line for invalid JSON); None for CSV files."""
        if not self.is_json:
            return None
        from satisfice.catalog.sources._cells import load_json

        return load_json(self.path)[0]

    @cached_property
    def header(self) -> list[str]:
        """The first CSV row, stripped (empty for JSON files or unreadable CSV)."""
        import csv
        import io

        if self.is_json:
            return []
        try:
            return [h.strip() for h in next(csv.reader(io.StringIO(self.text)), [])]
        except csv.Error:
            return []


@dataclass(frozen=True)
class ImporterEntry:
    """One import format.

    Attributes:
        name: The ``--format`` value.
        factory: ``(path, as_of) -> ImportBatch``; ``as_of`` is None unless ``dated_by_import``.
        sniff: ``(peek) -> bool``: whether a file is in this format (None: never detected, name it).
        dated_by_import: Whether its prices carry no date and take effect on ``--as-of`` (default today).
        help: One line for listings.
    """

    name: str
    factory: Callable[[Path, dt.date | None], ImportBatch]
    sniff: Callable[[Peek], bool] | None = None
    dated_by_import: bool = False
    help: str = ""


IMPORTERS: Registry[ImporterEntry] = Registry("import format", "satisfice.importers", ImporterEntry,
                                              builtins=("satisfice.catalog.sources.detect",))
"""Every import format by name; detection tries them in this order."""

__all__ = ["IMPORTERS", "ImporterEntry", "Peek"]
