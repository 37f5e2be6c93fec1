"""Epoch AI's price/benchmark CSV (repository epoch-research/llm-benchmark-efficiency, data/).

The input data of Epoch AI's study "LLM inference prices have fallen rapidly but unequally
across tasks" (2025). Columns ``Model Name``, ``Release Date``, ``USD per 1M Tokens`` (required)
and the score columns below; others (``Tokens per Second`` ...) are ignored.

- One row per model and price point: a model on two rows is one model with two dated offers.
  The release date is the model's earliest row; a later row is a price change on its date.
- The price is Epoch's blended price (3 input : 1 output), stored as ``blended_per_m`` with
  ``blend_input_share`` 0.75 at provider ``epoch-ai``; analyses use it as given.
- Scores: ``MMLU`` -> ``mmlu``, ``GPQA Diamond`` -> ``gpqa-diamond``, ``HumanEval`` ->
  ``humaneval``, ``MATH-500`` -> ``math-500``, ``MATH 5`` -> ``math-level-5``,
  ``LMSys Chatbot Arena ELO`` -> ``arena-elo``, harness ``Epoch AI data``. A model's score is its
  earliest row's value (a later row fills a gap); when a later row gives a different value, the
  score's source says so (in the March 2025 data only ``GPT-3 175B (davinci)`` MMLU: 43.9, then
  63.1 on its 2024-01-04 row).
- Reasoning models (the study excludes them): o1, o1-mini, o1-preview, o3-mini, DeepSeek-R1.
- Organization is read off the model name (``Claude`` -> Anthropic, ``GPT``/``o1`` -> OpenAI ...);
  open weights stay unknown (the files do not say).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from satisfice.catalog.batch import BENCHMARKS, ImportBatch
from satisfice.catalog.rows import ModelRow, OfferRow, ScoreRow
from satisfice.catalog.sources._cells import Where, csv_rows, date, model_slug, number, text
from satisfice.catalog.sources.registry import Ids, Peek, Source
from satisfice.errors import DataError

NAME, DATE, PRICE = "Model Name", "Release Date", "USD per 1M Tokens"
SCORE_COLUMNS = {"MMLU": "mmlu", "GPQA Diamond": "gpqa-diamond", "HumanEval": "humaneval", "MATH-500": "math-500",
                 "MATH 5": "math-level-5", "LMSys Chatbot Arena ELO": "arena-elo"}
PROVIDER = "epoch-ai"
HARNESS = "Epoch AI data"
INPUT_SHARE = 0.75
REASONING = frozenset({"o1", "o1-mini", "o1-preview", "o3-mini", "deepseek-r1"})
ORGANIZATIONS = (
    (r"claude", "Anthropic"), (r"gpt|o1|o3|davinci", "OpenAI"), (r"gemini|gemma", "Google"), (r"llama", "Meta"),
    (r"mistral|mixtral", "Mistral"), (r"deepseek", "DeepSeek"), (r"command|cohere", "Cohere"),
    (r"jamba", "AI21 Labs"), (r"reka", "Reka"), (r"phi", "Microsoft"), (r"qwen", "Alibaba"),
)
CITATION = ("Epoch AI, 'LLM inference prices have fallen rapidly but unequally across tasks' (2025), "
            "repository epoch-research/llm-benchmark-efficiency, data/{file}")


def organization_of(name: str) -> str | None:
    """Maker of a model, read off the start of its Epoch name."""
    lowered = name.lower()
    for pattern, org in ORGANIZATIONS:
        if re.match(pattern, lowered):
            return org
    return None


@dataclass
class _Scores:
    first: dict[str, tuple[float, dt.date]] = field(default_factory=dict)
    later: dict[str, list[tuple[dt.date, float]]] = field(default_factory=dict)


def parse_epoch(path: Path) -> ImportBatch:
    """Parse one of Epoch AI's price/benchmark CSV files."""
    file = str(path)
    header, rows = csv_rows(path)
    for col in (NAME, DATE, PRICE):
        if col not in header:
            raise DataError(f"missing column {col!r} (not an Epoch AI price/benchmark file?)", file=file, line=1,
                            field=col)
    citation = CITATION.format(file=path.name)
    names: dict[str, str] = {}
    dates: dict[str, list[dt.date]] = {}
    offers: dict[tuple[str, dt.date], OfferRow] = {}
    parsed: list[tuple[str, dt.date, dict[str, float], Where]] = []
    for line, cells in rows:
        where = Where(file, line=line)
        name = text(cells.get(NAME))
        if name is None:
            raise where.error("a model name is required", NAME)
        day = date(cells.get(DATE), where, DATE)
        if day is None:
            raise where.error("a date is required", DATE)
        price = number(cells.get(PRICE), where, PRICE)
        if price is None:
            raise where.error("a price is required", PRICE)
        model_id = model_slug(name)
        if not model_id:
            raise where.error(f"cannot make an id from {name!r}", NAME)
        if names.setdefault(model_id, name) != name:
            raise where.error(f"{name!r} and {names[model_id]!r} would get the same model id {model_id!r}", NAME)
        dates.setdefault(model_id, []).append(day)
        offer = OfferRow(model_id=model_id, provider=PROVIDER, effective_date=day, blended_per_m=price,
                         blend_input_share=INPUT_SHARE, source=f"{citation}, row {name!r} {day}")
        earlier = offers.get((model_id, day))
        if earlier is not None and earlier.blended_per_m != price:
            raise where.error(f"{name!r} has two different prices on {day}", PRICE)
        offers[(model_id, day)] = earlier or offer
        scores: dict[str, float] = {}
        for col, slug in SCORE_COLUMNS.items():
            scale = BENCHMARKS[slug].scale
            value = number(cells.get(col), where, col, maximum=100.0 if scale == "percent" else None)
            if value is not None:
                scores[slug] = value
        parsed.append((model_id, day, scores, where))
    by_model: dict[str, _Scores] = {}
    for model_id, day, scores, _ in sorted(parsed, key=lambda p: (p[0], p[1])):
        acc = by_model.setdefault(model_id, _Scores())
        for slug, value in scores.items():
            if slug not in acc.first:
                acc.first[slug] = (value, day)
            elif abs(acc.first[slug][0] - value) > 1e-9:
                acc.later.setdefault(slug, []).append((day, value))
    models = [ModelRow(id=mid, name=names[mid], organization=organization_of(names[mid]),
                       release_date=min(dates[mid]), reasoning=mid in REASONING) for mid in names]
    score_rows = []
    for mid, acc in by_model.items():
        for slug, (value, day) in acc.first.items():
            source = citation
            if slug in acc.later:
                differing = ", ".join(f"{d}: {v:g}" for d, v in acc.later[slug])
                source += f"; later rows differ ({differing}); the earliest row's {value:g} ({day}) is kept"
            score_rows.append(ScoreRow(model_id=mid, benchmark=slug, value=value, harness=HARNESS, source=source))
    used = sorted({s.benchmark for s in score_rows})
    return ImportBatch(source_file=file, models=models, offers=list(offers.values()), scores=score_rows,
                       benchmarks=[BENCHMARKS[s] for s in used])


def _sniff(p: Peek) -> bool:
    return "Model Name" in p.header and "USD per 1M Tokens" in p.header


def _parse(path: Path, *, as_of: dt.date, ids: Ids | None) -> ImportBatch:
    return parse_epoch(path)  # rows carry their own dates


SOURCE = Source("epoch", _parse, yields=("prices", "scores"), sniff=_sniff,
                help="Epoch AI's price and benchmark CSVs")
