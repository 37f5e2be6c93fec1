"""`satisfice plugins`: every extension point's entries (built-in or from an entry point) and broken plugins."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from satisfice.cli.common import Json, console, err_console, print_json

GROUPS = (
    ("scorer", "satisfice.tasks.scorer_registry", "SCORERS"),
    ("verifier", "satisfice.gateway.routes.verifier_registry", "VERIFIERS"),
    ("source", "satisfice.catalog.sources.registry", "SOURCES"),
    ("provider", "satisfice.clients.providers", "PROVIDERS"),
    ("routing policy", "satisfice.gateway.routes.policies", "POLICIES"),
)
"""The registries, in the order shown (each module is imported only when this command runs)."""


def plugins(as_json: Json = False) -> None:
    """List scorers, verifiers, catalog sources, providers and routing policies, and where each came from."""
    import importlib

    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for kind, module, name in GROUPS:
        registry = getattr(importlib.import_module(module), name)
        rows += [{"kind": kind, "name": e.name, "group": registry.group, "origin": registry.origin(e.name),
                  "help": getattr(e, "help", "")} for e in registry]
        errors += [f"{registry.group}: {problem}" for problem in registry.plugin_errors]
    if as_json:
        print_json({"entries": rows, "plugin_errors": errors})
        return
    table = Table("kind", "name", "from", "what")
    for r in rows:  # names and texts are shown as written: "[[benchmarks]]" or a plugin's "[red]" is not markup
        table.add_row(*(escape(str(r[k])) for k in ("kind", "name", "origin", "help")))
    console.print(table)
    for problem in errors:
        err_console.print(f"plugin failed to load: {escape(problem)}", highlight=False)


def register(root: typer.Typer) -> None:
    """Attach ``satisfice plugins`` to the root app."""
    root.command("plugins")(plugins)
