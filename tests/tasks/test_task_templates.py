from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from task_helpers import BASE_TASK

from satisfice.core import CompletionRequest, Message
from satisfice.errors import ConfigError, DataError
from satisfice.tasks.datasets import Sample, load_samples
from satisfice.tasks.requests import render_request
from satisfice.tasks.spec import load_task
from satisfice.tasks.templates import render

CHAT = BASE_TASK.replace(
    '  user: "Review: {{ text }}"',
    '  system: "Classify reviews as positive or negative."\n  user: "Review: {{ text }}"\n  stop: "\\n"',
).replace("  fields:", "  fewshot: {count: 2}\n  fields:")

COMPLETION = BASE_TASK.replace(
    '  user: "Review: {{ text }}"',
    "  completion: |\n"
    "    {% for ex in fewshot %}Review: {{ ex.text }}\n"
    "    Sentiment: {{ ex.answer }}\n"
    "    {% endfor %}Review: {{ text }}\n"
    "    Sentiment:",
).replace("  fields:", "  fewshot: {count: 2}\n  fields:")


def test_chat_request_has_fewshot_turns(make_task: Callable[..., Path]) -> None:
    spec = load_task(make_task(CHAT))
    items, shots = load_samples(spec)
    request = render_request(spec, items[0], shots)
    assert request == CompletionRequest(
        messages=(
            Message("system", "Classify reviews as positive or negative."),
            Message("user", "Review: review 1"), Message("assistant", "positive"),
            Message("user", "Review: review 2"), Message("assistant", "negative"),
            Message("user", "Review: review 3"),
        ),
        max_tokens=3, temperature=0.0, stop=("\n",),
    )
    assert request.is_chat


def test_completion_request_renders_fewshot_loop(make_task: Callable[..., Path]) -> None:
    spec = load_task(make_task(COMPLETION))
    items, shots = load_samples(spec)
    request = render_request(spec, items[0], shots)
    assert request.prompt == (
        "Review: review 1\nSentiment: positive\nReview: review 2\nSentiment: negative\nReview: review 3\nSentiment:"
    )
    assert request.messages == () and not request.is_chat


def test_answer_template_and_json_targets(make_task: Callable[..., Path]) -> None:
    text = COMPLETION.replace("  max_tokens: 3", "  answer: \"{{ target | tojson }} ({{ text }})\"\n  max_tokens: 3")
    rows = [{"review": "O'Brien <x>", "label": {"name": "Zoë"}}, {"review": "b", "label": {"name": "B"}},
            {"review": "c", "label": {"name": "C"}}]
    spec = load_task(make_task(text, rows=rows))
    items, shots = load_samples(spec)
    prompt = render_request(spec, items[0], shots).prompt
    assert prompt is not None
    assert 'Sentiment: {"name": "Zoë"} (O\'Brien <x>)' in prompt  # plain JSON, not HTML-escaped


def test_default_answer_of_an_object_is_json(make_task: Callable[..., Path]) -> None:
    rows = [{"review": "a", "label": {"city": "Paris"}}, {"review": "b", "label": ["x", 1]},
            {"review": "c", "label": "z"}]
    spec = load_task(make_task(CHAT.replace("type: normalized", "type: json\n  options: {equal: true}"), rows=rows))
    items, shots = load_samples(spec)
    messages = render_request(spec, items[0], shots).messages
    assert [m.content for m in messages if m.role == "assistant"] == ['{"city": "Paris"}', '["x", 1]']


def test_missing_field_at_render_names_template_and_field(make_task: Callable[..., Path]) -> None:
    # without a field mapping the template is checked against each item when it is rendered
    text = BASE_TASK.replace("  fields: {text: review, target: label}\n", "").replace("{{ text }}", "{{ review }}")
    spec = load_task(make_task(text, rows=[{"review": "a", "target": "x"}, {"revue": "b", "target": "y"}]))
    items, shots = load_samples(spec)
    assert render_request(spec, items[0], shots).messages[-1].content == "Review: a"
    with pytest.raises(DataError) as info:
        render_request(spec, items[1], shots)
    assert info.value.field == "prompt.user"
    assert "'review' is undefined" in str(info.value)
    assert "item '2'" in str(info.value) and "fields: revue" in str(info.value)
    assert str(info.value).startswith(str(spec.source))


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ text.__class__ }}",
        "{{ text|attr('__class__') }}",
        "{{ text['__class__'] }}",
        "{{ '{0.__class__}'.format(text) }}",
        "{{ fewshot.append(1) }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_sandbox_escapes_are_refused(template: str) -> None:
    with pytest.raises(ConfigError) as info:
        render(template, {"text": "x", "fewshot": []}, name="prompt.user", where="task.yaml")
    message = str(info.value)
    assert message.startswith("task.yaml, field 'prompt.user': ")
    assert "sandbox" in message


def test_target_is_not_visible_to_the_item_prompt(make_task: Callable[..., Path]) -> None:
    text = BASE_TASK.replace("  fields: {text: review, target: label}\n", "").replace("{{ text }}", "{{ review }}")
    spec = load_task(make_task(text, rows=[{"review": "a", "target": "x"}]))
    sample = Sample("1", {"review": "a"}, "secret")
    request = render_request(spec, sample, [])
    assert "secret" not in request.messages[-1].content
    with pytest.raises(DataError, match="'target' is undefined"):
        render("{{ target }}", {"review": "a"}, name="prompt.user", where="t.yaml")
