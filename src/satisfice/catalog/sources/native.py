"""satisfice's own catalog format (CSV, or JSON with the same keys): one row per model and price point.

Every row names a model; it may also carry one dated offer and any number of scores. A model
may appear on several rows (one per provider or price change); its facts are merged, and two
rows that give the same fact different values are an error. An empty cell means *unknown*,
never zero.

Columns (only ``name`` is required; the order does not matter):

==========================  ========================================================================
``id``                      model id (lowercase slug); default: the name slugified (``+`` -> ``plus``)
``name``                    display name
``organization``            who made the model
``open_weights``            ``true`` / ``false``
``licence``                 licence of the weights
``params_total_b``          total parameters, billions
``params_active_b``         active parameters per token (mixture of experts), billions
``release_date``            ``YYYY-MM-DD``
``reasoning``               ``true`` for reasoning models (empty = false)
``provider``                who sells at this price (e.g. ``openai``); needed when a price is given
``effective_date``          first day this price applied; default ``release_date``
``input_per_m``             USD per million input tokens
``output_per_m``            USD per million output tokens
``cached_input_per_m``      USD per million cached input tokens
``blended_per_m``           a source's own blended price, when it gives no input/output split
``blend_input_share``       the input share of that blend (e.g. ``0.75`` for 3:1)
``price_source``            citation for the price
``score:<benchmark>``       score on a benchmark slug, e.g. ``score:mmlu``, ``score:gpqa-diamond``
                            (0-100; Elo for ``arena-elo``)
``score_source``            citation for the row's scores
``score_source:<benchmark>``  citation for one score (overrides ``score_source``)
``harness``                 harness / protocol note for the row's scores (e.g. ``Epoch harness``)
``harness:<benchmark>``     harness for one score (overrides ``harness``)
``effort``                  reasoning effort or variant of the row's scores (e.g. ``high``, ``max``)
``effort:<benchmark>``      effort for one score (overrides ``effort``)
``score_date``              when the row's scores were run or published (``YYYY-MM-DD``)
``score_date:<benchmark>``  date of one score (overrides ``score_date``)
``stderr:<benchmark>``      standard error of one score, in the score's units
``input_tokens:<benchmark>``  input tokens per task of that run (also ``cached_tokens:``, ``output_tokens:``
                            with reasoning, ``items:`` tasks run, ``cost_per_task:`` USD per task)
``notes``                   free text, ignored
==========================  ========================================================================

A price needs ``input_per_m`` and ``output_per_m``, or ``blended_per_m``. The JSON form is a
list of objects (or ``{"rows": [...]}``) with the same keys; scores may also be given as
``"scores": {"mmlu": 86.4}``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from satisfice.catalog.batch import BENCHMARKS, ImportBatch
from satisfice.catalog.rows import BenchmarkRow, ModelRow, OfferRow, ScoreRow
from satisfice.catalog.sources._cells import (
    Where,
    boolean,
    csv_rows,
    date,
    load_json,
    model_slug,
    number,
    read_text,
    text,
)
from satisfice.catalog.sources.registry import Ids, Peek, Source
from satisfice.errors import DataError

MODEL_COLUMNS = ("id", "name", "organization", "open_weights", "licence", "params_total_b", "params_active_b",
                 "release_date", "reasoning")
PRICE_COLUMNS = ("input_per_m", "output_per_m", "cached_input_per_m", "blended_per_m", "blend_input_share")
OFFER_COLUMNS = ("provider", "effective_date", *PRICE_COLUMNS, "price_source")
SCORE_COLUMNS = ("score_source", "harness", "effort", "score_date")
USAGE = ("input_tokens", "cached_tokens", "output_tokens", "items", "cost_per_task")
"""Per-benchmark usage columns of a run (``output_tokens:gpqa-diamond``...), per task."""
PREFIXES = ("score:", "score_source:", "harness:", "effort:", "score_date:", "stderr:", *(f"{u}:" for u in USAGE))
NATIVE_COLUMNS = (*MODEL_COLUMNS, *OFFER_COLUMNS, *SCORE_COLUMNS, "notes")
"""Plain columns, in the order the bundled catalog writes them (then the prefixed ones)."""

_ID = re.compile(r"[a-z0-9][a-z0-9._:/+-]*")
_SLUG = re.compile(r"[a-z0-9][a-z0-9.-]*")


def check_columns(columns: Iterable[str], where: Where, *, require_name: bool = True) -> None:
    """Reject unknown columns and (for a CSV header) a missing ``name``."""
    columns = list(columns)
    if require_name and "name" not in columns:
        raise where.error("missing column 'name'", "name")
    for col in columns:
        if col in NATIVE_COLUMNS or col == "scores":
            continue
        prefix = next((p for p in PREFIXES if col.startswith(p)), None)
        if prefix is None:
            raise where.error(f"unknown column {col!r} (see the satisfice format's columns)", col)
        if not _SLUG.fullmatch(col[len(prefix):]):
            raise where.error(f"{col!r}: the benchmark must be a lowercase slug such as 'gpqa-diamond'", col)


@dataclass
class _Model:
    facts: dict[str, Any] = field(default_factory=dict)
    reasoning: bool | None = None


@dataclass
class _PendingOffer:
    row: OfferRow
    where: Where
    dated: bool


class _Builder:
    """Collects rows, merging repeated models, offers and scores, and checks they agree."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.models: dict[str, _Model] = {}
        self.offers: dict[tuple[str, str, dt.date | None], _PendingOffer] = {}
        self.scores: dict[tuple[str, str, str, str, dt.date | None], ScoreRow] = {}

    def add(self, cells: Mapping[str, Any], where: Where) -> None:
        name = text(cells.get("name"))
        if name is None:
            raise where.error("a model name is required", "name")
        model_id = text(cells.get("id")) or model_slug(name)
        if not model_id:
            raise where.error(f"cannot make an id from the name {name!r}; give an 'id'", "name")
        if not _ID.fullmatch(model_id):
            raise where.error(f"model id {model_id!r} must be a lowercase slug (a-z, 0-9, . _ - / :)", "id")
        self._model(model_id, name, cells, where)
        self._offer(model_id, cells, where)
        self._scores(model_id, cells, where)

    def _model(self, model_id: str, name: str, cells: Mapping[str, Any], where: Where) -> None:
        facts: dict[str, Any] = {
            "name": name,
            "organization": text(cells.get("organization")),
            "open_weights": boolean(cells.get("open_weights"), where, "open_weights"),
            "licence": text(cells.get("licence")),
            "params_total_b": number(cells.get("params_total_b"), where, "params_total_b"),
            "params_active_b": number(cells.get("params_active_b"), where, "params_active_b"),
            "release_date": date(cells.get("release_date"), where, "release_date"),
        }
        reasoning = boolean(cells.get("reasoning"), where, "reasoning")
        model = self.models.setdefault(model_id, _Model())
        for key, value in facts.items():
            if value is None:
                continue
            known = model.facts.get(key)
            if known is not None and known != value:
                raise where.error(f"model {model_id!r}: {key} {value!r} disagrees with {known!r} on an earlier row",
                                  key)
            model.facts[key] = value
        if reasoning is not None:
            if model.reasoning is not None and model.reasoning != reasoning:
                raise where.error(f"model {model_id!r}: reasoning disagrees with an earlier row", "reasoning")
            model.reasoning = reasoning

    def _offer(self, model_id: str, cells: Mapping[str, Any], where: Where) -> None:
        prices = {c: number(cells.get(c), where, c, maximum=1.0 if c == "blend_input_share" else None)
                  for c in PRICE_COLUMNS}
        if all(v is None for v in prices.values()):
            return
        has_split = prices["input_per_m"] is not None or prices["output_per_m"] is not None
        if has_split and (prices["input_per_m"] is None or prices["output_per_m"] is None):
            missing = "input_per_m" if prices["input_per_m"] is None else "output_per_m"
            raise where.error("a price needs both input_per_m and output_per_m (or blended_per_m)", missing)
        if not has_split and prices["blended_per_m"] is None:
            raise where.error("a price needs input_per_m and output_per_m, or blended_per_m", "input_per_m")
        if prices["blend_input_share"] is not None and prices["blended_per_m"] is None:
            raise where.error("blend_input_share is only meaningful with blended_per_m", "blend_input_share")
        provider = text(cells.get("provider"))
        if provider is None:
            raise where.error("a price needs a provider (who sells at this price)", "provider")
        effective = date(cells.get("effective_date"), where, "effective_date")
        row = OfferRow(model_id=model_id, provider=provider, effective_date=effective or dt.date.min,
                       input_per_m=prices["input_per_m"], output_per_m=prices["output_per_m"],
                       cached_input_per_m=prices["cached_input_per_m"], blended_per_m=prices["blended_per_m"],
                       blend_input_share=prices["blend_input_share"], source=text(cells.get("price_source")) or "")
        key = (model_id, provider, effective)
        earlier = self.offers.get(key)
        if earlier is not None and earlier.row != row:
            raise where.error(f"model {model_id!r} at {provider!r} has a different price for the same date on an "
                              f"earlier row", "effective_date")
        self.offers.setdefault(key, _PendingOffer(row, where, effective is not None))

    def _scores(self, model_id: str, cells: Mapping[str, Any], where: Where) -> None:
        nested = cells.get("scores")
        values: dict[str, Any] = {k[len("score:"):]: v for k, v in cells.items() if k.startswith("score:")}
        if nested is not None:
            if not isinstance(nested, Mapping):
                raise where.error("'scores' must map benchmark slugs to numbers", "scores")
            for slug, value in nested.items():
                if not _SLUG.fullmatch(str(slug)):
                    raise where.error(f"benchmark {slug!r} must be a lowercase slug", "scores")
                values[str(slug)] = value
        for slug, raw in values.items():
            col = f"score:{slug}"
            bench = BENCHMARKS.get(slug)
            value = number(raw, where, col, maximum=100.0 if bench is None or bench.scale == "percent" else None)
            if value is None:
                continue
            harness = text(cells.get(f"harness:{slug}")) or text(cells.get("harness")) or ""
            source = text(cells.get(f"score_source:{slug}")) or text(cells.get("score_source")) or ""
            effort = text(cells.get(f"effort:{slug}")) or text(cells.get("effort")) or ""
            day_col = f"score_date:{slug}" if text(cells.get(f"score_date:{slug}")) else "score_date"
            day = date(cells.get(day_col), where, day_col)
            stderr = number(cells.get(f"stderr:{slug}"), where, f"stderr:{slug}")
            usage: dict[str, Any] = {u: number(cells.get(f"{u}:{slug}"), where, f"{u}:{slug}") for u in USAGE}
            if usage["items"] is not None:
                if not float(usage["items"]).is_integer() or usage["items"] < 1:
                    raise where.error(f"items must be a whole number of tasks, got {usage['items']:g}", f"items:{slug}")
                usage["items"] = int(usage["items"])
            score = ScoreRow(model_id=model_id, benchmark=slug, value=value, harness=harness, source=source,
                             effort=effort, date=day, stderr=stderr, **usage)
            key = (model_id, slug, harness, effort, day)
            earlier = self.scores.get(key)
            if earlier is not None and earlier.value != value:
                raise where.error(f"model {model_id!r}: {slug} {value:g} disagrees with {earlier.value:g} on an "
                                  f"earlier row (same harness {harness!r}, effort and date)", col)
            self.scores.setdefault(key, score)

    def batch(self) -> ImportBatch:
        models = [ModelRow(id=mid, reasoning=bool(m.reasoning), **m.facts) for mid, m in self.models.items()]
        released = {m.id: m.release_date for m in models}
        offers: dict[tuple[str, str, dt.date], OfferRow] = {}
        for pending in self.offers.values():
            row = pending.row
            if not pending.dated:
                release = released.get(row.model_id)
                if release is None:
                    raise pending.where.error(f"model {row.model_id!r}: a price needs an effective_date (or the "
                                              f"model's release_date)", "effective_date")
                row = OfferRow(**{**_fields(row), "effective_date": release})
            key = (row.model_id, row.provider, row.effective_date)
            if key in offers and offers[key] != row:
                raise pending.where.error(f"model {row.model_id!r} at {row.provider!r} has two different prices on "
                                          f"{row.effective_date}", "effective_date")
            offers[key] = row
        slugs = sorted({s.benchmark for s in self.scores.values()})
        return ImportBatch(
            source_file=self.file, models=models, offers=list(offers.values()), scores=list(self.scores.values()),
            benchmarks=[BENCHMARKS.get(s) or BenchmarkRow(s, s) for s in slugs],
        )


