"""pydantic genai-prices: ``prices/data.json``, or the data module bundled in the ``genai-prices`` package.

``data.json`` is a list of providers ``{"id", "name", "models": [{"id", "name", "prices"}]}``;
``prices`` is one price set ``{"input_mtok", "output_mtok", "cache_read_mtok", ...}`` (USD per
million tokens) or a list of them, each with an optional ``constraint``: ``{"start_date"}``
(a dated price change, past or scheduled) or ``{"start_time", "end_time"}`` (an off-peak rate).
A price may be tiered by prompt size (``{"base", "tiers"}``): the base tier is the offer.

The package ships the same data as Python source (``genai_prices/data.py``: ``Provider(...)``,
``ModelInfo(...)``, ``ConditionalPrice(...)`` calls). It is read without being imported: the
source is parsed with :mod:`ast` and only literals and these constructor calls are accepted.
A ``.whl`` file, the ``data.py`` file itself or an installed package all work.

Offers, at provider ``id`` of the provider:

- every dated change (``start_date``) is an offer effective on that date (a future one is a
  scheduled price);
- the undated price is an offer effective on ``as_of`` when no dated change has started by
  then; when one has, the undated price is the price in force before the first dated change, and
  is kept as history: an offer whose start is unknown (``starts_unknown``), dated the day before
  that change and moved back to the model's release date when the catalog knows it (so "the
  price on a day before the change" stays right);
- an offer is one price per day: when a model also has time-of-day rates (peak windows, as
  DeepSeek's), the dearest of them replaces the newest price in force (dated or not), and the
  rate it replaces is named in the offer's source as the off-peak rate.
"""

from __future__ import annotations

import ast
import datetime as dt
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.rows import ModelRow, OfferRow
from satisfice.catalog.sources._cells import Where, date, load_json, model_slug, number, text
from satisfice.catalog.sources.registry import Peek, Source
from satisfice.errors import DataError

DATA_MODULE = "genai_prices/data.py"


def read_genai_prices(path: Path) -> tuple[Any, str]:
    """The provider list and its text from ``data.json``, ``data.py`` or a ``genai-prices`` wheel."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return load_json(path)
    if suffix == ".whl":
        try:
            with zipfile.ZipFile(path) as wheel:
                source = wheel.read(DATA_MODULE).decode("utf-8")
        except (OSError, zipfile.BadZipFile, KeyError) as exc:
            raise DataError(f"not a genai-prices wheel with {DATA_MODULE}: {exc}", file=str(path)) from None
    else:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read: {exc}", file=str(path)) from None
    return data_module_providers(source, str(path)), source


def data_module_providers(source: str, file: str) -> Any:
    """The ``providers`` list of genai-prices' data module, as the JSON-like structure of data.json."""
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError as exc:
        raise DataError(f"not valid Python: {exc.msg}", file=file, line=exc.lineno) from None
    for node in tree.body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "providers":
            return _literal(value, file)
    raise DataError("no 'providers' list in the genai-prices data module", file=file)


def _literal(node: ast.expr, file: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e, file) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k, file): _literal(v, file) for k, v in zip(node.keys, node.values, strict=True)
                if k is not None}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal(node.operand, file)
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        args = [_literal(a, file) for a in node.args]
        if name == "Decimal" and len(args) == 1:
            return float(args[0])
        if name == "date" and len(args) == 3:
            return dt.date(*args).isoformat()
        if name == "time":
            return dt.time(*args).isoformat()
        return {k.arg: _literal(k.value, file) for k in node.keywords if k.arg is not None}
    raise DataError(f"unexpected expression {ast.dump(node)[:60]} in the data module", file=file,
                    line=getattr(node, "lineno", None))


def _default_id(raw: str) -> str:
    return model_slug(raw.rsplit("/", 1)[-1])


