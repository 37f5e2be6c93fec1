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
from satisfice.catalog.sources.detect import FORMATS, detect_format
from satisfice.catalog.sources.epoch import parse_epoch
from satisfice.catalog.sources.litellm import parse_litellm
from satisfice.catalog.sources.native import parse_native
from satisfice.catalog.sources.openrouter import parse_openrouter, parse_openrouter_history
from satisfice.errors import DataError

DATED_BY_IMPORT = ("litellm", "openrouter")
"""Formats whose prices carry no date: they take effect on ``as_of`` (default today)."""


def parse_file(path: Path, fmt: str | None = None, as_of: dt.date | None = None) -> ImportBatch:
    """Parse ``path`` in format ``fmt`` (detected when None); ``as_of`` dates undated prices."""
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", file=str(path))
    if fmt in DATED_BY_IMPORT:
        day = as_of or dt.date.today()
        return parse_litellm(path, as_of=day) if fmt == "litellm" else parse_openrouter(path, as_of=day)
    if as_of is not None:
        raise DataError(f"--as-of applies to {' and '.join(DATED_BY_IMPORT)} files; {fmt} files carry their own "
                        f"dates", file=str(path))
    if fmt == "satisfice":
        return parse_native(path)
    if fmt == "openrouter-history":
        return parse_openrouter_history(path)
    return parse_epoch(path)


__all__ = ["FORMATS", "detect_format", "parse_epoch", "parse_file", "parse_litellm", "parse_native",
           "parse_openrouter", "parse_openrouter_history", "model_slug"]
