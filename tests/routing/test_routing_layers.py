"""The import-linter contract of routing: a deliberate import of the gateway from routing breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(package_root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_routing_importing_the_gateway_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "satisfice", tmp_path / "satisfice",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "satisfice" / "routing" / "leak.py").write_text('"""Leak."""\n\nimport satisfice.gateway.http.app\n')
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "routing knows outcomes and prompts, never HTTP" in result.stdout
    assert "satisfice.routing.leak -> satisfice.gateway.http.app" in result.stdout
