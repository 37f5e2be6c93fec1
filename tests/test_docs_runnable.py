"""The docs cannot drift from the CLI: every shell block marked runnable in the README and docs/ runs as printed.

A block is runnable when the line before its opening fence is ``<!-- runnable -->``. Each runs with bash
(``-euo pipefail``) from the repository root on a fresh SATISFICE_HOME, offline, with this interpreter's
environment first on PATH (so ``satisfice`` is the checkout's).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MARK = "<!-- runnable -->"
FENCE = re.compile(r"^```(?:bash|sh|console)?\s*$")


def runnable_blocks(path: Path) -> list[tuple[int, str]]:
    """(line number, script) of each block marked runnable in one Markdown file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            raise AssertionError(f"{path}:{i + 1}: {MARK} must be followed by a fenced block")
        end = next(j for j in range(i + 2, len(lines)) if FENCE.match(lines[j]))
        blocks.append((i + 2, "\n".join(lines[i + 2:end])))
    return blocks


DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
CASES = [(p, n, s) for p in DOCS for n, s in runnable_blocks(p)]


def test_readme_is_short_and_has_a_runnable_tour() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 250
    assert len([c for c in CASES if c[0].name == "README.md"]) >= 2


@pytest.mark.parametrize(("path", "line", "script"), CASES,
                         ids=[f"{p.relative_to(REPO)}:{n}" for p, n, _ in CASES])
def test_runnable_block(path: Path, line: int, script: str, tmp_path: Path) -> None:
    env = {**os.environ, "SATISFICE_HOME": str(tmp_path / "home"), "NO_COLOR": "1", "COLUMNS": "160",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("SATISFICE_DB", None)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{path.name}:{line} failed:\n{script}\n--- stdout\n{done.stdout[-3000:]}" \
                                 f"\n--- stderr\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
