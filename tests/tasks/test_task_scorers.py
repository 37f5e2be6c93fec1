from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from satisfice.core import Completion, Score
from satisfice.errors import ConfigError, DataError
from satisfice.tasks.datasets import Sample
from satisfice.tasks.scorers import Scorer, build_scorer
from satisfice.tasks.spec import ScorerSpec


def scorer(kind: str, tmp_path: Path | None = None, **options: Any) -> Scorer:
    return build_scorer(ScorerSpec(type=kind, options=options), base_dir=tmp_path or Path.cwd())


async def grade(s: Scorer, answer: str, target: Any, **fields: Any) -> float:
    score = await s(Sample("1", fields, target), Completion(answer))
    assert isinstance(score, Score)
    assert 0.0 <= score.value <= 1.0
    return score.value


@pytest.mark.parametrize(
    ("answer", "target", "expected", "options"),
    [
        ("positive", "positive", 1.0, {}),
        ("  positive\n", "positive", 1.0, {}),
        ("Positive", "positive", 0.0, {}),
        ("Positive", "positive", 1.0, {"case_sensitive": False}),
        (" positive", "positive", 0.0, {"strip": False}),
        ("positive.", "positive", 0.0, {}),
        ("4", 4, 1.0, {}),
        ("b", ["a", "b"], 1.0, {}),
        ("", "", 1.0, {}),
    ],
)
async def test_exact(answer: str, target: Any, expected: float, options: dict[str, Any]) -> None:
    assert await grade(scorer("exact", **options), answer, target) == expected


@pytest.mark.parametrize(
    ("answer", "target", "expected"),
    [
        ("Positive.", "positive", 1.0),
        ("  POSITIVE!\n", "positive", 1.0),
        ("New   York", "new york", 1.0),
        ("U.S.", "US", 1.0),
        ("Ｐｏｓｉｔｉｖｅ", "positive", 1.0),  # full-width letters (NFKC)
        ("positive review", "positive", 0.0),
        ("negative", "positive", 0.0),
        ("not positive", "positive", 0.0),
    ],
)
async def test_normalized(answer: str, target: str, expected: float) -> None:
    assert await grade(scorer("normalized"), answer, target) == expected


@pytest.mark.parametrize(
    ("answer", "target", "expected", "options"),
    [
        ("The capital is Paris.", "paris", 1.0, {}),
        ("I'm not sure", "no", 0.0, {}),  # whole words: 'no' is not in 'not'
        ("I'm not sure", "no", 1.0, {"whole_words": False}),
        ("Parisian food", "Paris", 0.0, {}),
        ("PARIS", "Paris", 0.0, {"normalize": False}),
        ("anything", "", 0.0, {}),
        ("It is Lyon, or Paris", ["Rome", "Paris"], 1.0, {}),
    ],
)
async def test_includes(answer: str, target: Any, expected: float, options: dict[str, Any]) -> None:
    assert await grade(scorer("includes", **options), answer, target) == expected


async def test_regex_extracts_group_then_compares() -> None:
    s = scorer("regex", pattern=r"Answer:\s*(\w+)", flags="i")
    assert await grade(s, "Thinking... answer: Blue", "blue") == 1.0
    assert await grade(s, "Answer: red", "blue") == 0.0
    assert await grade(s, "no marker here", "blue") == 0.0
    last = scorer("regex", pattern=r"Answer:\s*(\w+)", which="last", compare="exact")
    assert await grade(last, "Answer: red ... Answer: blue", "blue") == 1.0
    assert await grade(last, "Answer: red ... Answer: blue", "Blue") == 0.0
    named = scorer("regex", pattern=r"#### (?P<n>[-\d.,]+)", group="n", compare="numeric")
    assert await grade(named, "so #### 1,234", 1234) == 1.0
    assert await grade(named, "so #### 1,235", "1234") == 0.0
    only = scorer("regex", pattern=r"^\d{3}-\d{4}$", match_only=True)
    assert not only.needs_reference
    assert await grade(only, "555-1234", None) == 1.0
    assert await grade(only, "call 555-1234", None) == 0.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pattern": "(unclosed"}, "not a valid regular expression"),
        ({"pattern": "(a)", "group": 2}, "group 2 does not exist"),
        ({"pattern": "(a)", "group": "x"}, "not a named group"),
        ({"pattern": "a", "flags": "q"}, "unknown regex flag"),
        ({}, "pattern"),
    ],
)
def test_regex_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        scorer("regex", **options)


@pytest.mark.parametrize(
    ("answer", "target", "expected"),
    [
        ("The answer is (B)", "B", 1.0),
        ("The answer is (B)", "C", 0.0),
        ("B.", "B", 1.0),
        ("b", "B", 1.0),
        ("(c) because it is larger", "C", 1.0),
        ("D is correct", "D", 1.0),
        ("A good answer is C", "C", 1.0),  # 'A' as an article is not the choice
        ("A cell is the smallest unit", "A", 0.0),  # no letter given at all
        ("Answer: a", "A", 1.0),
        ("The answer is B. On reflection, the answer is D.", "D", 1.0),  # the last stated answer
        ("I think C", "answer_c", 1.0),
        ("C", 2, 1.0),  # integer targets are 0-based indices
        ("Paris", "B", 0.0),
        ("", "A", 0.0),
    ],
)
async def test_choice(answer: str, target: Any, expected: float) -> None:
    assert await grade(scorer("choice"), answer, target) == expected


