"""LiteLLM's price map (``model_prices_and_context_window_backup.json`` in the litellm wheel).

The file maps model keys to entries with ``input_cost_per_token``, ``output_cost_per_token``,
``cache_read_input_token_cost`` (USD per token), ``litellm_provider`` and ``mode``. Each usable
entry becomes one offer, in USD per million tokens, at provider ``litellm_provider``, effective on
the import's ``as_of`` date (the file carries no dates).

- Kept: ``mode`` chat, completion or responses (text models), with both token prices.
  Skipped: ``sample_spec``, other modes (embeddings, images, audio ...), entries without token
  prices and entries priced 0/0 (local runtimes such as ollama, or placeholders).
- Model id: slug of the key's last path segment, so the same model at several providers is
  one model with several offers (``azure/gpt-4o`` and ``gpt-4o`` -> ``gpt-4o``).
- One offer per (model, provider): regional or routed variants (``azure/eu/gpt-4o``,
  ``bedrock/us-east-1/...``) fold into the entry with the fewest path segments (first in file
  order on a tie).
- ``ids`` (optional) maps the raw key to our model id instead (an empty id skips the entry).
- ``mode`` gives the model's kind (chat for the kept modes).
- ``supports_reasoning: true`` marks a reasoning model. Names, release dates and organizations
  are not in the file and stay unknown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.kinds import kind_from_litellm
from satisfice.catalog.rows import ModelRow, OfferRow
from satisfice.catalog.sources._cells import Where, load_json, model_slug, number, text
from satisfice.catalog.sources.registry import Peek, Source
from satisfice.errors import DataError

MODES = ("chat", "completion", "responses")
PER_M = 1_000_000


def _per_m(value: float | None) -> float | None:
    return None if value is None else round(value * PER_M, 9)


def parse_litellm(path: Path, *, as_of: dt.date | None = None,
                  ids: Callable[[str], str] | None = None) -> ImportBatch:
    """Parse a LiteLLM price map; prices take effect on ``as_of`` (default today)."""
    file = str(path)
    day = as_of or dt.date.today()
    data, raw = load_json(path)
    if not isinstance(data, dict):
        raise DataError("expected a JSON object mapping model names to price entries", file=file, line=1)
    chosen: dict[tuple[str, str], tuple[int, OfferRow]] = {}
    models: dict[str, ModelRow] = {}
    for key, entry in data.items():
        if key == "sample_spec":
            continue
        where = Where(file, item=f"entry {key!r}", json_text=raw, json_key=key)
        if not isinstance(entry, dict):
            raise where.error("expected an object with the model's prices", key)
        offer = _offer(key, entry, where, day, ids)
        if offer is None:
            continue
        depth = key.count("/")
        best = chosen.get((offer.model_id, offer.provider))
        if best is None or depth < best[0]:
            chosen[(offer.model_id, offer.provider)] = (depth, offer)
        reasoning = entry.get("supports_reasoning") is True
        known = models.get(offer.model_id)
        if known is None:
            models[offer.model_id] = ModelRow(id=offer.model_id, name=key.rsplit("/", 1)[-1], reasoning=reasoning,
                                              kind=kind_from_litellm(entry.get("mode")))
        elif reasoning and not known.reasoning:
            models[offer.model_id] = replace(known, reasoning=True)
    return ImportBatch(source_file=file, models=list(models.values()), offers=[o for _, o in chosen.values()])

def _offer(key: str, entry: dict[str, Any], where: Where, day: dt.date,
           ids: Callable[[str], str] | None) -> OfferRow | None:
    if entry.get("mode") not in MODES:
        return None
    if entry.get("input_cost_per_token") is None or entry.get("output_cost_per_token") is None:
        return None
    inp = number(entry["input_cost_per_token"], where, "input_cost_per_token")
    out = number(entry["output_cost_per_token"], where, "output_cost_per_token")
    cached = number(entry.get("cache_read_input_token_cost"), where, "cache_read_input_token_cost")
    if not inp and not out:
        return None
    provider = text(entry.get("litellm_provider"))
    if provider is None:
        raise where.error("missing litellm_provider", "litellm_provider")
    model_id = ids(key) if ids is not None else model_slug(key.rsplit("/", 1)[-1])
    if not model_id and ids is not None:
        return None
    if not model_id:
        raise where.error(f"cannot make a model id from {key!r}", key)
    url = text(entry.get("source"))
    source = f"LiteLLM price map {Path(where.file).name}, key {key!r}, as of {day}" + (f" ({url})" if url else "")
    return OfferRow(model_id=model_id, provider=provider, effective_date=day, input_per_m=_per_m(inp),
                    output_per_m=_per_m(out), cached_input_per_m=_per_m(cached), source=source)


def _sniff(p: Peek) -> bool:
    data = p.json
    return isinstance(data, dict) and ("sample_spec" in data or any(isinstance(v, dict) and "input_cost_per_token"
                                                                    in v for v in data.values()))


SOURCE = Source("litellm", parse_litellm, sniff=_sniff, default="package:litellm", dated_by_import=True,
                help="LiteLLM's model price map (URL, a litellm wheel, or an installed litellm)",
                package="litellm", member="litellm/model_prices_and_context_window_backup.json")
