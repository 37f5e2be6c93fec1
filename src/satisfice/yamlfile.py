"""Config files in YAML (task files, gateway configs): one reader, and errors that name file, line and field.

:func:`read_yaml` parses safely, keeps the node tree for line numbers and refuses duplicate keys;
:func:`locate_errors` turns a pydantic ValidationError over the document into one :class:`ConfigFileError`
whose message reads ``FILE, line N, field 'a.b[0].c': what is wrong`` (other problems follow after "also").
"""

from __future__ import annotations

import dataclasses
import functools
import os
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from satisfice.errors import ConfigError

Loc = tuple[str | int, ...]


def display_path(path: Path | str) -> str:
    """``path`` relative to the working directory when it lies below it, else as given.

    Memoised per (path, working directory): rendering an eval's items names the task file once per item.
    """
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was removed
        return str(path)
    return _display_path(str(path), cwd)


@functools.lru_cache(maxsize=512)
def _display_path(text: str, cwd: str) -> str:
    try:
        absolute = Path(text).resolve()
        relative = absolute.relative_to(Path(cwd).resolve())
    except (ValueError, OSError):
        return text
    return str(relative) if not os.path.isabs(text) or str(relative) != "." else text


def field_path(loc: Loc) -> str:
    """``('candidates', 0, 'id')`` -> ``candidates[0].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a task file."""

    message: str
    line: int | None = None
    field: str | None = None


class ConfigFileError(ConfigError):
    """A config file that cannot be used; the message reads ``FILE, line N, field 'a.b': what is wrong``."""

    def __init__(self, message: str, *, file: str, line: int | None = None, field: str | None = None,
                 loc: Loc | None = None, root: yaml.Node | None = None, more: Sequence[Problem] = ()) -> None:
        if loc is not None:
            field = field if field is not None else field_path(loc) or None
            if line is None and root is not None:
                line = line_of(root, loc)
        self.file = file
        self.line = line
        self.field = field
        self.problems = [Problem(message, line, field), *more]
        text = _prefixed(file, Problem(message, line, field))
        if more:
            shown = "; ".join(_prefixed(None, p) for p in more[:3])
            extra = f" (and {len(more) - 3} more)" if len(more) > 3 else ""
            text += f"; also {shown}{extra}"
        super().__init__(text)

    @classmethod
    def from_problems(cls, problems: Sequence[tuple[Loc, str]], *, file: str, root: yaml.Node | None
                      ) -> ConfigFileError:
        """One error for several problems, ordered by line; the first is the headline."""
        located = [Problem(msg, line_of(root, loc) if root is not None else None, field_path(loc) or None)
                   for loc, msg in problems]
        located.sort(key=lambda p: (p.line is None, p.line or 0))
        first, *rest = located
        return cls(first.message, file=file, line=first.line, field=first.field, more=rest)


def _prefixed(file: str | None, problem: Problem) -> str:
    parts = [file] if file is not None else []
    if problem.line is not None:
        parts.append(f"line {problem.line}")
    if problem.field:
        parts.append(f"field {problem.field!r}")
    return f"{', '.join(parts)}: {problem.message}" if parts else problem.message


def read_yaml(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML safely, returning the data and its node tree; syntax errors and duplicate keys name the line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigFileError(f"invalid YAML: {problem}", file=where,
                            line=mark.line + 1 if mark is not None else None) from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"invalid YAML: {exc}", file=where) from None
    if root is not None:
        _no_duplicate_keys(root, (), where)
    return data, root


def _no_duplicate_keys(node: yaml.Node, loc: Loc, where: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                raise ConfigFileError(f"duplicate key {name!r}", file=where, line=key.start_mark.line + 1,
                                    field=field_path((*loc, name)))
            seen.add(name)
            _no_duplicate_keys(value, (*loc, name), where)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _no_duplicate_keys(item, (*loc, index), where)


def line_of(root: yaml.Node | None, loc: Loc) -> int | None:
    """1-based line of the deepest node on ``loc`` that exists (a mapping entry's key line)."""
    if root is None:
        return None
    node: yaml.Node = root
    line = root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _model_at(model: Any, loc: Loc) -> Any:
    """The pydantic model (or pydantic dataclass) that validates the mapping at ``loc``, if it can be found."""
    current = model
    keyed = False  # the previous field was a mapping of name -> model: this part is a key, not a field
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        fields = _fields_of(current)
        if fields is None or part not in fields:
            return None
        keyed = typing.get_origin(fields[part]) is dict
        current = _inner_model(fields[part])
    return current


def _fields_of(model: Any) -> dict[str, Any] | None:
    if isinstance(model, type) and issubclass(model, BaseModel):
        out: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            if info.exclude:
                continue
            out[info.alias or name] = info.annotation
        return out
    if isinstance(model, type) and dataclasses.is_dataclass(model):
        return {f.name: f.type for f in dataclasses.fields(model)}
    return None


def _inner_model(annotation: Any) -> Any:
    if _fields_of(annotation) is not None:
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated) or origin is not None:
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def _message(err: Any, model: Any) -> str:
    kind, msg, loc = err["type"], str(err["msg"]), tuple(err["loc"])
    if kind == "missing":
        return "required field is missing"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        fields = _fields_of(_model_at(model, loc[:-1]))
        known = f" (known: {', '.join(fields)})" if fields else ""
        return f"unknown field {loc[-1]!r}{known}"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    value = err.get("input")
    if isinstance(value, dict | list):
        return f"{msg} (got a {'mapping' if isinstance(value, dict) else 'list'})"
    return f"{msg} (got {value!r})"


def locate_errors(exc: ValidationError, where: str, root: yaml.Node | None, model: Any) -> ConfigFileError:
    """Turn a pydantic ValidationError over a whole document into one ConfigFileError with lines and field paths."""
    problems: list[tuple[Loc, str]] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if isinstance(p, int) or not _is_tag(p))
        problems.append((loc, _message({**err, "loc": loc}, model)))
    return ConfigFileError.from_problems(problems, file=where, root=root)


def _is_tag(part: str) -> bool:
    """Pydantic inserts type tags such as ``function-before[...]`` into union locations; they are not fields."""
    return "[" in part or part in ("str", "int", "float", "bool", "list", "dict", "none")


__all__ = ["ConfigFileError", "Problem", "display_path", "field_path", "line_of", "locate_errors", "read_yaml"]
