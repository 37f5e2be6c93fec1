"""Build a models.dev ``api.json`` subset from a models.dev checkout (its provider and model TOML files).

models.dev publishes api.json by merging each provider's ``models/*.toml`` with the shared
``models/<id>.toml`` named by ``base_model``; this script does the same for a few providers, so the
test snapshot is the real data in the real shape. Usage::

    python tests/data/pipeline/make_modelsdev_api.py CHECKOUT OUT.json [PROVIDER ...]
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

DEFAULT = ["anthropic", "openai", "google", "deepseek", "moonshotai", "alibaba", "zhipuai", "mistral", "xai",
           "minimax", "fireworks-ai"]
INHERIT_SKIP = {"id", "benchmarks", "license", "links", "weights"}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def build(root: Path, providers: list[str]) -> dict[str, Any]:
    shared = {str(p.relative_to(root / "models"))[:-5]: load(p) for p in (root / "models").rglob("*.toml")}
    api: dict[str, Any] = {}
    for pid in providers:
        pdir = root / "providers" / pid
        provider = load(pdir / "provider.toml")
        models: dict[str, Any] = {}
        for path in sorted((pdir / "models").rglob("*.toml")):
            if not path.exists():
                continue  # a dangling link in the checkout
            mid = str(path.relative_to(pdir / "models"))[:-5]
            toml = load(path)
            if "base_model" in toml:
                base = {k: v for k, v in shared[toml.pop("base_model")].items() if k not in INHERIT_SKIP}
                omit = toml.pop("base_model_omit", [])
                toml = merge(base, toml)
                for dotted in omit:
                    *parents, last = dotted.split(".")
                    node = toml
                    for part in parents:
                        node = node.get(part, {})
                    node.pop(last, None)
            toml.pop("experimental", None)
            toml.pop("reasoning_options", None)
            models[mid] = {"id": mid, **toml}
        api[pid] = {"id": pid, **{k: v for k, v in provider.items() if k in ("name", "npm", "api", "doc", "env")},
                    "models": models}
    return api


if __name__ == "__main__":
    root, out, *chosen = sys.argv[1:]
    data = build(Path(root), chosen or DEFAULT)
    Path(out).write_text(json.dumps(data, indent=1, sort_keys=False, default=str) + "\n", encoding="utf-8")
    print(out, sum(len(p["models"]) for p in data.values()), "models")
