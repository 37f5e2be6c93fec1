"""Importers: each turns one file format into an :class:`~satisfice.catalog.batch.ImportBatch`.

Parsing is pure (nothing is written); :func:`satisfice.catalog.repository.apply_batch` writes a
batch atomically and idempotently. Formats:

- ``satisfice``: our own CSV/JSON (:mod:`.native`, columns documented there);
- ``litellm``: the price JSON shipped in the litellm wheel (:mod:`.litellm`);
- ``openrouter``: an OpenRouter ``/api/v1/models`` response (:mod:`.openrouter`);
- ``openrouter-history``: dated OpenRouter prices ``{as_of, models: {id: {points}}}`` (:mod:`.openrouter`);
- ``epoch``: Epoch AI's price/benchmark CSV (:mod:`.epoch`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.sources._cells import model_slug
from satisfice.catalog.sources.detect import detect_format
from satisfice.catalog.sources.epoch import parse_epoch
from satisfice.catalog.sources.litellm import parse_litellm
from satisfice.catalog.sources.native import parse_native
from satisfice.catalog.sources.openrouter import parse_openrouter, parse_openrouter_history
from satisfice.catalog.sources.registry import IMPORTERS
from satisfice.errors import DataError


def parse_file(path: Path, fmt: str | None = None, as_of: dt.date | None = None) -> ImportBatch:
    """Parse ``path`` in format ``fmt`` (detected when None); ``as_of`` dates undated prices."""
    fmt = fmt or detect_format(path)
    entry = IMPORTERS.find(fmt)
    if entry is None:
        raise DataError(IMPORTERS.unknown(fmt), file=str(path))
    if entry.dated_by_import:
        return entry.factory(path, as_of or dt.date.today())
    if as_of is not None:
        dated = " and ".join(e.name for e in IMPORTERS if e.dated_by_import)
        raise DataError(f"--as-of applies to {dated} files; {fmt} files carry their own dates", file=str(path))
    return entry.factory(path, None)


__all__ = ["IMPORTERS", "detect_format", "parse_epoch", "parse_file", "parse_litellm", "parse_native",
           "parse_openrouter", "parse_openrouter_history", "model_slug"]