async def test_choice_with_more_letters_and_bad_target() -> None:
    assert await grade(scorer("choice", choices="ABCDE"), "The answer is E", "E") == 1.0
    with pytest.raises(DataError, match="not one of the choices"):
        await grade(scorer("choice"), "A", "E")


@pytest.mark.parametrize(
    ("answer", "target", "expected", "options"),
    [
        ("The result is 42.", 42, 1.0, {}),
        ("3 apples and 5 pears make 8", "8", 1.0, {}),  # the last number
        ("3 apples and 5 pears make 8", "3", 1.0, {"which": "first"}),
        ("$1,234.50", 1234.5, 1.0, {}),
        ("−7 degrees", -7, 1.0, {}),  # Unicode minus
        ("about 0.333", "1/3 = 0.3333", 0.0, {}),
        ("about 0.333", 0.3333, 1.0, {"abs_tol": 0.001}),
        ("1010", 1000, 1.0, {"rel_tol": 0.02}),
        ("1030", 1000, 0.0, {"rel_tol": 0.02}),
        ("no idea", 5, 0.0, {}),
        ("2e3", 2000, 1.0, {}),
    ],
)
async def test_numeric(answer: str, target: Any, expected: float, options: dict[str, Any]) -> None:
    if target == "1/3 = 0.3333":
        with pytest.raises(DataError, match="not a number"):
            await grade(scorer("numeric", **options), answer, target)
        return
    assert await grade(scorer("numeric", **options), answer, target) == expected


SCHEMA = {"type": "object", "required": ["name", "city"],
          "properties": {"name": {"type": "string"}, "city": {"type": "string"}, "age": {"type": "integer"}}}


async def test_json_validity_and_schema() -> None:
    valid = scorer("json")
    assert not valid.needs_reference
    assert await grade(valid, '{"a": 1}', None) == 1.0
    assert await grade(valid, 'Here you go:\n```json\n{"a": 1}\n```', None) == 1.0
    assert await grade(valid, 'Sure! {"a": [1, 2]} hope that helps', None) == 1.0
    assert await grade(valid, "{'a': 1}", None) == 0.0
    assert await grade(valid, "no json", None) == 0.0
    schema = scorer("json", schema=SCHEMA)
    assert await grade(schema, '{"name": "Ann", "city": "Oslo", "age": 3}', None) == 1.0
    assert await grade(schema, '{"name": "Ann", "city": "Oslo", "age": 3.5}', None) == 0.0
    assert await grade(schema, '{"name": "Ann"}', None) == 0.0
    assert await grade(schema, '["Ann", "Oslo"]', None) == 0.0
    strict = scorer("json", schema={**SCHEMA, "additionalProperties": False})
    assert await grade(strict, '{"name": "Ann", "city": "Oslo", "zip": 1}', None) == 0.0
    enum = scorer("json", schema={"type": "string", "enum": ["yes", "no"]})
    assert await grade(enum, '"yes"', None) == 1.0
    assert await grade(enum, '"maybe"', None) == 0.0
    boolean = scorer("json", schema={"type": "integer"})
    assert await grade(boolean, "true", None) == 0.0  # a boolean is not an integer


async def test_json_field_equality() -> None:
    fields = scorer("json", fields=["name", "city"])
    assert fields.needs_reference
    target = {"name": "Ann", "city": "Oslo", "note": "ignored"}
    assert await grade(fields, '{"name": "Ann", "city": "Oslo", "extra": 1}', target) == 1.0
    assert await grade(fields, '{"name": "ann", "city": "Oslo"}', target) == 0.0
    assert await grade(fields, '{"name": "Ann"}', target) == 0.0
    assert await grade(fields, '{"name": "Ann", "city": "Oslo"}', '{"name": "Ann", "city": "Oslo"}') == 1.0
    loose = scorer("json", fields=["name", "city"], normalize=True)
    assert await grade(loose, '{"name": " ann ", "city": "OSLO."}', target) == 1.0
    partial = scorer("json", fields=["name", "city"], partial_credit=True)
    assert await grade(partial, '{"name": "Ann", "city": "Bergen"}', target) == 0.5
    with pytest.raises(DataError, match="target has no field 'city'"):
        await grade(fields, '{"name": "Ann"}', {"name": "Ann"})
    whole = scorer("json", equal=True)
    assert await grade(whole, '{"a": [1, 2.0]}', {"a": [1, 2]}) == 1.0
    assert await grade(whole, '{"a": [1, 2], "b": 0}', {"a": [1, 2]}) == 0.0
    assert await grade(whole, "1", True) == 0.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"schema": {"type": "object", "minProperties": -1}}, "invalid JSON Schema at minProperties"),
        ({"schema": {"type": "obj"}}, "invalid JSON Schema at type"),
        ({"fields": ["a"], "equal": True}, "not both"),
        ({"partial_credit": True}, "partial_credit needs fields"),
        ({"feilds": ["a"]}, "Extra inputs"),
    ],
)
def test_json_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        scorer("json", **options)


