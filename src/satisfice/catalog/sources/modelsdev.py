"""models.dev's ``api.json``: providers, each with its models, release dates, open weights and prices.

Shape: ``{provider_id: {"id", "name", "models": {model_id: {"id", "name", "release_date",
"open_weights", "reasoning", "cost": {"input", "output", "cache_read"}, "limit": {...}}}}}``,
prices in USD per million tokens. Each model with both an input and an output price becomes an
offer at provider ``provider_id``, effective on the import's ``as_of`` date (the file carries no
price dates); a model without a cost is listed without an offer. Context tiers and experimental
modes (``cost.tiers``, ``experimental.modes``) are left out: the base price is the offer.
Release dates given only as ``YYYY-MM`` stay unknown; ``modalities.output`` gives the model's kind
(text: chat). ``ids`` maps a raw model id to ours
(default: the slug of its last path segment); an empty id skips the entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.kinds import kind_from_modalities
from satisfice.catalog.rows import ModelRow, OfferRow
from satisfice.catalog.sources._cells import Where, boolean, date, load_json, model_slug, number, text
from satisfice.catalog.sources.registry import Peek, Source
from satisfice.errors import DataError


def _default_id(raw: str) -> str:
    return model_slug(raw.rsplit("/", 1)[-1])


def parse_modelsdev(path: Path, *, as_of: dt.date | None = None,
                    ids: Callable[[str], str] | None = None) -> ImportBatch:
    """Parse a models.dev ``api.json``; prices take effect on ``as_of`` (default today)."""
    file = str(path)
    day = as_of or dt.date.today()
    to_id = ids or _default_id
    data, raw = load_json(path)
    if not isinstance(data, dict) or not data:
        raise DataError("expected a models.dev api.json: {provider: {\"models\": {...}}}", file=file, line=1)
    models: dict[str, ModelRow] = {}
    offers: dict[tuple[str, str], OfferRow] = {}
    for provider_id, provider in data.items():
        where = Where(file, item=f"provider {provider_id!r}", json_text=raw, json_key=provider_id)
        if not isinstance(provider, dict) or not isinstance(provider.get("models"), dict):
            raise where.error("expected an object with a 'models' object", "models")
        for raw_id, entry in provider["models"].items():
            at = Where(file, item=f"provider {provider_id!r} model {raw_id!r}", json_text=raw, json_key=raw_id)
            if not isinstance(entry, dict):
                raise at.error("expected a model object", raw_id)
            model_id = to_id(raw_id)
            if not model_id:
                continue  # a variant the id rule skips (batch or free tiers)
            row = _model(model_id, raw_id, entry, at)
            known = models.get(model_id)
            models[model_id] = row if known is None else _fill(known, row)
            offer = _offer(model_id, provider_id, raw_id, entry, at, day, path.name)
            if offer is not None:
                offers.setdefault((model_id, provider_id), offer)
    return ImportBatch(source_file=file, models=list(models.values()), offers=list(offers.values()))


def _release(value: Any, where: Where) -> dt.date | None:
    if isinstance(value, str) and len(value.strip()) == 7:  # "YYYY-MM": day unknown
        return None
    return date(value, where, "release_date")


def _model(model_id: str, raw_id: str, entry: dict[str, Any], where: Where) -> ModelRow:
    modalities = entry.get("modalities")
    outputs = modalities.get("output") if isinstance(modalities, dict) else None
    return ModelRow(id=model_id, name=text(entry.get("name")) or raw_id,
                    open_weights=boolean(entry.get("open_weights"), where, "open_weights"),
                    release_date=_release(entry.get("release_date"), where),
                    reasoning=boolean(entry.get("reasoning"), where, "reasoning") is True,
                    kind=kind_from_modalities(outputs) if isinstance(outputs, list) else None)


def _fill(known: ModelRow, new: ModelRow) -> ModelRow:
    """Keep what is known; fill gaps from another provider's listing of the same model."""
    return ModelRow(id=known.id, name=known.name,
                    open_weights=known.open_weights if known.open_weights is not None else new.open_weights,
                    release_date=known.release_date or new.release_date,
                    reasoning=known.reasoning or new.reasoning, kind=known.kind or new.kind)


def _offer(model_id: str, provider: str, raw_id: str, entry: dict[str, Any], where: Where, day: dt.date,
           filename: str) -> OfferRow | None:
    cost = entry.get("cost")
    if cost is None:
        return None
    if not isinstance(cost, dict):
        raise where.error("expected a cost object", "cost")
    inp = number(cost.get("input"), where, "cost.input")
    out = number(cost.get("output"), where, "cost.output")
    if inp is None or out is None or (not inp and not out):
        return None
    cached = number(cost.get("cache_read"), where, "cost.cache_read")
    return OfferRow(model_id=model_id, provider=provider, effective_date=day, input_per_m=inp, output_per_m=out,
                    cached_input_per_m=cached,
                    source=f"models.dev {filename}, provider {provider!r}, model {raw_id!r}, as of {day}")


def _sniff(p: Peek) -> bool:
    data = p.json
    return isinstance(data, dict) and any(isinstance(v, dict) and isinstance(v.get("models"), dict)
                                          and "npm" in v for v in data.values())


SOURCE = Source("models-dev", parse_modelsdev, sniff=_sniff, default="https://models.dev/api.json",
                dated_by_import=True,
                help="models.dev api.json: providers, models, release dates, open weights, prices")
