"""OpenRouter prices: the ``/api/v1/models`` response and a dated price history.

Both become offers at provider ``openrouter``.

- Model list (``{"data": [{"id", "name", "created", "pricing": {"prompt", "completion",
  "input_cache_read"}}]}``, prices as strings in USD per token): one offer per model, effective
  on the import's ``as_of`` date; release date = ``created`` (the day OpenRouter listed it);
  kind from ``architecture.modality`` (``text+image->text``: chat).
  Entries priced below zero (``"-1"``: routers with variable prices) are skipped.
- History (``{"as_of", "models": {id: {"name", "points": [[date, input, output], ...]}}}``,
  USD per million tokens, as in jvrck/openrouterlist): every point is a dated offer; points
  without a price (routers) are skipped; when a day has several points the last one counts
  (the price in force at the end of that day). ``first_seen`` is when the list first showed
  the model, not its release date, so the release date stays unknown.

Model id: slug of the id without its vendor prefix (``openai/gpt-4o`` -> ``gpt-4o``,
``deepseek/deepseek-r1:free`` -> ``deepseek-r1-free``), so OpenRouter prices join the same model
from other sources; organization = the vendor prefix. When two ids in one file would share a
slug (``mistral/ministral-8b`` and ``mistralai/ministral-8b``), both keep their vendor prefix.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.kinds import kind_from_modalities
from satisfice.catalog.rows import ModelRow, OfferRow
from satisfice.catalog.sources._cells import Where, date, load_json, model_slug, number, text
from satisfice.catalog.sources.registry import Ids, Peek, Source
from satisfice.errors import DataError

PROVIDER = "openrouter"
PER_M = 1_000_000


def model_ids(openrouter_ids: Iterable[str]) -> dict[str, str]:
    """Our model id for each OpenRouter id (vendor prefix dropped unless that makes two ids collide)."""
    ids = list(dict.fromkeys(openrouter_ids))
    short = {i: model_slug(i.split("/", 1)[-1]) for i in ids}
    clashes = Counter(short.values())
    return {i: short[i] if clashes[short[i]] == 1 else model_slug(i) for i in ids}


def _vendor(openrouter_id: str) -> str | None:
    head, slash, _ = openrouter_id.partition("/")
    return (head.strip("~") or None) if slash else None


def parse_openrouter(path: Path, *, as_of: dt.date | None = None,
                     ids: Callable[[str], str] | None = None) -> ImportBatch:
    """Parse an OpenRouter ``/api/v1/models`` response; prices take effect on ``as_of`` (default today).

    ``ids`` (optional) maps an OpenRouter id to our model id instead of the rule above; an empty id
    skips the entry, and so does a price of zero (a free tier is not a list price).
    """
    file = str(path)
    day = as_of or dt.date.today()
    data, raw = load_json(path)
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise DataError("expected an OpenRouter models response: {\"data\": [...]}", file=file, line=1, field="data")
    entries: list[tuple[str, dict[str, Any], Where]] = []
    for i, item in enumerate(items):
        where = Where(file, item=f"data[{i}]", json_text=raw)
        if not isinstance(item, dict):
            raise where.error("expected a model object", "data")
        or_id = text(item.get("id"))
        if or_id is None:
            raise where.error("missing model id", "id")
        entries.append((or_id, item, Where(file, item=f"data[{i}] {or_id!r}", json_text=raw, json_key=or_id)))
    mapped = model_ids(e[0] for e in entries) if ids is None else {e[0]: ids(e[0]) for e in entries}
    models: dict[str, ModelRow] = {}
    offers: dict[str, OfferRow] = {}
    for or_id, item, where in entries:
        pricing = item.get("pricing")
        if not isinstance(pricing, dict):
            raise where.error("missing pricing object", "pricing")
        prices = {}
        for key in ("prompt", "completion", "input_cache_read"):
            if key != "input_cache_read" and pricing.get(key) is None:
                raise where.error(f"missing pricing.{key}", f"pricing.{key}")
            prices[key] = number(pricing.get(key), where, f"pricing.{key}", minimum=None)
        if any(v is not None and v < 0 for v in prices.values()):
            continue  # "-1": variable price (routers), not an offer
        if ids is not None and (not mapped[or_id] or not (prices["prompt"] or prices["completion"])):
            continue
        created = item.get("created")
        released = None
        if created is not None:
            seconds = number(created, where, "created")
            if seconds is not None:
                released = dt.datetime.fromtimestamp(seconds, dt.UTC).date()
        model_id = mapped[or_id]
        models.setdefault(model_id, ModelRow(id=model_id, name=text(item.get("name")) or or_id,
                                             organization=_vendor(or_id), release_date=released,
                                             kind=_kind(item.get("architecture"))))
        offers[model_id] = OfferRow(
            model_id=model_id, provider=PROVIDER, effective_date=day,
            input_per_m=_per_m(prices["prompt"]), output_per_m=_per_m(prices["completion"]),
            cached_input_per_m=_per_m(prices["input_cache_read"]),
            source=f"OpenRouter models list {path.name}, id {or_id!r}, as of {day}")
    return ImportBatch(source_file=file, models=list(models.values()), offers=list(offers.values()))


def _kind(architecture: Any) -> str | None:
    """The model's kind from ``architecture.modality`` (``text+image->text``: chat)."""
    modality = architecture.get("modality") if isinstance(architecture, dict) else None
    if not isinstance(modality, str) or "->" not in modality:
        return None
    return kind_from_modalities(modality.rsplit("->", 1)[1].split("+"))


