"""Render one Jinja2 prompt template (sandboxed, strict about undefined fields); ``requests`` builds the request."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from satisfice.errors import ConfigError, DataError


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


__all__ = ["environment", "render", "template_variables"]
