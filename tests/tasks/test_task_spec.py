from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from task_helpers import BASE_TASK

from satisfice.core import ModelRef, Price
from satisfice.errors import ConfigError
from satisfice.tasks.spec import TaskSpec, load_task
from satisfice.tasks.taskfile import TaskFileError


def test_valid_task_loads(make_task: Callable[..., Path]) -> None:
    path = make_task()
    spec = load_task(path)
    assert isinstance(spec, TaskSpec)
    assert spec.name == "demo"
    assert spec.base_dir == path.parent.resolve()
    assert spec.dataset.kind == "jsonl"
    assert spec.dataset.target_column == "label"
    assert spec.dataset.input_fields == {"text": "review"}
    assert spec.threshold is not None and spec.threshold.bar == pytest.approx(0.8)
    assert [c.id for c in spec.candidates] == ["local/smollm2-135m", "local/gemma3-270m"]
    assert spec.candidates[1].max_concurrency == 2
    assert spec.candidates[0].max_concurrency == 4
    assert spec.candidates[0].ref() == ModelRef("local/smollm2-135m", "local")
    assert spec.prompt.is_chat and spec.prompt.max_tokens == 3 and spec.prompt.temperature == 0.0


def test_candidate_endpoint_and_price(make_task: Callable[..., Path]) -> None:
    text = BASE_TASK.replace(
        "  - local/smollm2-135m\n",
        "  - id: openai/gpt-4o-mini\n    base_url: https://api.openai.com/v1/\n    api_key_env: OPENAI_API_KEY\n"
        "    provider_model: gpt-4o-mini-2024\n    input_per_m: 0.15\n    output_per_m: 0.6\n"
        "    requests_per_minute: 500\n",
    )
    spec = load_task(make_task(text))
    cand = spec.candidates[0]
    assert cand.ref() == ModelRef("openai/gpt-4o-mini", "openai_compat", "https://api.openai.com/v1",
                                  "OPENAI_API_KEY", "gpt-4o-mini-2024")
    assert cand.price() == Price(0.15, 0.6)
    assert spec.candidates[1].price() is None
    assert spec.candidate("local/gemma3-270m") is spec.candidates[1]


def test_threshold_mapping_and_workload(make_task: Callable[..., Path]) -> None:
    text = BASE_TASK.replace(
        "threshold: accuracy >= 0.8 at 95% confidence\n",
        "threshold:\n  bar: 85%\n  confidence: 0.9\n  non_inferior_to: local/gemma3-270m\n  margin: 0.05\n"
        "workload:\n  requests_per_day: 10000\n  output_tokens_per_request: 20\n",
    ) + "reference: local/gemma3-270m\n"
    spec = load_task(make_task(text))
    assert spec.threshold is not None
    assert spec.threshold.bar == pytest.approx(0.85) and spec.threshold.confidence == pytest.approx(0.9)
    assert spec.threshold.non_inferior_to == "local/gemma3-270m" and spec.threshold.margin == pytest.approx(0.05)
    assert spec.workload is not None and spec.workload.requests_per_day == 10000
    assert spec.workload.input_tokens_per_request is None
    assert spec.reference == "local/gemma3-270m"


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


CASES = [
    # (description, old, new, line needle in the new text, field, message part)
    ("unknown scorer", "type: normalized", "type: exakt", "type: exakt", "scorer.type",
     "unknown scorer 'exakt' (known: exact, normalized"),
    ("unknown top-level field", "description: a small test task", "descripton: typo", "descripton", "descripton",
     "unknown field 'descripton' (known: name, description, dataset"),
    ("unknown nested field", "  fields: {text: review, target: label}",
     "  fields: {text: review, target: label}\n  limt: 5", "limt", "dataset.limt", "unknown field 'limt'"),
    ("wrong type", "  max_tokens: 3", "  max_tokens: lots", "max_tokens", "prompt.max_tokens",
     "valid integer"),
    ("out of range", "  max_tokens: 3", "  max_tokens: 0", "max_tokens", "prompt.max_tokens", "greater than"),
    ("bad threshold text", "accuracy >= 0.8 at", "accuracy > 0.8 at", "threshold:", "threshold", "must be '>='"),
    ("threshold mapping typo", "threshold: accuracy >= 0.8 at 95% confidence",
     "threshold:\n  bar: 0.8\n  margn: 0.1", "margn", "threshold.margn", "unknown field 'margn'"),
    ("candidate field typo", "    max_concurrency: 2", "    max_concurency: 2", "max_concurency",
     "candidates[1].max_concurency", "unknown field 'max_concurency'"),
    ("candidate url", "    max_concurrency: 2", "    base_url: localhost:8000", "base_url",
     "candidates[1].base_url", "must start with http://"),
    ("duplicate candidate", "  - id: local/gemma3-270m", "  - id: local/smollm2-135m", "id: local/smollm2",
     "candidates[1].id", "listed twice"),
    ("missing dataset file", "  path: data.jsonl", "  path: nothere.jsonl", "nothere", "dataset.path",
     "dataset file not found"),
    ("unknown extension", "  path: data.jsonl", "  path: data.txt", "data.txt", "dataset.path",
     "cannot infer the format"),
    ("scorer option typo", "  type: normalized", "  type: numeric\n  options:\n    tolerence: 0.1",
     "tolerence", "scorer.options.tolerence", "Extra inputs are not permitted"),
    ("bad regex", "  type: normalized", "  type: regex\n  options:\n    pattern: '(unclosed'",
     "options:", "scorer.options", "not a valid regular expression"),
    ("sandbox escape", 'user: "Review: {{ text }}"', "user: \"{{ ''.__class__.__mro__ }}\"", "user:",
     "prompt.user", "underscore attributes are not allowed"),
    ("template syntax", 'user: "Review: {{ text }}"', 'user: "Review: {{ text }"', "user:", "prompt.user",
     "template syntax error"),
    ("unmapped template field", 'user: "Review: {{ text }}"', 'user: "Review: {{ txt }}"', "user:",
     "prompt.user", "template uses txt, not mapped in dataset.fields (mapped: text)"),
    ("target in prompt", 'user: "Review: {{ text }}"', 'user: "{{ text }} {{ target }}"', "user:",
     "prompt.user", "may not show the answer"),
    ("both prompt kinds", 'user: "Review: {{ text }}"', 'user: "x"\n  completion: "y"', "prompt:", "prompt",
     "either user"),
    ("non-inferior to a stranger", "threshold: accuracy >= 0.8 at 95% confidence",
     "threshold: {non_inferior_to: gpt-5, margin: 0.02}", "threshold:", "threshold.non_inferior_to",
     "'gpt-5' is not a candidate"),
    ("bad task name", "name: demo", "name: my demo", "name:", "name", "no spaces"),
    ("few-shot without fewshot variable", 'user: "Review: {{ text }}"',
     'completion: "Review: {{ text }}"', "completion:", "prompt.completion", "never uses the 'fewshot' variable"),
]


