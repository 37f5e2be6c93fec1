"""Build a models.dev ``models.json`` subset from a models.dev checkout (its ``models/**/*.toml`` files).

models.dev publishes ``/models.json`` as ``{"org/model": model TOML with "id"}`` for every file under
``models/``; this script does the same for the models of a few organizations that carry ``[[benchmarks]]``,
so the test snapshot is the real data in the real shape. Usage::

    python tests/data/pipeline/make_modelsdev_models.py CHECKOUT OUT.json [ORG ...]
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

DEFAULT = ["anthropic", "openai", "google", "deepseek", "moonshotai", "alibaba", "zhipuai", "mistral", "minimax"]


def build(root: Path, orgs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for org in orgs:
        for path in sorted((root / "models" / org).rglob("*.toml")):
            with path.open("rb") as fh:
                model = tomllib.load(fh)
            if not model.get("benchmarks"):
                continue
            model_id = str(path.relative_to(root / "models"))[:-5]
            out[model_id] = {"id": model_id, **model}
    return out


if __name__ == "__main__":
    checkout, target, *chosen = sys.argv[1:]
    data = build(Path(checkout), chosen or DEFAULT)
    Path(target).write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(data)} models")
