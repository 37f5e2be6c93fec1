from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from satisfice.catalog.repository import apply_batch, load_catalog
from satisfice.catalog.sources import parse_native
from satisfice.errors import DataError
from satisfice.store import Store

D = dt.date


def test_csv_example(data: Path) -> None:
    batch = parse_native(data / "native_example.csv")
    models = {m.id: m for m in batch.models}
    assert set(models) == {"acme-large", "open-7b", "thinker-r"}
    acme = models["acme-large"]
    assert (acme.organization, acme.open_weights, acme.release_date, acme.reasoning) == ("Acme", False, D(2024, 3, 1),
                                                                                         False)
    assert acme.params_total_b is None  # empty cell = unknown, never 0
    assert models["open-7b"].licence == "Apache-2.0" and models["open-7b"].params_active_b == 7.3
    assert models["thinker-r"].reasoning is True
    offers = {(o.model_id, o.provider, o.effective_date): o for o in batch.offers}
    first = offers[("acme-large", "acme", D(2024, 3, 1))]  # effective date defaults to the release date
    assert (first.input_per_m, first.output_per_m, first.cached_input_per_m) == (10, 30, 5)
    assert first.source == "Acme price page 2024-03"
    assert offers[("acme-large", "acme", D(2024, 9, 1))].input_per_m == 5
    assert offers[("acme-large", "cloudhost", D(2024, 5, 1))].output_per_m == 24
    blended = offers[("thinker-r", "aggregator", D(2025, 1, 10))]
    assert (blended.input_per_m, blended.blended_per_m, blended.blend_input_share) == (None, 4.5, 0.75)
    assert not any(o.model_id == "open-7b" for o in batch.offers)
    scores = {(s.model_id, s.benchmark): s for s in batch.scores}
    assert scores[("acme-large", "gpqa-diamond")].harness == "0-shot CoT"
    assert scores[("acme-large", "gpqa-diamond")].source == "Independent eval run"
    assert scores[("acme-large", "mmlu")].source == "Acme launch post"
    assert scores[("open-7b", "mmlu")].harness == "5-shot"
    assert len(batch.scores) == 4


def test_json_form_matches_csv(data: Path) -> None:
    from_json = parse_native(data / "native_example.json")
    from_csv = parse_native(data / "native_example.csv")
    pick = {"acme-large", "open-7b"}
    assert {m for m in from_json.models} == {m for m in from_csv.models if m.id in pick}
    csv_offers = {o for o in from_csv.offers if o.model_id in pick and o.provider == "acme"}
    assert set(from_json.offers) == csv_offers
    assert {(s.model_id, s.benchmark, s.value) for s in from_json.scores} == {
        ("acme-large", "mmlu", 80.5), ("open-7b", "mmlu", 62.1)}


HEADER = "name,provider,release_date,effective_date,input_per_m,output_per_m,score:mmlu\n"


@pytest.mark.parametrize(("body", "line", "field"), [
    ("A,p,2024-01-01,,abc,2,\n", 2, "input_per_m"),
    ("A,p,2024-01-01,,1,2,\nB,p,2024-01-01,,-1,2,\n", 3, "input_per_m"),
    ("A,p,2024-13-01,,1,2,\n", 2, "release_date"),
    ("A,p,2024-01-01,01/02/2024,1,2,\n", 2, "effective_date"),
    ("A,,2024-01-01,,1,2,\n", 2, "provider"),
    ("A,p,2024-01-01,,1,,\n", 2, "output_per_m"),
    ("A,p,,,1,2,\n", 2, "effective_date"),
    ("A,p,2024-01-01,,1,2,101\n", 2, "score:mmlu"),
    ("A,p,2024-01-01,,1,2,nan\n", 2, "score:mmlu"),
    ("A,p,2024-01-01,,1,2,\nA,p,2024-02-01,,1,2,\n", 3, "release_date"),
    ("A,p,2024-01-01,,1,2,\nA,p,2024-01-01,2024-01-01,3,4,\n", 3, "effective_date"),
    ("A,p,2024-01-01,,1,2,70\nA,,,,,,71\n", 3, "score:mmlu"),
    (",p,2024-01-01,,1,2,\n", 2, "name"),
    ("A,p,2024-01-01,,1,2,,extra\n", 2, None),
])
def test_malformed_rows_name_file_line_and_field(tmp_path: Path, body: str, line: int, field: str | None) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + body)
    with pytest.raises(DataError) as err:
        parse_native(path)
    assert err.value.file == str(path)
    assert err.value.line == line
    assert err.value.field == field
    assert str(path) in str(err.value) and f"line {line}" in str(err.value)