@pytest.mark.parametrize(
    ("answer", "target", "expected"),
    [
        ("the Eiffel Tower", "Eiffel Tower", 1.0),
        ("Eiffel Tower in Paris", "the Eiffel Tower", 2 * (2 / 4 * 1.0) / (2 / 4 + 1.0)),
        ("Louvre", "Eiffel Tower", 0.0),
        ("", "", 1.0),
        ("the", "", 1.0),  # only an article: both normalise to nothing
        ("tower tower", "tower", 2 * 0.5 * 1.0 / 1.5),
        ("Paris", ["London", "paris!"], 1.0),
    ],
)
async def test_f1(answer: str, target: Any, expected: float) -> None:
    assert math.isclose(await grade(scorer("f1"), answer, target), expected)


async def test_missing_target_is_an_error_not_a_zero() -> None:
    with pytest.raises(DataError, match="has no answer"):
        await grade(scorer("exact"), "x", None)


def test_needs_reference_flags() -> None:
    assert scorer("exact").needs_reference and scorer("f1").needs_reference
    assert not scorer("json", schema=SCHEMA).needs_reference


def _write(tmp_path: Path, name: str, code: str) -> None:
    (tmp_path / name).write_text(code, encoding="utf-8")


async def test_custom_scorer_from_the_task_folder(tmp_path: Path) -> None:
    _write(tmp_path, "my_scorers.py", (
        "from satisfice.core import Score\n"
        "def length(sample, completion, limit=5):\n"
        "    return len(completion.text) <= limit\n"
        "length.needs_reference = False\n"
        "async def half(sample, completion):\n"
        "    return Score(0.5, 'half')\n"
        "def too_big(sample, completion):\n"
        "    return 2\n"
        "def wrong_type(sample, completion):\n"
        "    return 'yes'\n"
    ))
    s = scorer("my_scorers:length", tmp_path)
    assert not s.needs_reference
    assert await grade(s, "short", None) == 1.0
    assert await grade(s, "much too long", None) == 0.0
    assert await grade(scorer("my_scorers:length", tmp_path, limit=20), "much too long", None) == 1.0
    half = await scorer("my_scorers:half", tmp_path)(Sample("1", {}, "x"), Completion("a"))
    assert half == Score(0.5, "half")
    with pytest.raises(ValueError, match=r"returned 2.0; scores must lie in \[0, 1\]"):
        await grade(scorer("my_scorers:too_big", tmp_path), "a", None)
    with pytest.raises(ValueError, match="return a float, a bool or a Score"):
        await grade(scorer("my_scorers:wrong_type", tmp_path), "a", None)
    assert str(tmp_path) not in __import__("sys").path  # the import path is restored


async def test_two_task_folders_with_the_same_module_name(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    _write(one, "scoring.py", "def f(sample, completion):\n    return 1.0\n")
    _write(two, "scoring.py", "def f(sample, completion):\n    return 0.0\n")
    assert await grade(scorer("scoring:f", one), "a", None) == 1.0
    assert await grade(scorer("scoring:f", two), "a", None) == 0.0


def test_custom_scorer_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot import 'nowhere_module_xyz'"):
        scorer("nowhere_module_xyz:f", tmp_path)
    _write(tmp_path, "broken.py", "raise RuntimeError('boom')\n")
    with pytest.raises(ConfigError, match="importing 'broken' failed: RuntimeError: boom"):
        scorer("broken:f", tmp_path)
    _write(tmp_path, "fine.py", "x = 1\n")
    with pytest.raises(ConfigError, match="has no function 'f'"):
        scorer("fine:f", tmp_path)
    with pytest.raises(ConfigError, match="has no function 'x'"):
        scorer("fine:x", tmp_path)


def test_unknown_scorer_type() -> None:
    with pytest.raises(ValueError, match="unknown scorer 'exakt'"):
        ScorerSpec(type="exakt")
    with pytest.raises(ValueError, match="must look like 'module:function'"):
        ScorerSpec(type="a:b:c")


async def test_json_schema_is_full_json_schema() -> None:
    """Keywords beyond the old hand-written subset work: minProperties, pattern, $defs/$ref."""
    schema = {"type": "object", "minProperties": 1, "properties": {"code": {"$ref": "#/$defs/code"}},
              "$defs": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}}
    graded = scorer("json", schema=schema)
    assert await grade(graded, '{"code": "OSL"}', None) == 1.0
    assert await grade(graded, '{"code": "oslo"}', None) == 0.0
    assert await grade(graded, "{}", None) == 0.0
