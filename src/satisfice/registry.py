"""Named extension points: a registry of entries that each declare a name, an options schema and a factory.

Each extension point (scorers, verifiers, catalog sources, model providers, routing policies) owns one
:class:`Registry`. Built-in entries are registered by importing the module named as ``builtins`` (on first
use, so creating a registry costs nothing); third-party packages add entries through the Python entry-point
group named as ``group`` (e.g. ``satisfice.scorers``). An entry point may name:

* an entry object (an instance of the registry's entry type), which is added under its own name;
* a module, whose import registers entries with the registry's :meth:`Registry.register` decorator (or, for
  a registry made with ``declared=True``, whose module-level values of the entry type are its entries).

An unknown name is a :class:`~satisfice.errors.ConfigError` that lists the known ones.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from satisfice.errors import ConfigError


class Named(Protocol):
    """What every registry entry has: the name it is looked up by."""

    @property
    def name(self) -> str:
        """The name users write in files and options."""
        ...


E = TypeVar("E", bound=Named)


class Registry(Generic[E]):
    """Entries of one kind by name; built-ins and entry-point plugins load on first lookup."""

    def __init__(self, kind: str, group: str, entry_type: type[E], *, builtins: tuple[str, ...] = (),
                 declared: bool = False) -> None:
        self.kind = kind
        self.group = group
        self.entry_type = entry_type
        self._builtins = builtins
        self._declared = declared
        self._entries: dict[str, E] = {}
        self._loaded = False
        self.plugin_errors: list[str] = []
        """Entry points that failed to load (``"name: reason"``); a broken plugin never breaks the built-ins."""
        self._origins: dict[str, str] = {}

    def add(self, entry: E, *, replace: bool = False) -> E:
        """Register ``entry``; a second entry with the same name is an error unless ``replace``."""
        if not isinstance(entry, self.entry_type):
            raise ConfigError(f"{self.kind} entry must be a {self.entry_type.__name__}, got {type(entry).__name__}")
        if entry.name in self._entries and not replace and self._entries[entry.name] is not entry:
            raise ConfigError(f"{self.kind} {entry.name!r} is registered twice")
        self._entries[entry.name] = entry
        return entry

    def register(self, name: str, **fields: Any) -> Callable[[Any], Any]:
        """Decorator: ``@registry.register("name", options=Model)`` over a factory adds an entry for it."""

        def wrap(factory: Any) -> Any:
            self.add(self.entry_type(name=name, factory=factory, **fields))  # type: ignore[call-arg]
            return factory

        return wrap

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self._builtins:
            self._add_declared(importlib.import_module(module))
        from importlib.metadata import entry_points

        for point in entry_points(group=self.group):
            before = set(self._entries)
            try:
                value = point.load()
            except Exception as exc:  # a broken plugin is reported by name, never fatal for the others
                self.plugin_errors.append(f"{point.name}: {type(exc).__name__}: {exc}")
                continue
            if isinstance(value, self.entry_type):
                try:
                    self.add(value)
                except ConfigError as exc:
                    self.plugin_errors.append(f"{point.name}: {exc}")
            elif isinstance(value, types.ModuleType):
                try:
                    self._add_declared(value)
                except ConfigError as exc:
                    self.plugin_errors.append(f"{point.name}: {exc}")
            else:
                self.plugin_errors.append(f"{point.name}: {point.value} is neither a {self.entry_type.__name__} "
                                          "nor a module")
            for name in set(self._entries) - before:
                self._origins[name] = f"entry point {point.name} = {point.value}"

    def _add_declared(self, module: types.ModuleType) -> None:
        """Add the module-level values of the entry type, in the order the module defines them."""
        if self._declared:
            for value in list(vars(module).values()):
                if isinstance(value, self.entry_type):
                    self.add(value)

    def origin(self, name: str) -> str:
        """Where entry ``name`` came from: ``built-in``, or the entry point that registered it."""
        self._load()
        return self._origins.get(name, "built-in")

    def names(self) -> tuple[str, ...]:
        """Every registered name, built-ins first in registration order."""
        self._load()
        return tuple(self._entries)

    def get(self, name: str) -> E:
        """The entry called ``name``; ConfigError listing the known names when there is none."""
        self._load()
        entry = self._entries.get(name)
        if entry is None:
            raise ConfigError(self.unknown(name))
        return entry

    def find(self, name: str) -> E | None:
        """The entry called ``name``, or None."""
        self._load()
        return self._entries.get(name)

    def parse_options(self, name: str, raw: dict[str, Any]) -> Any:
        """``raw`` validated against the options model of entry ``name``; ValueError naming the first problem."""
        from pydantic import ValidationError

        entry = self.find(name)
        if entry is None:
            raise ValueError(self.unknown(name))
        try:
            return entry.options.model_validate(raw)  # type: ignore[attr-defined]
        except ValidationError as exc:
            raise ValueError(f"{self.kind} {name!r}: {first_error(exc)}") from None

    def unknown(self, name: str) -> str:
        """The message for an unknown name: ``unknown scorer 'x' (known: a, b, c)``."""
        broken = f"; plugins that failed to load: {'; '.join(self.plugin_errors)}" if self.plugin_errors else ""
        return f"unknown {self.kind} {name!r} (known: {', '.join(self.names())}){broken}"

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[E]:
        self._load()
        return iter(list(self._entries.values()))

    def remove(self, name: str) -> None:
        """Forget the entry called ``name`` (tests, plugins being unloaded)."""
        self._entries.pop(name, None)

    def reset_plugins(self) -> None:
        """Forget entry-point plugins so the next lookup reads the entry points again (tests, plugin installs)."""
        self._loaded = False


def first_error(exc: Any) -> str:
    """A pydantic ValidationError's first problem as ``field: message`` (plus how many more there are)."""
    errors = exc.errors()
    err = errors[0]
    where = ".".join(str(p) for p in err["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where + ': ' if where else ''}{str(err['msg']).removeprefix('Value error, ')}{more}"


__all__ = ["Named", "Registry", "first_error"]
