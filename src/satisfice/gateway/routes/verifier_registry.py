"""The verifier registry: each check a route may run on an answer declares its name, options and factory.

A third-party verifier is one file: an options model (pydantic) and a factory ``(options, context) ->
Verifier``, registered with ``@VERIFIERS.register("name", options=..., shorthand="field")`` in a module
named by a ``satisfice.verifiers`` entry point (or an entry point naming a :class:`VerifierEntry`). Configs
then write ``verifiers: [{name: {...options}}]``, or ``{name: value}`` when the entry has a ``shorthand``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from satisfice.registry import Registry


class Verifier(Protocol):
    """One check on an answer's text."""

    @property
    def name(self) -> str:
        """Shown in reasons and metrics."""
        ...

    async def check(self, text: str, payload: dict[str, Any]) -> str | None:
        """None when the answer passes; else why it fails."""
        ...


class NoOptions(BaseModel):
    """A verifier without options."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class VerifierContext:
    """What a factory may need beyond its options."""

    route: str
    """The route's name, for error messages."""
    scorer: Any = None
    """The route's task scorer (from ``task_file``), when it has one."""
    base_dir: Path = Path(".")
    """The gateway config's folder (``module:function`` references resolve against it)."""


@dataclass(frozen=True)
class VerifierEntry:
    """One verifier kind.

    Attributes:
        name: The key that selects it in a route's ``verifiers`` list.
        factory: ``(options, context) -> Verifier``.
        options: The pydantic model its options are validated against.
        shorthand: The option a non-mapping value fills (``{regex: "^a$"}`` sets ``pattern``); None: a
            non-mapping value (``true``) means no options.
        needs_scorer: Whether it needs the route's ``task_file`` scorer.
        help: One line for listings.
    """

    name: str
    factory: Callable[[Any, VerifierContext], Verifier]
    options: type[BaseModel] = NoOptions
    shorthand: str | None = None
    needs_scorer: bool = False
    help: str = ""


VERIFIERS: Registry[VerifierEntry] = Registry("verifier", "satisfice.verifiers", VerifierEntry,
                                              builtins=("satisfice.gateway.routes.verifiers",))
"""Every verifier kind by name (built-ins, then entry-point plugins)."""


def expand(kind: str, arg: Any) -> dict[str, Any]:
    """The options for ``{kind: arg}``: a mapping as given, else the shorthand option set to ``arg``."""
    entry = VERIFIERS.find(kind)
    if entry is None:
        raise ValueError(VERIFIERS.unknown(kind))
    if isinstance(arg, dict):
        return dict(arg)
    if entry.shorthand is not None:
        return {entry.shorthand: arg}
    return {}


__all__ = ["VERIFIERS", "NoOptions", "Verifier", "VerifierContext", "VerifierEntry", "expand"]
