"""Reading and checking raw cells for the importers, with errors that name file, line and field."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satisfice.catalog.batch import slugify
from satisfice.errors import DataError

TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Where:
    """A place in an input file: the file name plus a line (CSV) or an item/key (JSON)."""

    file: str
    line: int | None = None
    item: str | None = None
    json_text: str | None = None
    json_key: str | None = None

    def error(self, message: str, field: str | None = None) -> DataError:
        """A DataError located here (for JSON, the line of ``json_key`` is looked up only now)."""
        prefix = f"{self.item}: " if self.item else ""
        line = self.line
        if line is None and self.json_text is not None and self.json_key is not None:
            line = json_line(self.json_text, self.json_key)
        return DataError(prefix + message, file=self.file, line=line, field=field)


def read_text(path: Path) -> str:
    """The file's text (UTF-8, BOM tolerated); a missing or binary file is a DataError naming it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError("no such file", file=str(path)) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a file", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", file=str(path)) from None


def load_json(path: Path) -> tuple[Any, str]:
    """Parsed JSON and its text; a syntax error names the line."""
    text = read_text(path)
    try:
        return json.loads(text), text
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=str(path), line=exc.lineno) from None


def json_line(text: str, key: str) -> int | None:
    """Best-effort line number of ``"key":`` in a JSON text (for error messages only)."""
    pos = text.find(json.dumps(key) + ":")
    if pos < 0:
        pos = text.find(json.dumps(key))
    return None if pos < 0 else text.count("\n", 0, pos) + 1


def csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Header and ``(line, {column: cell})`` for each non-blank row; ragged rows are errors."""
    text = read_text(path)
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError("empty file: no header row", file=str(path), line=1) from None
    except csv.Error as exc:
        raise DataError(f"not valid CSV: {exc}", file=str(path), line=1) from None
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            raise DataError(f"column {name!r} appears twice in the header", file=str(path), line=1, field=name)
        seen.add(name)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        start = reader.line_num + 1
        try:
            for cells in reader:
                line = start
                start = reader.line_num + 1
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                    raise DataError(f"{len(cells)} cells but the header has {len(header)} columns",
                                    file=str(path), line=line)
                padded = cells + [""] * (len(header) - len(cells))
                yield line, {h: c.strip() for h, c in zip(header, padded, strict=False) if h}
        except csv.Error as exc:
            raise DataError(f"not valid CSV: {exc}", file=str(path), line=reader.line_num) from None

    return header, rows()


def number(value: Any, where: Where, field: str, *, minimum: float | None = 0.0,
           maximum: float | None = None) -> float | None:
    """A finite number within bounds, or None for an empty cell; text, NaN or out-of-range values raise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise where.error(f"expected a number, got {value!r}", field)
    try:
        result = float(value.strip().replace("_", "") if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise where.error(f"expected a number, got {value!r}", field) from None
    if not math.isfinite(result):
        raise where.error(f"expected a finite number, got {value!r}", field)
    if minimum is not None and result < minimum:
        raise where.error(f"must be at least {minimum:g}, got {result:g}", field)
    if maximum is not None and result > maximum:
        raise where.error(f"must be at most {maximum:g}, got {result:g}", field)
    return result


def date(value: Any, where: Where, field: str) -> dt.date | None:
    """An ISO date (``YYYY-MM-DD``), or None for an empty cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise where.error(f"expected a date YYYY-MM-DD, got {value!r}", field)
    raw = value.strip()
    if len(raw) > 10 and raw[10] in "T ":  # a timestamp: keep its date
        raw = raw[:10]
    try:
        if not _ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise where.error(f"expected a date YYYY-MM-DD, got {value!r}", field) from None


def boolean(value: Any, where: Where, field: str) -> bool | None:
    """true/false/yes/no/1/0 (any case), or None for an empty cell."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise where.error(f"expected true or false, got {value!r}", field)


def text(value: Any) -> str | None:
    """Stripped text, or None when empty."""
    if value is None:
        return None
    out = str(value).strip()
    return out or None


def model_slug(name: str) -> str:
    """Model id from a display name: :func:`slugify`, with ``+`` spelled ``plus``.

    Without this, ``Command R`` and ``Command R+`` would share an id (now ``command-r-plus``).
    """
    return slugify(name.replace("+", " plus "))
