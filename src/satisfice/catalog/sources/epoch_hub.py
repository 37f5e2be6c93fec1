"""Epoch AI's Benchmarking Hub export (``benchmark_data.zip``, CC BY 4.0): one CSV per benchmark.

Epoch's own runs (``gpqa_diamond.csv``...) give per row a ``Model version`` whose suffix names the
reasoning effort (``o3-2025-04-16_high``), a score in [0, 1] (``Best score (across scorers)``, or
``mean_score``), its ``stderr`` when known and ``Started at``, the run's start. Files named
``*_external.csv`` copy other leaderboards; their rows are kept as ``third-party`` observations, scored
by the first known score column (a file whose values all lie in [0, 1] is scaled to per cent).
Other files (model or benchmark metadata) carry no ``Model version`` and are skipped.

The document may be the zip or one of its CSV files; the benchmark slug is the CSV's name
(``gpqa_diamond.csv`` -> ``gpqa-diamond``, ``swe_bench_verified.csv`` -> ``swe-bench-verified``).
A file with ``Model version`` but no score column is format drift, an error naming it.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from satisfice.catalog.batch import BENCHMARKS, ImportBatch, slugify
from satisfice.catalog.rows import BenchmarkRow, ModelRow, ScoreRow
from satisfice.catalog.sources._cells import Where, csv_rows, number
from satisfice.catalog.sources.registry import Ids, Peek, Source
from satisfice.errors import DataError

RUN_SCORES = ("Best score (across scorers)", "mean_score")
EXTERNAL_SCORES = ("Best score (across scorers)", "mean_score", "Score", "Accuracy", "Percent correct",
                   "Accuracy mean", "Average", "Global average", "Overall accuracy", "% Resolved", "Pass@1 score",
                   "EM", "Challenge score")
EFFORTS = ("minimal", "none", "low", "medium", "high", "xhigh", "max", "unknown")
_EFFORT = re.compile(r"^(?P<model>.+?)_(?P<effort>" + "|".join(EFFORTS) + r"|\d+K)$", re.IGNORECASE)
MAX_MEMBERS = 500
"""More CSV files than this in one zip is not an Epoch export."""


def split_effort(version: str) -> tuple[str, str]:
    """``o3-2025-04-16_high`` -> (``o3-2025-04-16``, ``high``); no known suffix -> (version, '')."""
    m = _EFFORT.match(version.strip())
    if m is None:
        return version.strip(), ""
    effort = m["effort"].lower()
    return m["model"], "" if effort == "unknown" else effort


def benchmark_of(name: str) -> tuple[str, bool]:
    """The benchmark slug of a member name, and whether it is an ``_external`` copy of another leaderboard."""
    stem = Path(name).stem
    external = stem.endswith("_external")
    return slugify(stem.removesuffix("_external").replace("_", "-")), external


def parse_epoch_hub(path: Path, *, ids: Callable[[str], str] | None = None) -> ImportBatch:
    """Parse ``benchmark_data.zip`` (or one of its CSVs) into score observations (nothing is written)."""
    to_id = ids or slugify
    models: dict[str, ModelRow] = {}
    scores: list[ScoreRow] = []
    slugs: set[str] = set()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory(prefix="satisfice-epoch-") as tmp:
            members = [n for n in archive.namelist() if n.lower().endswith(".csv") and not n.startswith("__MACOSX")]
            if not members or len(members) > MAX_MEMBERS:
                raise DataError(f"expected Epoch's benchmark CSVs in the zip, found {len(members)}", file=str(path))
            for member in members:
                target = Path(tmp) / Path(member).name
                target.write_bytes(archive.read(member))
                try:
                    _file(target, Path(member).name, to_id, models, scores, slugs)
                except DataError as exc:
                    raise DataError(str(exc).replace(str(target), f"{path}!{member}")) from None
    else:
        _file(path, path.name, to_id, models, scores, slugs)
    if not scores:
        raise DataError("no Epoch benchmark rows found (a 'Model version' and a score column; has the format "
                        "changed?)", file=str(path))
    return ImportBatch(source_file=str(path), models=list(models.values()), scores=scores,
                       benchmarks=[BENCHMARKS.get(s) or BenchmarkRow(s, s) for s in sorted(slugs)])


def _file(path: Path, name: str, to_id: Callable[[str], str], models: dict[str, ModelRow], scores: list[ScoreRow],
          slugs: set[str]) -> None:
    header, rows = csv_rows(path)
    if "Model version" not in header:
        return  # model or benchmark metadata, not results
    slug, external = benchmark_of(name)
    column = next((c for c in (EXTERNAL_SCORES if external else RUN_SCORES) if c in header), None)
    if column is None:
        raise DataError(f"no score column (one of {', '.join(RUN_SCORES if not external else EXTERNAL_SCORES[:4])}"
                        f"...): has Epoch's format changed?", file=str(path), line=1)
    found: list[ScoreRow] = []
    for line, cells in rows:
        where = Where(str(path), line=line)
        version = (cells.get("Model version") or "").strip()
        value = number(cells.get(column), where, column, minimum=None)
        if not version or value is None:
            continue
        model, effort = split_effort(version)
        model_id = to_id(model)
        if not model_id:
            continue
        stderr = number(cells.get("stderr"), where, "stderr") if "stderr" in header else None
        started = (cells.get("Started at") or "").strip()[:10]
        day = dt.date.fromisoformat(started) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", started) else None
        models.setdefault(model_id, ModelRow(id=model_id, name=model))
        found.append(ScoreRow(model_id=model_id, benchmark=slug, value=value, stderr=stderr, effort=effort, date=day,
                              harness="third-party" if external else "epoch",
                              source=f"Epoch AI Benchmarking Hub, {name} ({column}), CC BY 4.0"))
    found = list({(s.model_id, s.effort, s.date): s for s in found}.values())  # two runs in one day: the later
    percent = slug not in BENCHMARKS or BENCHMARKS[slug].scale == "percent"
    if percent and (not external or all(0 <= s.value <= 1 for s in found)):
        found = [_scaled(s, 100.0) for s in found]
    for s in found:
        if percent and not 0 <= s.value <= 100:
            raise DataError(f"{s.model_id}: score {s.value:g} outside 0-100 after scaling", file=str(path),
                            field=column)
    scores.extend(found)
    slugs.add(slug)


def _scaled(s: ScoreRow, factor: float) -> ScoreRow:
    return replace(s, value=s.value * factor, stderr=s.stderr * factor if s.stderr is not None else None)


__all__ = ["EFFORTS", "benchmark_of", "parse_epoch_hub", "split_effort"]


def _sniff(p: Peek) -> bool:
    if p.members is not None:  # benchmark_data.zip
        return any(n.lower().endswith(".csv") for n in p.members)
    return "Model version" in p.header


def _parse(path: Path, *, as_of: dt.date, ids: Ids | None) -> ImportBatch:
    from satisfice.catalog.identity import Identity

    return parse_epoch_hub(path, ids=ids or Identity.load().canonical)


SOURCE = Source("epoch-benchmarks", _parse, yields=("scores",), sniff=_sniff,
                default="https://epoch.ai/data/benchmark_data.zip", format="epoch-hub",
                help="Epoch AI Benchmarking Hub: Epoch's own runs (effort, stderr, date) and copied leaderboards "
                     "(benchmark_data.zip or one of its CSVs)")