@pytest.mark.parametrize(("old", "new", "needle", "field", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_malformed_task_names_file_line_and_field(make_task: Callable[..., Path], old: str, new: str,
                                                  needle: str, field: str, message: str) -> None:
    assert old in BASE_TASK
    text = BASE_TASK.replace(old, new)
    if "fewshot" in message:
        text = text.replace("  fields:", "  fewshot: {count: 2}\n  fields:")
    path = make_task(text)
    with pytest.raises(TaskFileError) as info:
        load_task(path)
    err = info.value
    assert isinstance(err, ConfigError)
    assert err.field == field
    assert err.line == _line_of(text, needle)
    assert message in str(err)
    assert str(err).startswith(f"{path}, line {err.line}, field '{field}': ")


def test_missing_required_field_points_at_parent(make_task: Callable[..., Path]) -> None:
    text = BASE_TASK.replace("scorer:\n  type: normalized\n", "")
    with pytest.raises(TaskFileError) as info:
        load_task(make_task(text))
    assert info.value.field == "scorer"
    assert info.value.line == 1
    assert "required field is missing" in str(info.value)


def test_several_problems_are_listed_in_line_order(make_task: Callable[..., Path]) -> None:
    text = BASE_TASK.replace("type: normalized", "type: exakt").replace("description:", "descripton:")
    with pytest.raises(TaskFileError) as info:
        load_task(make_task(text))
    assert info.value.field == "descripton"
    assert len(info.value.problems) == 2
    assert "also line" in str(info.value) and "scorer.type" in str(info.value)


def test_yaml_syntax_error_names_line(make_task: Callable[..., Path]) -> None:
    text = BASE_TASK.replace("  max_tokens: 3", "  max_tokens: [3")
    with pytest.raises(TaskFileError) as info:
        load_task(make_task(text))
    assert "invalid YAML" in str(info.value)
    assert info.value.line is not None and info.value.line >= _line_of(text, "max_tokens")


def test_duplicate_key_is_refused(make_task: Callable[..., Path]) -> None:
    text = BASE_TASK + "name: again\n"
    with pytest.raises(TaskFileError) as info:
        load_task(make_task(text))
    assert "duplicate key 'name'" in str(info.value)
    assert info.value.line == len(text.splitlines())


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", ""])
def test_non_mapping_task_file(make_task: Callable[..., Path], text: str) -> None:
    with pytest.raises(TaskFileError, match="must be a YAML mapping"):
        load_task(make_task(text))


def test_base_dir_cannot_be_set_from_yaml(make_task: Callable[..., Path]) -> None:
    with pytest.raises(TaskFileError, match="unknown field 'base_dir'"):
        load_task(make_task(BASE_TASK + "base_dir: /etc\n"))


def test_missing_task_file(tmp_path: Path) -> None:
    with pytest.raises(TaskFileError, match="task file not found"):
        load_task(tmp_path / "nope.yaml")


def test_stop_accepts_a_string_or_list(make_task: Callable[..., Path]) -> None:
    spec = load_task(make_task(BASE_TASK.replace("  max_tokens: 3", '  max_tokens: 3\n  stop: "\\n"')))
    assert spec.prompt.stop == ["\n"]
    spec = load_task(make_task(BASE_TASK.replace("  max_tokens: 3", '  max_tokens: 3\n  stop: ["\\n", "."]')))
    assert spec.prompt.stop == ["\n", "."]


def test_relative_paths_are_resolved_against_the_task_folder(make_task: Callable[..., Path],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_task()
    monkeypatch.chdir(path.parent.parent)
    spec = load_task(Path(path.parent.name) / path.name)
    assert spec.dataset_path() == path.parent.resolve() / "data.jsonl"
    assert spec.where() == f"{path.parent.name}/{path.name}"


def test_bare_number_threshold_is_the_bar(make_task: Callable[..., Path]) -> None:
    spec = load_task(make_task(BASE_TASK.replace("accuracy >= 0.8 at 95% confidence", "0.75")))
    assert spec.threshold is not None
    assert (spec.threshold.bar, spec.threshold.confidence) == (0.75, 0.95)


def test_explicit_format_overrides_the_extension(make_task: Callable[..., Path], tmp_path: Path) -> None:
    path = make_task(BASE_TASK.replace("  path: data.jsonl", "  path: data.txt\n  format: jsonl"))
    (tmp_path / "data.txt").write_text((tmp_path / "data.jsonl").read_text())
    assert load_task(path).dataset.kind == "jsonl"