def _per_m(value: float | None) -> float | None:
    return None if value is None else round(value * PER_M, 9)


def parse_openrouter_history(path: Path) -> ImportBatch:
    """Parse a dated OpenRouter price history; every point becomes an offer on its date."""
    file = str(path)
    data, raw = load_json(path)
    models_obj = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models_obj, dict):
        raise DataError("expected a price history: {\"as_of\", \"models\": {id: {\"points\": [...]}}}", file=file,
                        line=1, field="models")
    as_of = text(data.get("as_of")) or "unknown date"
    ids = model_ids(models_obj)
    models: dict[str, ModelRow] = {}
    offers: dict[tuple[str, dt.date], OfferRow] = {}
    for or_id, entry in models_obj.items():
        where = Where(file, item=f"model {or_id!r}", json_text=raw, json_key=or_id)
        if not isinstance(entry, dict) or not isinstance(entry.get("points"), list):
            raise where.error("expected an object with a 'points' list", "points")
        model_id = ids[or_id]
        source = f"OpenRouter price history {path.name} (as of {as_of}), model {or_id!r}"
        priced = False
        for j, point in enumerate(entry["points"]):
            field = f"points[{j}]"
            if not isinstance(point, list) or len(point) != 3:
                raise where.error("a point must be [date, input per million, output per million]", field)
            day = date(point[0], where, f"{field}[0]")
            if day is None:
                raise where.error("a point needs a date", f"{field}[0]")
            inp = number(point[1], where, f"{field}[1]")
            out = number(point[2], where, f"{field}[2]")
            if inp is None or out is None:
                continue  # no fixed price (routers)
            offers[(model_id, day)] = OfferRow(model_id=model_id, provider=PROVIDER, effective_date=day,
                                               input_per_m=inp, output_per_m=out, source=source)
            priced = True
        if priced:
            models.setdefault(model_id, ModelRow(id=model_id, name=text(entry.get("name")) or or_id,
                                                 organization=_vendor(or_id)))
    return ImportBatch(source_file=file, models=list(models.values()), offers=list(offers.values()))


def _sniff(p: Peek) -> bool:
    items = p.json.get("data") if isinstance(p.json, dict) else None
    return isinstance(items, list) and any(isinstance(m, dict) and "pricing" in m for m in items)


def _sniff_history(p: Peek) -> bool:
    models = p.json.get("models") if isinstance(p.json, dict) else None
    return isinstance(models, dict) and any(isinstance(m, dict) and "points" in m for m in models.values())


def _parse_history(path: Path, *, as_of: dt.date, ids: Ids | None) -> ImportBatch:
    return parse_openrouter_history(path)  # every point carries its date


SOURCE = Source("openrouter", parse_openrouter, sniff=_sniff, default="https://openrouter.ai/api/v1/models",
                dated_by_import=True, help="OpenRouter /api/v1/models: every model OpenRouter sells, with its price")
HISTORY = Source("openrouter-history", _parse_history, sniff=_sniff_history,
                 help="dated OpenRouter prices {as_of, models: {id: points}}")
