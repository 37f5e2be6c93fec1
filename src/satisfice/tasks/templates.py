"""Render a task's Jinja2 prompt templates (sandboxed, strict about undefined fields) into a CompletionRequest."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from satisfice.core import CompletionRequest, Message
from satisfice.errors import ConfigError, DataError

if TYPE_CHECKING:
    from satisfice.tasks.datasets import Sample
    from satisfice.tasks.spec import TaskSpec


def _tojson(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


@functools.lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    """The one template environment: sandboxed, immutable containers, undefined names are errors."""
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.filters["tojson"] = _tojson
    return env


def _unsafe_names(tree: nodes.Node) -> list[str]:
    """Underscore attributes reached by ``.x``, ``['x']`` or ``|attr('x')``: never allowed in a task template."""
    found: list[str] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        name: Any = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            arg = node.args[0]
            name = arg.value if isinstance(arg, nodes.Const) else None
        if isinstance(name, str) and name.startswith("_"):
            found.append(name)
    return found


@functools.lru_cache(maxsize=512)
def template_variables(source: str) -> frozenset[str]:
    """Names a template reads from its context.

    Raises:
        ValueError: On a syntax error, or when the template reaches for underscore attributes (a sandbox escape).
    """
    env = environment()
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise ValueError(f"template syntax error on template line {exc.lineno}: {exc.message}") from None
    unsafe = _unsafe_names(tree)
    if unsafe:
        raise ValueError(f"template accesses {unsafe[0]!r}; underscore attributes are not allowed (sandboxed)")
    return frozenset(meta.find_undeclared_variables(tree) - {"loop"})


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    """The compiled template (Jinja2 does not cache ``from_string``; a task renders the same few per item)."""
    return environment().from_string(source)


def render(source: str, context: Mapping[str, Any], *, name: str, where: str, item: str = "") -> str:
    """Render one template in the sandbox.

    Args:
        source: The template text.
        context: Its variables.
        name: The template's field path, e.g. ``prompt.user``.
        where: The task file as shown in messages.
        item: Which data item is being rendered, for messages.

    Raises:
        DataError: A variable or attribute the item does not have (naming the template and the field).
        ConfigError: A template that breaks the sandbox rules or fails to render.
    """
    try:
        template_variables(source)
    except ValueError as exc:
        raise ConfigError(f"{where}, field {name!r}: {exc}") from None
    try:
        return _compiled(source).render(dict(context))
    except SecurityError as exc:
        raise ConfigError(f"{where}, field {name!r}: refused by the template sandbox: {exc}") from None
    except UndefinedError as exc:
        missing = str(exc.message or exc)
        fields = ", ".join(sorted(k for k in context if k != "fewshot")) or "none"
        about = f" for {item}" if item else ""
        raise DataError(f"template uses a field that is not there{about}: {missing} (fields: {fields})",
                        file=where, field=name) from None
    except TemplateError as exc:
        raise ConfigError(f"{where}, field {name!r}: template failed{' for ' + item if item else ''}: {exc}"
                          ) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise DataError(f"template failed{' for ' + item if item else ''}: {exc}", file=where, field=name) from None


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


__all__ = ["default_answer", "environment", "example_answer", "render", "render_request", "template_variables"]
