"""One dataset item (:class:`Sample`): what templates, scorers and the runner pass around.

Its own module, below datasets, templates and scorers, so that none of them needs another to name an item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sample:
    """One dataset item: its stable id, the fields its templates see, and its answer (None when there is none)."""

    id: str
    fields: dict[str, Any]
    target: Any | None = None
    where: str = field(default="", compare=False)
    """Where the item comes from, for messages, e.g. ``data.jsonl, line 12``."""


__all__ = ["Sample"]
