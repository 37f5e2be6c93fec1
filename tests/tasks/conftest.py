from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from task_helpers import BASE_TASK, write_jsonl


@pytest.fixture
def make_task(tmp_path: Path) -> Callable[..., Path]:
    """Write a task file (dedented text) and, unless told otherwise, a 10-line dataset next to it."""

    def make(text: str = BASE_TASK, *, rows: list[dict[str, Any]] | None = None, name: str = "task.yaml") -> Path:
        if rows is None:
            rows = [{"review": f"review {i}", "label": "positive" if i % 2 else "negative"} for i in range(1, 11)]
        write_jsonl(tmp_path / "data.jsonl", rows)
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return make
