"""Read a task's dataset (JSONL, CSV, Parquet) into Samples: field mapping, seeded sample, few-shot examples."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from satisfice.errors import DataError
from satisfice.tasks.sample import Sample
from satisfice.yamlfile import display_path

if TYPE_CHECKING:
    from satisfice.tasks.spec import TaskSpec


@dataclass(frozen=True)
class Row:
    """A raw dataset record and where it sits: a line (JSONL, CSV) or a row (Parquet), counted from 1."""

    number: int
    values: dict[str, Any]
    unit: str = "line"


class RowError(DataError):
    """A DataError about a Parquet row: ``FILE, row N, field 'x': what is wrong``."""

    def __init__(self, message: str, *, file: str, row: int, field: str | None = None) -> None:
        super().__init__(message, file=file, field=field)
        prefix = f"{file}, row {row}" + (f", field {field!r}" if field is not None else "")
        self.args = (f"{prefix}: {message}",)
        self.row = row


def _error(message: str, *, file: str, row: Row | None = None, field: str | None = None) -> DataError:
    if row is not None and row.unit == "row":
        return RowError(message, file=file, row=row.number, field=field)
    return DataError(message, file=file, line=row.number if row is not None else None, field=field)


def read_rows(path: Path, kind: str) -> list[Row]:
    """All records of a JSONL, CSV or Parquet file.

    Raises:
        DataError: Naming the file and the line (or row) of invalid JSON, ragged CSV rows, unreadable files.
    """
    shown = display_path(path)
    if not path.is_file():
        raise DataError("dataset file not found", file=shown)
    if kind == "jsonl":
        return _read_jsonl(path, shown)
    if kind == "csv":
        return _read_csv(path, shown)
    if kind == "parquet":
        return _read_parquet(path, shown)
    raise DataError(f"unknown dataset format {kind!r} (known: jsonl, csv, parquet)", file=shown)


def _read_jsonl(path: Path, shown: str) -> list[Row]:
    rows: list[Row] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(f"not UTF-8 text: {exc.reason} at byte {exc.start}", file=shown, line=number) from None
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON: {exc.msg} (column {exc.colno})", file=shown, line=number) from None
            if not isinstance(value, dict):
                raise DataError(f"expected a JSON object per line, got {type(value).__name__}", file=shown,
                                line=number)
            rows.append(Row(number, value))
    return rows


def _read_csv(path: Path, shown: str) -> list[Row]:
    rows: list[Row] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header: list[str] | None = None
            for record in reader:
                number = reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                if header is None:
                    header = [name.strip() for name in record]
                    duplicated = sorted({name for name in header if header.count(name) > 1})
                    if duplicated:
                        raise DataError(f"duplicate column name(s) in the header: {', '.join(duplicated)}",
                                        file=shown, line=number)
                    if any(not name for name in header):
                        raise DataError("the header has an empty column name", file=shown, line=number)
                    continue
                if len(record) != len(header):
                    raise DataError(f"row has {len(record)} values but the header has {len(header)} columns",
                                    file=shown, line=number)
                rows.append(Row(number, dict(zip(header, record, strict=True))))
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc.reason}", file=shown) from None
    except csv.Error as exc:
        raise DataError(f"invalid CSV: {exc}", file=shown) from None
    if header is None:
        raise DataError("empty CSV file: expected a header row", file=shown)
    return rows


def _read_parquet(path: Path, shown: str) -> list[Row]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError("reading Parquet needs pyarrow: pip install 'satisfice[parquet]'", file=shown) from None
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid subclasses ValueError
        raise DataError(f"not a readable Parquet file: {exc}", file=shown) from None
    return [Row(number, values, "row") for number, values in enumerate(table.to_pylist(), start=1)]


def _to_sample(row: Row, spec: TaskSpec, shown: str, *, need_target: bool) -> Sample:
    dataset = spec.dataset
    values = row.values
    inputs = dataset.input_fields
    if inputs:
        fields: dict[str, Any] = {}
        for name, column in inputs.items():
            if column not in values:
                raise _error(f"missing (mapped as dataset.fields.{name}); this item has: "
                             f"{', '.join(sorted(values)) or 'nothing'}", file=shown, row=row, field=column)
            fields[name] = values[column]
    else:
        fields = {k: v for k, v in values.items() if k not in (dataset.target_column, dataset.id_column)}
    target_column = dataset.target_column
    target = values.get(target_column)
    if target is None and ("target" in dataset.fields or need_target):
        what = "is missing" if target_column not in values else "is empty (null)"
        raise _error(f"the answer field {what}", file=shown, row=row, field=target_column)
    item_id = str(row.number)
    id_column = dataset.id_column
    if id_column is not None:
        raw_id = values.get(id_column)
        if raw_id is None or str(raw_id).strip() == "":
            raise _error("the id field is missing or empty", file=shown, row=row, field=id_column)
        item_id = str(raw_id)
    return Sample(item_id, fields, target, f"{shown}, {row.unit} {row.number}")


def _samples(path: Path, spec: TaskSpec, kind: str, *, need_target: bool) -> list[Sample]:
    shown = display_path(path)
    rows = read_rows(path, kind)
    if not rows:
        raise DataError("the dataset has no items", file=shown)
    if kind == "parquet":
        columns = set(rows[0].values)
        for name, column in spec.dataset.fields.items():
            if column not in columns:
                raise DataError(f"no such column (mapped as dataset.fields.{name}; columns: "
                                f"{', '.join(sorted(columns))})", file=shown, field=column)
    samples = [_to_sample(row, spec, shown, need_target=need_target) for row in rows]
    if spec.dataset.id_column is not None:
        seen: dict[str, Row] = {}
        for row, sample in zip(rows, samples, strict=True):
            if sample.id in seen:
                raise _error(f"duplicate id {sample.id!r} (first at {seen[sample.id].unit} {seen[sample.id].number})",
                             file=shown, row=row, field=spec.dataset.id_column)
            seen[sample.id] = row
    return samples


def _needs_target(spec: TaskSpec) -> bool:
    from satisfice.tasks.scorer_registry import needs_reference

    try:
        return bool(needs_reference(spec.scorer.type, spec.scorer.parsed_options()))
    except ValueError:  # invalid options are reported by load_task / build_scorer
        return False


def fewshot_warnings(examples: list[Sample]) -> list[str]:
    """Warnings about the few-shot examples: all sharing one answer teaches a model to repeat that answer.

    (A task whose four examples were all "animal" scored every model at the share of "animal" items.)
    """
    answers = {str(e.target).strip().lower() for e in examples if e.target is not None}
    if len(examples) >= 2 and len(answers) == 1:
        where = examples[0].where.rsplit(",", 1)[0] if examples[0].where else "the dataset"
        return [f"all {len(examples)} few-shot examples ({where}) have the answer {str(examples[0].target)!r}; "
                "models tend to copy it: put items with other answers among the first lines, or use "
                "fewshot.from: a file of varied examples"]
    return []


def load_samples(spec: TaskSpec) -> tuple[list[Sample], list[Sample]]:
    """The items to evaluate and the few-shot examples.

    With ``fewshot.from: split`` the examples are the dataset's first ``count`` items and are excluded from
    evaluation. With ``seed`` the remaining items are shuffled with ``random.Random(seed)`` (so every prefix is
    a random sample); ``limit`` then keeps the first ``limit``. Without ``seed`` the file order is kept.

    Args:
        spec: The task.

    Returns:
        ``(items, examples)``.

    Raises:
        DataError: Naming file, line (or row) and field of the first bad record.
    """
    dataset = spec.dataset
    need_target = _needs_target(spec)
    items = _samples(spec.dataset_path(), spec, dataset.kind, need_target=need_target)
    examples: list[Sample] = []
    fewshot = dataset.fewshot
    if fewshot is not None:
        if fewshot.is_split:
            if len(items) <= fewshot.count:
                raise DataError(f"the dataset has {len(items)} items; taking {fewshot.count} as few-shot examples "
                                "leaves none to evaluate", file=display_path(spec.dataset_path()))
            examples, items = items[: fewshot.count], items[fewshot.count:]
        else:
            path = spec.fewshot_path()
            assert path is not None
            from satisfice.tasks.spec import FORMATS

            kind = FORMATS.get(path.suffix.lower(), dataset.kind)
            pool = _samples(path, spec, kind, need_target=True)
            if len(pool) < fewshot.count:
                raise DataError(f"has {len(pool)} items, fewer than fewshot.count = {fewshot.count}",
                                file=display_path(path))
            examples = pool[: fewshot.count]
        for example in examples:
            if example.target is None:
                raise DataError(f"few-shot example {example.id!r} has no answer", file=example.where,
                                field=dataset.target_column)
    if dataset.seed is not None:
        items = list(items)
        random.Random(dataset.seed).shuffle(items)
    if dataset.limit is not None:
        items = items[: dataset.limit]
    return items, examples


__all__ = ["Row", "RowError", "Sample", "fewshot_warnings", "load_samples", "read_rows"]
