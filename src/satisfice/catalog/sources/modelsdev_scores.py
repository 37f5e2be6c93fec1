"""models.dev's ``models.json``: each model's ``[[benchmarks]]`` entries as score observations.

Shape: ``{"org/model": {"id", "name", "release_date", "open_weights", "benchmarks": [{"name", "score",
"metric", "harness", "variant", "dataset", "version", "source", "date"}]}}`` (the model TOML files of
models.dev, as its site publishes them at ``/models.json``). Only ``name`` and ``score`` are required.

Each entry becomes one observation. Who ran it is read from its source URL (``swebench.com`` ->
``swe-bench``, ``artificialanalysis.ai`` -> ``artificial-analysis``, ``epoch.ai`` -> ``epoch``...; the
Artificial Analysis indices that OpenRouter's benchmark pages show are ``artificial-analysis``'s); any
other source is the vendor's own claim (``vendor``). models.dev's ``harness`` is the agent scaffold
(``Claude Code``), kept with ``variant`` in the observation's effort. The benchmark slug is the entry's
name (and version) slugified, with the usual spellings of the built-in benchmarks mapped to theirs.
A score given as text (``"n/a"``) is skipped; a number outside 0-100 is kept only for non-percent metrics.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from satisfice.catalog.batch import BENCHMARKS, ImportBatch, slugify
from satisfice.catalog.rows import BenchmarkRow, ModelRow, ScoreRow
from satisfice.catalog.sources._cells import Where, boolean, load_json, model_slug, number, text
from satisfice.catalog.sources.registry import Peek, Source
from satisfice.errors import DataError

RUNNERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"//(www\.)?swebench\.com"), "swe-bench"),
    (re.compile(r"//(www\.)?artificialanalysis\.ai"), "artificial-analysis"),
    (re.compile(r"//(www\.)?epoch(ai)?\.(ai|org)"), "epoch"),
    (re.compile(r"//(www\.)?aider\.chat"), "aider"),
    (re.compile(r"//labs\.scale\.com|//scale\.com/leaderboard"), "scale"),
    (re.compile(r"//(www\.)?tbench\.ai"), "terminal-bench"),
    (re.compile(r"//(www\.)?lmarena\.ai"), "lmarena"),
    (re.compile(r"//openrouter\.ai"), "openrouter"),
)
"""Who ran a benchmark, by its source URL; everything else is vendor-reported."""

SLUGS = {"gpqa-diamond": "gpqa-diamond", "gpqa": "gpqa-diamond", "swe-bench-verified": "swe-bench-verified",
         "mmlu-pro": "mmlu-pro", "mmlu": "mmlu", "humaneval": "humaneval", "math-500": "math-500"}
_PERCENT = re.compile(r"percent|accuracy|resolved|pass|success|rate|correct", re.IGNORECASE)


def runner_of(source: str | None, benchmark: str = "") -> str:
    """Who ran it: Artificial Analysis for its own indices, else by source URL (:data:`RUNNERS`), else ``vendor``."""
    if benchmark.startswith("Artificial Analysis"):
        return "artificial-analysis"
    return next((name for pattern, name in RUNNERS if source and pattern.search(source)), "vendor")


def _slug(name: str, version: str | None) -> str:
    base = slugify(name)
    slug = SLUGS.get(base, base)
    return f"{slug}-{slugify(version)}" if version and slug not in BENCHMARKS else slug


def parse_modelsdev_scores(path: Path, *, as_of: dt.date | None = None,
                           ids: Callable[[str], str] | None = None) -> ImportBatch:
    """Parse a models.dev ``models.json`` into models and their benchmark observations (nothing is written)."""
    file = str(path)
    data, raw = load_json(path)
    if not isinstance(data, dict) or not data or not all(isinstance(v, dict) for v in data.values()):
        raise DataError("expected models.dev models.json: {\"org/model\": {\"name\", \"benchmarks\": [...]}}",
                        file=file, line=1)
    to_id = ids or (lambda raw_id: model_slug(raw_id.rsplit("/", 1)[-1]))
    models: dict[str, ModelRow] = {}
    scores: list[ScoreRow] = []
    names: dict[str, str] = {}
    for raw_id, entry in data.items():
        at = Where(file, item=f"model {raw_id!r}", json_text=raw, json_key=raw_id)
        benches = entry.get("benchmarks")
        if benches is None:
            continue
        if not isinstance(benches, list):
            raise at.error("'benchmarks' must be a list", "benchmarks")
        model_id = to_id(raw_id)
        if not model_id:
            continue
        models.setdefault(model_id, ModelRow(
            id=model_id, name=text(entry.get("name")) or raw_id,
            release_date=_date(entry.get("release_date")),
            open_weights=boolean(entry.get("open_weights"), at, "open_weights")))
        for i, b in enumerate(benches, start=1):
            scores.extend(_score(model_id, b, Where(file, item=f"model {raw_id!r} benchmark {i}", json_text=raw,
                                                    json_key=raw_id), names))
    if not scores:
        raise DataError("no benchmark entries found (has the format changed?)", file=file)
    return ImportBatch(source_file=file, models=list(models.values()), scores=scores,
                       benchmarks=[BENCHMARKS.get(s) or BenchmarkRow(s, n) for s, n in sorted(names.items())])


def _date(value: Any) -> dt.date | None:
    """A ``YYYY-MM-DD`` date; ``YYYY-MM`` (a month only) stays unknown."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return dt.date.fromisoformat(value.strip())
    return None


def _score(model_id: str, b: Any, where: Where, names: dict[str, str]) -> list[ScoreRow]:
    if not isinstance(b, dict):
        raise where.error("each benchmark entry must be an object")
    name = text(b.get("name"))
    if name is None:
        raise where.error("a benchmark entry needs a name", "name")
    raw = b.get("score")
    if isinstance(raw, str) and not re.fullmatch(r"\s*-?[0-9.]+\s*%?\s*", raw):
        return []  # "n/a" and the like: no figure given
    if isinstance(raw, str):
        raw = raw.strip().rstrip("%")
    metric = text(b.get("metric")) or ""
    percent = not metric or bool(_PERCENT.search(metric))
    value = number(raw, where, "score", minimum=None, maximum=100.0 if percent else None)
    if value is None:
        raise where.error("a benchmark entry needs a score", "score")
    source = text(b.get("source"))
    scaffold, variant = text(b.get("harness")), text(b.get("variant"))
    effort = "; ".join(x for x in (variant, f"scaffold {scaffold}" if scaffold else None,
                                   f"dataset {b['dataset']}" if text(b.get("dataset")) else None) if x)
    slug = _slug(name, text(b.get("version")))
    names.setdefault(slug, name + (f" {b['version']}" if text(b.get("version")) and slug not in BENCHMARKS else ""))
    return [ScoreRow(model_id=model_id, benchmark=slug, value=value, harness=runner_of(source, name), effort=effort,
                     date=_date(b.get("date")), source=(source or "models.dev") + " (via models.dev)")]


def _sniff(p: Peek) -> bool:
    data = p.json
    return isinstance(data, dict) and bool(data) and all(isinstance(v, dict) for v in data.values()) and any(
        isinstance(v.get("benchmarks"), list) for v in data.values())


SOURCE = Source("models-dev-scores", parse_modelsdev_scores, yields=("scores",), sniff=_sniff,
                default="https://models.dev/models.json",
                help="models.dev models.json: [[benchmarks]] score observations, with who ran them and the source URL")