def parse_genai_prices(path: Path, *, as_of: dt.date | None = None,
                       ids: Callable[[str], str] | None = None) -> ImportBatch:
    """Parse genai-prices data (JSON, data module or wheel); undated prices take effect on ``as_of``."""
    file = str(path)
    day = as_of or dt.date.today()
    to_id = ids or _default_id
    data, raw = read_genai_prices(path)
    if not isinstance(data, list) or not data:
        raise DataError("expected genai-prices data: a list of providers with 'models'", file=file, line=1)
    label = f"genai-prices {path.name}"
    models: dict[str, ModelRow] = {}
    offers: dict[tuple[str, str, dt.date], OfferRow] = {}
    for i, provider in enumerate(data):
        where = Where(file, item=f"providers[{i}]", json_text=raw)
        if not isinstance(provider, dict) or not isinstance(provider.get("models"), list):
            raise where.error("expected a provider with a 'models' list", "models")
        provider_id = text(provider.get("id"))
        if provider_id is None:
            raise where.error("missing provider id", "id")
        for j, entry in enumerate(provider["models"]):
            at = Where(file, item=f"provider {provider_id!r} models[{j}]", json_text=raw,
                       json_key=str(entry.get("id")) if isinstance(entry, dict) else None)
            if not isinstance(entry, dict) or text(entry.get("id")) is None:
                raise at.error("expected a model with an 'id'", "id")
            raw_id = str(entry["id"])
            model_id = to_id(raw_id)
            if not model_id:
                continue  # a variant the id rule skips (batch or free tiers)
            for effective, prices, open_start in _dated_prices(entry.get("prices"), at, day):
                offer = _offer(model_id, provider_id, raw_id, prices, at, effective, f"{label}, as of {day}")
                if offer is not None:
                    if open_start:
                        offer = replace(offer, starts_unknown=True, source=offer.source.replace(
                            f"price from {effective}", f"price in force until {effective} (start not given)"))
                    offers[(model_id, provider_id, effective)] = offer
                    models.setdefault(model_id, ModelRow(id=model_id, name=text(entry.get("name")) or raw_id))
    return ImportBatch(source_file=file, models=list(models.values()), offers=list(offers.values()))


def _dated_prices(prices: Any, where: Where, day: dt.date) -> list[tuple[dt.date, dict[str, Any], bool]]:
    """``(effective date, price set, start unknown)`` by the rules in the module docstring."""
    if isinstance(prices, dict):
        return [(day, prices, False)]
    if not isinstance(prices, list):
        raise where.error("expected 'prices' to be an object or a list", "prices")
    base: dict[str, Any] | None = None
    dated: list[tuple[dt.date, dict[str, Any]]] = []
    windows: list[dict[str, Any]] = []
    for k, item in enumerate(prices):
        if not isinstance(item, dict) or not isinstance(item.get("prices"), dict):
            raise where.error("expected {'constraint', 'prices'}", f"prices[{k}]")
        constraint = item.get("constraint")
        if constraint is None:
            base = item["prices"]
        elif isinstance(constraint, dict) and "start_date" in constraint:
            start = date(constraint["start_date"], where, f"prices[{k}].constraint.start_date")
            if start is None:
                raise where.error("a dated price needs a start_date", f"prices[{k}].constraint.start_date")
            dated.append((start, item["prices"]))
        elif isinstance(constraint, dict) and "start_time" in constraint:
            windows.append(item["prices"])
    started = [start for start, _ in dated if start <= day]
    out = [(start, p, False) for start, p in dated]
    if base is not None:
        before = min(start for start, _ in dated) - dt.timedelta(days=1) if started else day
        out.append((before, base, bool(started)))
    if windows and out:
        newest = max(started) if started else day
        peak = max(windows, key=lambda p: (_price(p.get("output_mtok"), where, "output_mtok") or 0.0))
        out = [(start, {**peak, "off_peak": p} if start == newest else p, o) for start, p, o in out]
    return out


def _price(value: Any, where: Where, field: str) -> float | None:
    if isinstance(value, dict):  # tiered by prompt size: the base tier
        return number(value.get("base"), where, f"{field}.base")
    return number(value, where, field)


def _offer(model_id: str, provider: str, raw_id: str, prices: dict[str, Any], where: Where, effective: dt.date,
           label: str) -> OfferRow | None:
    inp = _price(prices.get("input_mtok"), where, "input_mtok")
    out = _price(prices.get("output_mtok"), where, "output_mtok")
    if inp is None or out is None or (not inp and not out):
        return None
    cached = _price(prices.get("cache_read_mtok"), where, "cache_read_mtok")
    off = prices.get("off_peak")
    if isinstance(off, dict):
        label += (f"; peak rate, off-peak {_price(off.get('input_mtok'), where, 'input_mtok')}"
                  f"/{_price(off.get('output_mtok'), where, 'output_mtok')}")
    return OfferRow(model_id=model_id, provider=provider, effective_date=effective, input_per_m=inp,
                    output_per_m=out, cached_input_per_m=cached,
                    source=f"{label}, provider {provider!r}, model {raw_id!r}, price from {effective}")


__all__ = ["data_module_providers", "parse_genai_prices", "read_genai_prices"]


def _sniff(p: Peek) -> bool:
    if p.members is not None:
        return DATA_MODULE in p.members
    if p.path.suffix.lower() == ".py":
        return "providers" in p.text and "Provider(" in p.text
    data = p.json
    return isinstance(data, list) and bool(data) and all(isinstance(v, dict) and "api_pattern" in v
                                                          and isinstance(v.get("models"), list) for v in data)


SOURCE = Source("genai-prices", parse_genai_prices, sniff=_sniff, default="package:genai-prices",
                dated_by_import=True,
                help="pydantic genai-prices: prices with dated changes (data.json URL, or the package's bundled data)",
                package="genai-prices", member=DATA_MODULE, suffix=".py")
