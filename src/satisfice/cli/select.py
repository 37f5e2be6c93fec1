"""`satisfice select` commands."""

from __future__ import annotations

import typer


def register(root: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
