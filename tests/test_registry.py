"""The registry behind every extension point: lookups, unknown names, duplicates, broken plugins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from satisfice.errors import ConfigError
from satisfice.registry import Registry


@dataclass(frozen=True)
class Entry:
    name: str
    factory: Any = None


def test_unknown_names_list_the_known_ones_and_duplicates_are_refused() -> None:
    reg: Registry[Entry] = Registry("widget", "satisfice.test-widgets", Entry)
    reg.add(Entry("a"))

    @reg.register("b")
    def make() -> str:
        return "b"

    assert reg.names() == ("a", "b") and reg.get("b").factory is make and "a" in reg
    with pytest.raises(ConfigError, match=r"unknown widget 'c' \(known: a, b\)"):
        reg.get("c")
    with pytest.raises(ConfigError, match="registered twice"):
        reg.add(Entry("a"))
    with pytest.raises(ConfigError, match="must be a Entry"):
        reg.add("a")  # type: ignore[arg-type]


def test_a_broken_plugin_is_reported_and_never_breaks_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    class Point:
        def __init__(self, name: str, value: Any) -> None:
            self.name, self.value, self._value = name, f"pkg:{name}", value

        def load(self) -> Any:
            if isinstance(self._value, Exception):
                raise self._value
            return self._value

    points = [Point("boom", ImportError("no module named boom")), Point("good", Entry("good")),
              Point("twice", Entry("good")), Point("odd", 42)]
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: points if group == "g" else [])
    reg: Registry[Entry] = Registry("widget", "g", Entry)
    assert reg.names() == ("good",)
    assert reg.plugin_errors[0] == "boom: ImportError: no module named boom"
    assert "registered twice" in reg.plugin_errors[1] and "neither a Entry nor a module" in reg.plugin_errors[2]
    with pytest.raises(ConfigError, match="plugins that failed to load: boom: ImportError"):
        reg.get("boom")


def test_options_are_validated_against_the_entry_model() -> None:
    from pydantic import BaseModel

    class Options(BaseModel):
        size: int

    @dataclass(frozen=True)
    class WithOptions:
        name: str
        factory: Any = None
        options: type[BaseModel] = Options

    reg: Registry[WithOptions] = Registry("gadget", "satisfice.test-gadgets", WithOptions)
    reg.add(WithOptions("g"))
    assert reg.parse_options("g", {"size": 3}).size == 3
    with pytest.raises(ValueError, match="gadget 'g': size: Input should be a valid integer"):
        reg.parse_options("g", {"size": "big"})
    with pytest.raises(ValueError, match="unknown gadget 'h'"):
        reg.parse_options("h", {})
