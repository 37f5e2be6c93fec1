"""Importing one file by hand: which source it is (each source's sniffer, in registry order), and its batch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.sources.registry import SOURCES, Peek
from satisfice.errors import DataError


def detect_format(path: Path) -> str:
    """The format of ``path``: the first source whose sniffer recognises it; a DataError naming the file if none."""
    peek = Peek.of(path)
    for source in SOURCES:
        if source.sniff is not None and source.sniff(peek):
            return source.format_name
    raise DataError("cannot tell the file's format; name the format with --format "
                    + "|".join(s.format_name for s in SOURCES), file=str(path))


def parse_file(path: Path, fmt: str | None = None, as_of: dt.date | None = None) -> ImportBatch:
    """Parse ``path`` as source ``fmt`` (detected when None); ``as_of`` dates undated prices (default today).

    ``--as-of`` is an error for a source whose files carry their own dates; model ids follow each source's own
    rule for a file imported by hand (the pipeline passes the identity rule instead).
    """
    source = SOURCES.find(fmt or detect_format(path))
    if source is None:
        raise DataError(SOURCES.unknown(str(fmt)), file=str(path))
    if as_of is not None and not source.dated_by_import:
        dated = ", ".join(s.format_name for s in SOURCES if s.dated_by_import)
        raise DataError(f"--as-of applies to {dated} files; {source.format_name} files carry their own dates",
                        file=str(path))
    return source.parse(path, as_of=as_of or dt.date.today(), ids=None)


__all__ = ["detect_format", "parse_file"]