def _fields(row: OfferRow) -> dict[str, Any]:
    return {f: getattr(row, f) for f in OfferRow.__slots__}


def parse_native(path: Path) -> ImportBatch:
    """Parse a satisfice catalog file (CSV, or JSON when it ends in .json or starts with ``[``/``{``)."""
    file = str(path)
    builder = _Builder(file)
    if path.suffix.lower() == ".json" or read_text(path).lstrip()[:1] in ("[", "{"):
        data, _ = load_json(path)
        items = data.get("rows") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise DataError("expected a JSON list of rows (or {\"rows\": [...]})", file=file)
        for i, item in enumerate(items, start=1):
            where = Where(file, item=f"item {i}")
            if not isinstance(item, dict):
                raise where.error("each row must be a JSON object")
            check_columns(item.keys(), where, require_name=False)
            builder.add(item, where)
    else:
        header, rows = csv_rows(path)
        check_columns(header, Where(file, line=1))
        for line, cells in rows:
            builder.add(cells, Where(file, line=line))
    return builder.batch()


def _sniff(p: Peek) -> bool:
    data = p.json
    if isinstance(data, list):
        return bool(data) and all(isinstance(r, dict) and "name" in r for r in data)
    if isinstance(data, dict):
        return isinstance(data.get("rows"), list)
    return "name" in p.header


def _parse(path: Path, *, as_of: dt.date, ids: Ids | None) -> ImportBatch:
    return parse_native(path)  # the file carries its own dates and ids


SOURCE = Source("satisfice", _parse, yields=("prices", "scores"), sniff=_sniff,
                help="satisfice's own CSV (or JSON list of rows)")
