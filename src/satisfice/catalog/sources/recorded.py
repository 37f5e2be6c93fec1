"""Recorded outcomes (the wide CSV of RouterBench): per model, the accuracy and measured cost of one benchmark run.

One row per item; for each model a column ``<model>`` with its score in [0, 1] and a column
``<model>|total_cost`` with the USD that item cost; other columns are carried along. Each model
becomes one score observation: value = mean score x 100, ``stderr`` = its binomial standard error,
``items`` = the items it answered, ``cost_per_task`` = its mean cost per item (what the run cost as
measured, at the prices the runner paid). The benchmark is named by the file (``arc_challenge_train_
outcomes.csv`` -> ``arc-challenge``) unless given; the harness is ``routerbench`` for RouterBench's
files (they carry ``oracle_model_to_route_to``), else ``recorded``. Model ids follow the identity rule.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from pathlib import Path

from satisfice.catalog.batch import ImportBatch, slugify
from satisfice.catalog.rows import BenchmarkRow, ModelRow, ScoreRow
from satisfice.catalog.sources._cells import Where, csv_rows, number
from satisfice.catalog.sources.registry import Ids, Peek, Source
from satisfice.errors import DataError

COST = "|total_cost"
_SPLIT = re.compile(r"_(?:train|test|val|dev)?_?(?:outcomes|with_responses)?$")
_NAMES = {"arc-challenge": "ARC-Challenge", "winograde": "WinoGrande", "mbpp": "MBPP"}


def benchmark_of(path: Path) -> str:
    """The benchmark slug a recorded-outcomes file name gives (``mbpp_train_outcomes.csv`` -> ``mbpp``)."""
    return slugify(_SPLIT.sub("", path.stem)) or slugify(path.stem)


def parse_recorded(path: Path, *, benchmark: str | None = None, harness: str | None = None,
                   ids: Callable[[str], str] | None = None) -> ImportBatch:
    """Parse a recorded-outcomes CSV into one score observation per model (nothing is written)."""
    file = str(path)
    header, rows = csv_rows(path)
    models = [c for c in header if f"{c}{COST}" in header]
    if not models:
        raise DataError("no '<model>' and '<model>|total_cost' column pairs: not a recorded-outcomes file",
                        file=file, line=1)
    slug = benchmark or benchmark_of(path)
    who = harness or ("routerbench" if "oracle_model_to_route_to" in header else "recorded")
    scores: dict[str, list[float]] = {m: [] for m in models}
    costs: dict[str, list[float]] = {m: [] for m in models}
    for line, cells in rows:
        where = Where(file, line=line)
        for m in models:
            score = number(cells.get(m), where, m, maximum=1.0)
            cost = number(cells.get(f"{m}{COST}"), where, f"{m}{COST}")
            if (score is None) != (cost is None):
                raise where.error(f"{m}: a score needs its cost and a cost its score", m if score is None else
                                  f"{m}{COST}")
            if score is not None and cost is not None:
                scores[m].append(score)
                costs[m].append(cost)
    to_id = ids or slugify
    out_models: list[ModelRow] = []
    out_scores: list[ScoreRow] = []
    for m in models:
        n = len(scores[m])
        model_id = to_id(m)
        if n == 0 or not model_id:
            continue
        p = sum(scores[m]) / n
        out_models.append(ModelRow(id=model_id, name=m.rsplit("/", 1)[-1]))
        out_scores.append(ScoreRow(
            model_id=model_id, benchmark=slug, value=100 * p, harness=who, effort="",
            source=f"recorded outcomes {path.name} ({who}), column {m!r}: {n} items",
            stderr=100 * math.sqrt(p * (1 - p) / n), items=n, cost_per_task=sum(costs[m]) / n))
    if not out_scores:
        raise DataError("no model has a recorded outcome", file=file)
    name = _NAMES.get(slug, slug)
    return ImportBatch(source_file=file, models=out_models, scores=out_scores, benchmarks=[BenchmarkRow(slug, name)])


def _sniff(p: Peek) -> bool:
    return not p.is_json and any(c.endswith(COST) for c in p.header)


def _parse(path: Path, *, as_of: dt.date, ids: Ids | None) -> ImportBatch:
    from satisfice.catalog.identity import Identity

    return parse_recorded(path, ids=ids or Identity.load().canonical)


SOURCE = Source("recorded", _parse, yields=("scores",), sniff=_sniff,
                help="recorded outcomes (RouterBench's wide CSV): accuracy and measured cost per task of each model")
