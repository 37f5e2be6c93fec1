"""The scorer registry: each scorer type declares its name, options model and factory in one place.

A third-party scorer is one file: define an options model (or use :class:`NoOptions`) and a factory, then
either decorate the factory with ``@SCORERS.register("name", options=...)`` in a module named by a
``satisfice.scorers`` entry point, or point the entry point at a :class:`ScorerEntry`. Task files then use
``scorer: {type: name, options: {...}}`` and the options are validated against the declared model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from satisfice.core import ModelClient, Price
from satisfice.pyref import is_ref
from satisfice.registry import Registry
from satisfice.tasks.scorer_options import NoOptions

if TYPE_CHECKING:
    from satisfice.tasks.scoring import Scorer


@dataclass(frozen=True)
class ScorerContext:
    """What a factory may need beyond its options: the task's folder and, for judges, the judge's client."""

    base_dir: Path
    judge: ModelClient | None = None
    judge_price: Price | None = None


@dataclass(frozen=True)
class ScorerEntry:
    """One scorer type.

    Attributes:
        name: The ``scorer.type`` that selects it.
        factory: ``(options, context) -> Scorer``; ``options`` is an instance of ``options``.
        options: The pydantic model its ``scorer.options`` are validated against (unknown keys are errors).
        help: One line for listings.
        binary: Whether its scores are only ever 0 or 1 (a bool, or a function of the parsed options).
        needs_reference: Whether it compares with the item's target (a bool, None when it cannot be known
            in advance, or a function of the parsed options).
    """

    name: str
    factory: Callable[[Any, ScorerContext], Scorer]
    options: type[BaseModel] = NoOptions
    help: str = ""
    binary: bool | Callable[[Any], bool] = False
    needs_reference: bool | None | Callable[[Any], bool | None] = True


SCORERS: Registry[ScorerEntry] = Registry("scorer", "satisfice.scorers", ScorerEntry,
                                          builtins=("satisfice.tasks.scorers",))
"""Every scorer type by name (built-ins, then entry-point plugins)."""


def check_kind(kind: str) -> str:
    """Return ``kind`` when it is a registered scorer or ``module:function``; ValueError naming the choices."""
    if is_ref(kind) or kind in SCORERS:
        return kind
    if ":" in kind:
        raise ValueError(f"custom scorer {kind!r} must look like 'module:function' (e.g. 'my_scorers:score')")
    raise ValueError(SCORERS.unknown(kind).replace(")", ", or 'module:function')", 1))


def parse_options(kind: str, options: dict[str, Any]) -> Any:
    """Validate ``options`` for scorer ``kind``; custom ``module:function`` scorers get them unchanged.

    Raises:
        pydantic.ValidationError: When an option is unknown or has a wrong value.
    """
    entry = SCORERS.find(kind)
    if entry is None:
        return dict(options)
    return entry.options.model_validate(options)


def _flag(value: Any, options: Any) -> Any:
    return value(options) if callable(value) else value


def needs_reference(kind: str, options: Any) -> bool | None:
    """Whether scorer ``kind`` with parsed ``options`` reads the item's target (None: only its code knows)."""
    entry = SCORERS.find(kind)
    return None if entry is None else _flag(entry.needs_reference, options)


def is_binary(kind: str, options: Any) -> bool:
    """Whether scorer ``kind`` with parsed ``options`` only ever scores 0 or 1 (custom scorers: not known)."""
    entry = SCORERS.find(kind)
    return entry is not None and bool(_flag(entry.binary, options))


__all__ = ["SCORERS", "ScorerContext", "ScorerEntry", "check_kind", "is_binary", "needs_reference",
           "parse_options"]
