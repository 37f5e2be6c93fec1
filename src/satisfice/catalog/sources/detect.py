"""Guessing an import file's format from its name and content."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from satisfice.catalog.sources._cells import load_json, read_text
from satisfice.errors import DataError

FORMATS = ("satisfice", "litellm", "openrouter", "openrouter-history", "epoch")
"""Import formats, as named by ``satisfice catalog import --format``."""

_HINT = "; name the format with --format " + "|".join(FORMATS)


def detect_format(path: Path) -> str:
    """The format of ``path``: CSV by header, JSON by shape; an unrecognised file is a DataError naming it."""
    text = read_text(path)
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("{", "["):
        data, _ = load_json(path)
        fmt = _json_format(data)
    else:
        fmt = _csv_format(text)
    if fmt is None:
        raise DataError("cannot tell the file's format" + _HINT, file=str(path))
    return fmt


def _json_format(data: Any) -> str | None:
    if isinstance(data, list):
        return "satisfice" if data and all(isinstance(r, dict) and "name" in r for r in data) else None
    if not isinstance(data, dict):
        return None
    models = data.get("models")
    if isinstance(models, dict) and any(isinstance(m, dict) and "points" in m for m in models.values()):
        return "openrouter-history"
    items = data.get("data")
    if isinstance(items, list) and any(isinstance(m, dict) and "pricing" in m for m in items):
        return "openrouter"
    if isinstance(data.get("rows"), list):
        return "satisfice"
    if "sample_spec" in data or any(isinstance(v, dict) and "input_cost_per_token" in v for v in data.values()):
        return "litellm"
    return None


def _csv_format(text: str) -> str | None:
    try:
        header = [h.strip() for h in next(csv.reader(io.StringIO(text)), [])]
    except csv.Error:
        return None
    if "Model Name" in header and "USD per 1M Tokens" in header:
        return "epoch"
    if "name" in header:
        return "satisfice"
    return None
