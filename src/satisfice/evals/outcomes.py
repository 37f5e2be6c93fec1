"""Load recorded outcomes in the "wide" RouterBench CSV format into an OutcomesTable.

Format: one row per item; for each model a column ``<model>`` with its score in [0, 1] and a
column ``<model>|total_cost`` with the USD that model cost on that item. Every other column (``prompt``,
``sample_id``, ``<model>|model_response``, ...) is carried along untouched.

Which columns are models: a column ``<model>`` is a model when the file also has ``<model>|total_cost``
(the usual case), or when it has any other ``<model>|...`` column (e.g. only ``|model_response``): then the
model's cost is *unknown* (None, never $0), or when it is named in ``models=``. A ``<model>|total_cost``
column without its ``<model>`` score column is an error.

Cells: an empty cell (or ``nan``, ``NA``, ``N/A``, ``null``, ``None``, any case) is a *missing* outcome and
becomes NaN. A score that is not a number, or lies outside [0, 1], and a cost that is not a number or is
negative, raise :class:`~satisfice.errors.DataError` naming the file, the line (the header is line 1) and
the column. Item ids come from ``sample_id`` (or ``id``), else the line number.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from satisfice.errors import DataError

COST_SUFFIX = "|total_cost"
MISSING = frozenset({"", "nan", "na", "n/a", "null", "none"})
ID_COLUMNS = ("sample_id", "id")


@dataclass
class OutcomesTable:
    """Recorded outcomes: per model, one score (NaN = missing) and one cost (NaN = missing) per item.

    Attributes:
        models: Model names, in file order.
        item_ids: One id per item (row).
        scores: Model -> float array of scores in [0, 1]; NaN where the outcome is missing.
        costs: Model -> float array of USD per item (NaN where missing), or None when the file has no cost
            column for that model (cost unknown).
        extra: Other columns, carried along as strings.
        source: Where the table came from (file path), for messages.
    """

    models: list[str]
    item_ids: list[str]
    scores: dict[str, np.ndarray]
    costs: dict[str, np.ndarray | None]
    extra: dict[str, list[str]] = field(default_factory=dict)
    source: str | None = None

    @property
    def n_items(self) -> int:
        """Number of items (rows)."""
        return len(self.item_ids)

    def cost_per_item(self, model: str) -> float | None:
        """Mean USD per item over the items whose cost is recorded; None when unknown."""
        costs = self.costs.get(model)
        if costs is None:
            return None
        seen = costs[np.isfinite(costs)]
        return float(seen.mean()) if seen.size else None

    @classmethod
    def from_arrays(cls, scores: dict[str, Sequence[float]], costs: dict[str, Sequence[float] | None] | None = None,
                    item_ids: Sequence[str] | None = None) -> OutcomesTable:
        """Build a table in memory (synthetic data, tests); arrays are validated like file cells."""
        models = list(scores)
        if not models:
            raise DataError("an outcomes table needs at least one model")
        n = len(scores[models[0]])
        ids = [str(i) for i in item_ids] if item_ids is not None else [str(i) for i in range(n)]
        score_arrays: dict[str, np.ndarray] = {}
        cost_arrays: dict[str, np.ndarray | None] = {}
        for model in models:
            arr = np.asarray(scores[model], dtype=float)
            if arr.shape != (n,) or len(ids) != n:
                raise DataError(f"model {model!r}: expected {n} scores and ids, got {arr.shape[0]}")
            seen = arr[np.isfinite(arr)]
            if seen.size and (seen.min() < 0.0 or seen.max() > 1.0):
                raise DataError(f"model {model!r}: scores must lie in [0, 1]")
            score_arrays[model] = arr
            raw = (costs or {}).get(model)
            if raw is None:
                cost_arrays[model] = None
                continue
            carr = np.asarray(raw, dtype=float)
            if carr.shape != (n,) or np.any(carr[np.isfinite(carr)] < 0.0):
                raise DataError(f"model {model!r}: expected {n} non-negative costs")
            cost_arrays[model] = carr
        return cls(models=models, item_ids=ids, scores=score_arrays, costs=cost_arrays)


def _model_columns(header: Sequence[str], models: Iterable[str] | None, where: str) -> list[str]:
    names = set(header)
    found: list[str] = []
    prefixes = {h.split("|", 1)[0] for h in header if "|" in h}
    wanted = set(models or ())
    for column in header:
        if "|" in column:
            if column.endswith(COST_SUFFIX) and column[: -len(COST_SUFFIX)] not in names:
                raise DataError(f"cost column {column!r} has no score column {column[: -len(COST_SUFFIX)]!r}",
                                file=where, line=1, field=column)
            continue
        if column in prefixes or column in wanted:
            found.append(column)
    missing = wanted - set(found)
    if missing:
        raise DataError(f"no score column for model(s) {', '.join(sorted(missing))}", file=where, line=1)
    if not found:
        raise DataError("no model columns: expected '<model>' with '<model>|total_cost' (RouterBench wide format)",
                        file=where, line=1)
    return found


def _number(cell: str, *, where: str, line: int, column: str, what: str) -> float:
    text = cell.strip()
    if text.lower() in MISSING:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{what} {cell!r} is not a number", file=where, line=line, field=column) from None
    if not math.isfinite(value):
        raise DataError(f"{what} {cell!r} is not finite", file=where, line=line, field=column)
    return value


def load_outcomes(path: str | Path, *, models: Iterable[str] | None = None) -> OutcomesTable:
    """Read a wide outcomes CSV.

    Args:
        path: The CSV file (UTF-8, optional BOM).
        models: Extra column names to treat as models even without any ``<model>|...`` column.

    Returns:
        The table, with NaN for missing scores and costs.

    Raises:
        DataError: Unreadable file, ragged rows, duplicate columns, bad cells; the message names file, line
            and column.
    """
    where = str(path)
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise DataError(f"cannot read outcomes file: {exc.strerror}", file=where) from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError("the file is empty; expected a header row", file=where, line=1) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"not a readable CSV: {exc}", file=where, line=1) from None
        header = [h.strip() for h in header]
        seen: set[str] = set()
        for column in header:
            if column in seen:
                raise DataError("duplicate column", file=where, line=1, field=column)
            seen.add(column)
        model_cols = _model_columns(header, models, where)
        index = {name: i for i, name in enumerate(header)}
        id_col = next((c for c in ID_COLUMNS if c in index), None)
        score_rows: dict[str, list[float]] = {m: [] for m in model_cols}
        cost_rows: dict[str, list[float]] = {m: [] for m in model_cols if m + COST_SUFFIX in index}
        carried = [c for c in header if c not in score_rows and c not in {m + COST_SUFFIX for m in cost_rows}]
        extra: dict[str, list[str]] = {c: [] for c in carried}
        ids: list[str] = []
        line = reader.line_num
        try:
            for row in reader:
                start, line = line + 1, reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise DataError(f"expected {len(header)} cells, found {len(row)}", file=where, line=start)
                for model in model_cols:
                    value = _number(row[index[model]], where=where, line=start, column=model, what="score")
                    if not (math.isnan(value) or 0.0 <= value <= 1.0):
                        raise DataError(f"score {value:g} outside [0, 1]", file=where, line=start, field=model)
                    score_rows[model].append(value)
                for model, costs in cost_rows.items():
                    column = model + COST_SUFFIX
                    cost = _number(row[index[column]], where=where, line=start, column=column, what="cost")
                    if cost < 0.0:
                        raise DataError(f"cost {cost:g} is negative", file=where, line=start, field=column)
                    costs.append(cost)
                for column in carried:
                    extra[column].append(row[index[column]])
                ids.append(row[index[id_col]] if id_col is not None else str(start))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"not a readable CSV: {exc}", file=where, line=line + 1) from None
    if not ids:
        raise DataError("no items: the file has a header but no rows", file=where, line=2)
    return OutcomesTable(
        models=model_cols,
        item_ids=ids,
        scores={m: np.asarray(v, dtype=float) for m, v in score_rows.items()},
        costs={m: (np.asarray(cost_rows[m], dtype=float) if m in cost_rows else None) for m in model_cols},
        extra=extra,
        source=where,
    )


__all__ = ["COST_SUFFIX", "OutcomesTable", "load_outcomes"]
