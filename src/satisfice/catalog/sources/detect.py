"""The built-in import formats, and guessing a file's format from its name and content."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.sources._cells import read_text
from satisfice.catalog.sources.registry import IMPORTERS, ImporterEntry, Peek
from satisfice.errors import DataError


def detect_format(path: Path) -> str:
    """The format of ``path``: the first registered format whose sniffer recognises it; DataError naming it.

    A zip of CSV files is Epoch AI's benchmark export (``epoch-hub``).
    """
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if any(n.lower().endswith(".csv") for n in archive.namelist()):
                return "epoch-hub"
    peek = Peek(path, read_text(path))
    for entry in IMPORTERS:
        if entry.sniff is not None and entry.sniff(peek):
            return entry.name
    raise DataError("cannot tell the file's format; name the format with --format " + "|".join(IMPORTERS.names()),
                    file=str(path))


def _history(p: Peek) -> bool:
    models = p.json.get("models") if isinstance(p.json, dict) else None
    return isinstance(models, dict) and any(isinstance(m, dict) and "points" in m for m in models.values())


def _openrouter(p: Peek) -> bool:
    items = p.json.get("data") if isinstance(p.json, dict) else None
    return isinstance(items, list) and any(isinstance(m, dict) and "pricing" in m for m in items)


def _litellm(p: Peek) -> bool:
    data = p.json
    return isinstance(data, dict) and ("sample_spec" in data or any(isinstance(v, dict) and "input_cost_per_token"
                                                                    in v for v in data.values()))


def _native(p: Peek) -> bool:
    data = p.json
    if isinstance(data, list):
        return bool(data) and all(isinstance(r, dict) and "name" in r for r in data)
    if isinstance(data, dict):
        return isinstance(data.get("rows"), list)
    return "name" in p.header


def _epoch(p: Peek) -> bool:
    return "Model Name" in p.header and "USD per 1M Tokens" in p.header


def _recorded(p: Peek) -> bool:
    return not p.is_json and any(c.endswith("|total_cost") for c in p.header)


def _recorded_parse(path: Path, as_of: dt.date | None) -> ImportBatch:
    from satisfice.catalog.identity import Identity
    from satisfice.catalog.sources.recorded import parse_recorded

    return parse_recorded(path, ids=Identity.load().canonical)


def _epoch_hub(p: Peek) -> bool:
    return "Model version" in p.header


def _epoch_hub_parse(path: Path, as_of: dt.date | None) -> ImportBatch:
    from satisfice.catalog.identity import Identity
    from satisfice.catalog.sources.epoch_hub import parse_epoch_hub

    return parse_epoch_hub(path, ids=Identity.load().canonical)


def _native_parse(path: Path, as_of: dt.date | None) -> ImportBatch:
    from satisfice.catalog.sources.native import parse_native

    return parse_native(path)


def _litellm_parse(path: Path, as_of: dt.date | None) -> ImportBatch:
    from satisfice.catalog.sources.litellm import parse_litellm

    return parse_litellm(path, as_of=as_of)


def _openrouter_parse(path: Path, as_of: dt.date | None) -> ImportBatch:
    from satisfice.catalog.sources.openrouter import parse_openrouter

    return parse_openrouter(path, as_of=as_of)


def _history_parse(path: Path, as_of: dt.date | None) -> ImportBatch:
    from satisfice.catalog.sources.openrouter import parse_openrouter_history

    return parse_openrouter_history(path)


def _epoch_parse(path: Path, as_of: dt.date | None) -> ImportBatch:
    from satisfice.catalog.sources.epoch import parse_epoch

    return parse_epoch(path)


_BUILTINS: tuple[tuple[str, Any, Any, bool, str], ...] = (
    ("satisfice", _native_parse, _native, False, "satisfice's own CSV (or JSON list of rows)"),
    ("litellm", _litellm_parse, _litellm, True, "the litellm price map JSON"),
    ("openrouter", _openrouter_parse, _openrouter, True, "an OpenRouter /api/v1/models response"),
    ("openrouter-history", _history_parse, _history, False, "dated OpenRouter prices {as_of, models: {id: points}}"),
    ("epoch", _epoch_parse, _epoch, False, "Epoch AI's price and benchmark CSVs"),
    ("epoch-hub", _epoch_hub_parse, _epoch_hub, False,
     "Epoch AI Benchmarking Hub: benchmark_data.zip or one of its CSVs (name the format for the zip)"),
    ("recorded", _recorded_parse, _recorded, False,
     "recorded outcomes (RouterBench's wide CSV): accuracy and measured cost per task of each model"),
)
for _name, _parse, _sniff, _dated, _help in _BUILTINS:
    IMPORTERS.add(ImporterEntry(_name, _parse, _sniff, _dated, _help))

__all__ = ["detect_format"]
