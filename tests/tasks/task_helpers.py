from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BASE_TASK = """\
name: demo
description: a small test task
dataset:
  path: data.jsonl
  fields: {text: review, target: label}
prompt:
  user: "Review: {{ text }}"
  max_tokens: 3
scorer:
  type: normalized
threshold: accuracy >= 0.8 at 95% confidence
candidates:
  - local/smollm2-135m
  - id: local/gemma3-270m
    max_concurrency: 2
"""

def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
