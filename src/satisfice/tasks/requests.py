"""A task's item as a model request: few-shot examples, system prompt, the item's own turn or completion prompt.

Above :mod:`satisfice.tasks.templates` (which renders one template and knows no task) and the task spec.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from satisfice.core import CompletionRequest, Message
from satisfice.tasks.sample import Sample
from satisfice.tasks.spec import TaskSpec
from satisfice.tasks.templates import render


def default_answer(target: Any) -> str:
    """A few-shot example's answer when ``prompt.answer`` is not given: text as is, objects and lists as JSON."""
    if isinstance(target, dict | list):
        return json.dumps(target, ensure_ascii=False)
    return "" if target is None else str(target)


def example_answer(spec: TaskSpec, example: Sample) -> str:
    """How a few-shot example's answer is written in the prompt."""
    if spec.prompt.answer is None:
        return default_answer(example.target)
    context = {**example.fields, "target": example.target}
    return render(spec.prompt.answer, context, name="prompt.answer", where=spec.where(), item=_item(example))


def _item(sample: Sample) -> str:
    where = getattr(sample, "where", "")
    return f"item {sample.id!r}" + (f" ({where})" if where else "")


def render_request(spec: TaskSpec, sample: Sample, fewshot: Sequence[Sample]) -> CompletionRequest:
    """The request for one item: chat messages (few-shot examples as user/assistant turns) or a completion prompt.

    Templates see the item's fields and ``fewshot``: a list of the examples' fields plus ``target`` and ``answer``
    (the example's answer as written in the prompt). The item's own target is never visible.

    Args:
        spec: The task.
        sample: The item to ask about.
        fewshot: The few-shot examples.

    Returns:
        A CompletionRequest with the task's max_tokens, temperature and stop sequences.
    """
    prompt = spec.prompt
    where = spec.where()
    answers = [example_answer(spec, ex) for ex in fewshot]
    examples = [{**ex.fields, "target": ex.target, "answer": ans} for ex, ans in zip(fewshot, answers, strict=True)]
    context: dict[str, Any] = {**sample.fields, "fewshot": examples}
    stop = tuple(prompt.stop) if prompt.stop else None
    if prompt.completion is not None:
        text = render(prompt.completion, context, name="prompt.completion", where=where, item=_item(sample))
        return CompletionRequest(prompt=text, max_tokens=prompt.max_tokens, temperature=prompt.temperature,
                                 stop=stop)
    assert prompt.user is not None  # guaranteed by PromptSpec
    messages: list[Message] = []
    if prompt.system is not None:
        system = render(prompt.system, context, name="prompt.system", where=where, item=_item(sample))
        messages.append(Message("system", system))
    for ex, ans in zip(fewshot, answers, strict=True):
        shot = render(prompt.user, {**ex.fields, "fewshot": []}, name="prompt.user", where=where, item=_item(ex))
        messages.extend((Message("user", shot), Message("assistant", ans)))
    user = render(prompt.user, context, name="prompt.user", where=where, item=_item(sample))
    messages.append(Message("user", user))
    return CompletionRequest(messages=tuple(messages), max_tokens=prompt.max_tokens,
                             temperature=prompt.temperature, stop=stop)


__all__ = ["default_answer", "example_answer", "render_request"]
