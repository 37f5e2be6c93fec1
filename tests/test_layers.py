"""The import contracts bind: the real tree keeps them, and a deliberate upward import breaks them.

Each violation is written into a temporary copy of the package (never the checkout) and ``lint-imports`` runs on
that copy with the repository's contracts.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run([str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    done = _lint(tree)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(("module", "imported"), [
    ("core.py", "satisfice.selfhost"),             # the ground reaching up
    ("catalog/rows.py", "satisfice.selfhost"),     # a data layer reaching a measuring one
    ("clients/usage.py", "satisfice.selfhost"),    # a client reaching up
    ("gateway/routes/config.py", "satisfice.web"),  # the gateway reaching the dashboard
    ("clients/http.py", "satisfice.store"),        # a client reading the store (a forbidden contract)
    ("gateway/money/ledger.py", "satisfice.gateway.http.app"),  # the gateway's money reaching its HTTP surface
    ("gateway/apis/relay.py", "satisfice.gateway.loop.shadow"),  # two independent parts of the gateway
])
def test_an_upward_import_breaks_the_contracts(tree: Path, module: str, imported: str) -> None:
    path = tree / "src" / "satisfice" / module
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + f"\n\ndef _violation() -> None:\n    import {imported}  # noqa\n",
                        encoding="utf-8")
        done = _lint(tree)
    finally:
        path.write_text(original, encoding="utf-8")
    assert done.returncode != 0, done.stdout[-3000:]
    assert "BROKEN" in done.stdout
