"""Install a one-file plugin package for a test: a module plus a dist-info whose entry_points.txt names it."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from satisfice.catalog.sources.registry import SOURCES
from satisfice.clients.providers import PROVIDERS
from satisfice.gateway.routes.policies import POLICIES
from satisfice.gateway.routes.verifier_registry import VERIFIERS
from satisfice.tasks.scorer_registry import SCORERS

REGISTRIES = {"satisfice.scorers": SCORERS, "satisfice.verifiers": VERIFIERS, "satisfice.sources": SOURCES,
              "satisfice.policies": POLICIES, "satisfice.providers": PROVIDERS}

Install = Callable[[str, str, str, str], None]


@pytest.fixture
def install_plugin(tmp_path: Path) -> Iterator[Install]:
    """``install(group, entry_name, module_name, source)``: write the module and register it via entry points."""
    site = tmp_path / "site"
    site.mkdir()
    sys.path.insert(0, str(site))
    added: list[tuple[str, str, str]] = []

    def install(group: str, name: str, module: str, source: str) -> None:
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{module}_plugin-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}-plugin\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[{group}]\n{name} = {module}\n", encoding="utf-8")
        importlib.invalidate_caches()
        REGISTRIES[group].reset_plugins()
        added.append((group, name, module))

    yield install
    sys.path.remove(str(site))
    importlib.invalidate_caches()
    for group, name, module in added:
        REGISTRIES[group].remove(name)
        REGISTRIES[group].reset_plugins()
        sys.modules.pop(module, None)