@pytest.mark.parametrize(("header", "field"), [
    ("model,provider\n", "name"),
    ("name,input_price\n", "input_price"),
    ("name,score:GPQA Diamond\n", "score:GPQA Diamond"),
])
def test_bad_header(tmp_path: Path, header: str, field: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(header + "x,y\n")
    with pytest.raises(DataError) as err:
        parse_native(path)
    assert (err.value.line, err.value.field) == (1, field)


@pytest.mark.parametrize(("text", "field"), [
    ('[{"name": "A", "open_weights": "maybe"}]', "open_weights"),
    ('[{"name": "A", "scores": {"mmlu": "high"}}]', "score:mmlu"),
    ('[{"name": "A", "colour": "red"}]', "colour"),
    ('[{"name": "A"}, 3]', None),
])
def test_malformed_json_names_item_and_field(tmp_path: Path, text: str, field: str | None) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        parse_native(path)
    assert err.value.field == field and "item" in str(err.value) and str(path) in str(err.value)


def test_json_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n{"name": "A"},\n{"name": }\n]')
    with pytest.raises(DataError) as err:
        parse_native(path)
    assert err.value.line == 3


def _counts(store: Store) -> tuple[int, int, int]:
    cat = load_catalog(store)
    return len(cat.models), len(cat.offers), len(cat.scores)


def test_import_twice_adds_nothing(store: Store, data: Path) -> None:
    first = apply_batch(store, parse_native(data / "native_example.csv"))
    assert (first.models_added, first.offers_added, first.scores_added) == (3, 4, 4)
    again = apply_batch(store, parse_native(data / "native_example.csv"))
    assert (again.models_added, again.offers_added, again.scores_added) == (0, 0, 0)
    json_again = apply_batch(store, parse_native(data / "native_example.json"))
    assert (json_again.models_added, json_again.offers_added, json_again.scores_added) == (0, 0, 0)
    assert _counts(store) == (3, 4, 4)


def test_price_change_is_a_new_offer(store: Store, tmp_path: Path) -> None:
    v1 = tmp_path / "v1.csv"
    v1.write_text("name,release_date,provider,input_per_m,output_per_m\nA,2024-01-01,p,4,8\n")
    v2 = tmp_path / "v2.csv"
    v2.write_text("name,release_date,provider,effective_date,input_per_m,output_per_m\n"
                  "A,2024-01-01,p,2024-01-01,4,8\nA,2024-01-01,p,2024-07-01,2,8\n")
    apply_batch(store, parse_native(v1))
    result = apply_batch(store, parse_native(v2))
    assert result.offers_added == 1
    cat = load_catalog(store)
    assert [o.input_per_m for o in cat.offers_of("a")] == [4, 2]
    assert cat.price_at("a", D(2024, 6, 30)).input_per_m == 4  # type: ignore[union-attr]
    assert cat.price_at("a", D(2024, 7, 1)).blended() == pytest.approx(0.75 * 2 + 0.25 * 8)  # type: ignore[union-attr]


def test_conflict_with_store_changes_nothing(store: Store, tmp_path: Path, data: Path) -> None:
    apply_batch(store, parse_native(data / "native_example.csv"))
    before = _counts(store)
    bad = tmp_path / "conflict.csv"
    bad.write_text("id,name,provider,effective_date,input_per_m,output_per_m\n"
                   "new-model,New Model,p,2024-01-01,1,1\n"
                   "acme-large,Acme Large,acme,2024-03-01,11,30\n")
    with pytest.raises(DataError, match="conflict.csv"):
        apply_batch(store, parse_native(bad))
    assert _counts(store) == before
    assert "new-model" not in load_catalog(store).models
