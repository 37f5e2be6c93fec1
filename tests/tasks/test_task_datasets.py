from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from task_helpers import BASE_TASK, write_jsonl

from satisfice.errors import DataError
from satisfice.tasks.datasets import RowError, Sample, load_samples, read_rows
from satisfice.tasks.spec import load_task

SPLIT = BASE_TASK.replace("  fields:", "  fewshot: {count: 2}\n  fields:")


def test_jsonl_items_map_fields_and_use_line_numbers_as_ids(make_task: Callable[..., Path]) -> None:
    spec = load_task(make_task())
    items, shots = load_samples(spec)
    assert shots == []
    assert len(items) == 10
    assert items[0] == Sample("1", {"text": "review 1"}, "positive")
    assert items[0].where.endswith("data.jsonl, line 1")
    assert [s.id for s in items] == [str(i) for i in range(1, 11)]


def test_blank_lines_keep_line_numbers_stable(make_task: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_task(make_task())
    (tmp_path / "data.jsonl").write_text('\n{"review": "a", "label": "x"}\n\n{"review": "b", "label": "y"}\n')
    items, _ = load_samples(spec)
    assert [(s.id, s.fields["text"]) for s in items] == [("2", "a"), ("4", "b")]


@pytest.mark.parametrize(
    ("content", "line", "field", "message"),
    [
        ('{"review": "a", "label": "x"}\n{"review": "b", "label": }\n', 2, None, "invalid JSON"),
        ('{"review": "a", "label": "x"}\n[1, 2]\n', 2, None, "expected a JSON object"),
        ('{"review": "a", "label": "x"}\n{"label": "y"}\n', 2, "review", "mapped as dataset.fields.text"),
        ('{"review": "a", "label": "x"}\n\n{"review": "c"}\n', 3, "label", "the answer field is missing"),
        ('{"review": "a", "label": null}\n', 1, "label", "is empty (null)"),
    ],
)
def test_bad_jsonl_names_file_line_and_field(make_task: Callable[..., Path], tmp_path: Path, content: str,
                                            line: int, field: str | None, message: str) -> None:
    spec = load_task(make_task())
    (tmp_path / "data.jsonl").write_text(content)
    with pytest.raises(DataError) as info:
        load_samples(spec)
    err = info.value
    assert (err.line, err.field) == (line, field)
    assert err.file is not None and err.file.endswith("data.jsonl")
    assert message in str(err)
    assert f"data.jsonl, line {line}" in str(err)


def test_non_utf8_jsonl(make_task: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_task(make_task())
    (tmp_path / "data.jsonl").write_bytes(b'{"review": "a", "label": "x"}\n{"review": "\xff", "label": "y"}\n')
    with pytest.raises(DataError, match="line 2: not UTF-8"):
        load_samples(spec)


def _csv_task(make_task: Callable[..., Path], tmp_path: Path, csv_text: str) -> Path:
    path = make_task(BASE_TASK.replace("data.jsonl", "data.csv"), rows=[])
    (tmp_path / "data.csv").write_text(csv_text, encoding="utf-8")
    return path


def test_csv_loads_with_quoted_multiline_values(make_task: Callable[..., Path], tmp_path: Path) -> None:
    path = _csv_task(make_task, tmp_path, 'review,label\n"good, really",positive\n"two\nlines",negative\n')
    items, _ = load_samples(load_task(path))
    assert [(s.fields["text"], s.target) for s in items] == [("good, really", "positive"), ("two\nlines", "negative")]
    assert items[0].id == "2"


@pytest.mark.parametrize(
    ("csv_text", "line", "field", "message"),
    [
        ("review,label\na,positive\nb,negative,extra\n", 3, None, "row has 3 values but the header has 2"),
        ("review,label,label\na,b,c\n", 1, None, "duplicate column name"),
        ("text,label\na,positive\n", 2, "review", "mapped as dataset.fields.text"),
        ("review,other\na,positive\n", 2, "label", "the answer field is missing"),
    ],
)
def test_bad_csv_names_line_and_field(make_task: Callable[..., Path], tmp_path: Path, csv_text: str, line: int,
                                      field: str | None, message: str) -> None:
    spec = load_task(_csv_task(make_task, tmp_path, csv_text))
    with pytest.raises(DataError) as info:
        load_samples(spec)
    assert (info.value.line, info.value.field) == (line, field)
    assert message in str(info.value) and "data.csv" in str(info.value)


def test_empty_csv(make_task: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_task(_csv_task(make_task, tmp_path, ""))
    with pytest.raises(DataError, match="expected a header row"):
        load_samples(spec)


def _parquet_task(make_task: Callable[..., Path], tmp_path: Path, columns: dict[str, list[object]]) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = make_task(BASE_TASK.replace("data.jsonl", "data.parquet"), rows=[])
    pq.write_table(pa.table(columns), tmp_path / "data.parquet")
    return path


def test_parquet_loads(make_task: Callable[..., Path], tmp_path: Path) -> None:
    path = _parquet_task(make_task, tmp_path, {"review": ["a", "b", "c"], "label": ["x", "y", "z"]})
    items, _ = load_samples(load_task(path))
    assert [(s.id, s.fields, s.target) for s in items] == [
        ("1", {"text": "a"}, "x"), ("2", {"text": "b"}, "y"), ("3", {"text": "c"}, "z")]
    assert items[1].where.endswith("data.parquet, row 2")


def test_parquet_null_target_names_row(make_task: Callable[..., Path], tmp_path: Path) -> None:
    path = _parquet_task(make_task, tmp_path, {"review": ["a", "b"], "label": ["x", None]})
    with pytest.raises(RowError) as info:
        load_samples(load_task(path))
    assert info.value.row == 2 and info.value.field == "label"
    assert "data.parquet, row 2, field 'label'" in str(info.value)


def test_parquet_missing_column_names_field(make_task: Callable[..., Path], tmp_path: Path) -> None:
    path = _parquet_task(make_task, tmp_path, {"text": ["a"], "label": ["x"]})
    with pytest.raises(DataError) as info:
        load_samples(load_task(path))
    assert info.value.field == "review" and "no such column" in str(info.value)


def test_not_a_parquet_file(make_task: Callable[..., Path], tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = make_task(BASE_TASK.replace("data.jsonl", "data.parquet"))
    (tmp_path / "data.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_samples(load_task(path))


def _seeded(make_task: Callable[..., Path], seed: int | None, limit: int | None, fewshot: int = 0) -> Path:
    extra = "".join([f"  seed: {seed}\n" if seed is not None else "", f"  limit: {limit}\n" if limit else "",
                     f"  fewshot: {{count: {fewshot}}}\n" if fewshot else ""])
    rows = [{"review": f"r{i}", "label": "x"} for i in range(1, 51)]
    return make_task(BASE_TASK.replace("  fields:", extra + "  fields:"), rows=rows)


def test_seeded_sample_is_reproducible_and_seed_dependent(make_task: Callable[..., Path]) -> None:
    first = [s.id for s in load_samples(load_task(_seeded(make_task, 7, 10)))[0]]
    again = [s.id for s in load_samples(load_task(_seeded(make_task, 7, 10)))[0]]
    other = [s.id for s in load_samples(load_task(_seeded(make_task, 8, 10)))[0]]
    assert first == again
    assert len(first) == 10 and len(set(first)) == 10
    assert first != other
    assert first != [str(i) for i in range(1, 11)]  # a sample, not the head of the file
    full = [s.id for s in load_samples(load_task(_seeded(make_task, 7, None)))[0]]
    assert full[:10] == first  # a larger limit extends the same sample
    assert sorted(full, key=int) == [str(i) for i in range(1, 51)]


def test_limit_without_seed_keeps_file_order(make_task: Callable[..., Path]) -> None:
    items, _ = load_samples(load_task(_seeded(make_task, None, 5)))
    assert [s.id for s in items] == ["1", "2", "3", "4", "5"]


def test_fewshot_split_is_disjoint_from_eval_items(make_task: Callable[..., Path]) -> None:
    items, shots = load_samples(load_task(_seeded(make_task, 3, None, fewshot=4)))
    assert [s.id for s in shots] == ["1", "2", "3", "4"]
    assert len(items) == 46
    assert not {s.id for s in shots} & {s.id for s in items}


def test_fewshot_split_leaving_nothing(make_task: Callable[..., Path]) -> None:
    path = make_task(SPLIT, rows=[{"review": "a", "label": "x"}, {"review": "b", "label": "y"}])
    with pytest.raises(DataError, match="leaves none to evaluate"):
        load_samples(load_task(path))


def test_fewshot_from_a_file(make_task: Callable[..., Path], tmp_path: Path) -> None:
    write_jsonl(tmp_path / "shots.jsonl", [{"review": "s1", "label": "positive"}, {"review": "s2", "label": "n"}])
    path = make_task(BASE_TASK.replace("  fields:", "  fewshot: {count: 1, from: shots.jsonl}\n  fields:"))
    items, shots = load_samples(load_task(path))
    assert len(items) == 10
    assert shots == [Sample("1", {"text": "s1"}, "positive")]
    path = make_task(BASE_TASK.replace("  fields:", "  fewshot: {count: 3, from: shots.jsonl}\n  fields:"))
    with pytest.raises(DataError, match="fewer than fewshot.count = 3"):
        load_samples(load_task(path))


def test_id_field_is_used_and_must_be_unique(make_task: Callable[..., Path]) -> None:
    text = BASE_TASK.replace("target: label}", "target: label, id: key}")
    rows = [{"key": "a7", "review": "x", "label": "p"}, {"key": "b2", "review": "y", "label": "n"}]
    items, _ = load_samples(load_task(make_task(text, rows=rows)))
    assert [s.id for s in items] == ["a7", "b2"]
    rows.append({"key": "a7", "review": "z", "label": "p"})
    with pytest.raises(DataError) as info:
        load_samples(load_task(make_task(text, rows=rows)))
    assert (info.value.line, info.value.field) == (3, "key")
    assert "duplicate id 'a7' (first at line 1)" in str(info.value)


def test_without_mapping_every_column_but_target_is_a_field(make_task: Callable[..., Path]) -> None:
    text = BASE_TASK.replace("  fields: {text: review, target: label}\n", "").replace("{{ text }}", "{{ review }}")
    rows = [{"review": "good", "stars": 5, "target": "positive"}]
    items, _ = load_samples(load_task(make_task(text, rows=rows)))
    assert items == [Sample("1", {"review": "good", "stars": 5}, "positive")]


def test_reference_scorer_requires_target_column(make_task: Callable[..., Path]) -> None:
    text = BASE_TASK.replace("  fields: {text: review, target: label}\n", "").replace("{{ text }}", "{{ review }}")
    with pytest.raises(DataError) as info:
        load_samples(load_task(make_task(text, rows=[{"review": "good"}])))
    assert (info.value.line, info.value.field) == (1, "target")


def test_reference_free_scorer_allows_missing_target(make_task: Callable[..., Path]) -> None:
    text = (BASE_TASK.replace("  fields: {text: review, target: label}\n", "")
            .replace("{{ text }}", "{{ review }}").replace("type: normalized", "type: json"))
    items, _ = load_samples(load_task(make_task(text, rows=[{"review": "good"}])))
    assert items == [Sample("1", {"review": "good"}, None)]


def test_read_rows_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dataset file not found"):
        read_rows(tmp_path / "x.jsonl", "jsonl")
