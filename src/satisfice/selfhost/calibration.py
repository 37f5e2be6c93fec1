"""A bench result as a price: a dated offer of the model at provider ``self-hosted:<name>``, and reading it back.

The offer holds the best level's input and output USD per million tokens (and the cached-input price when the
bench's prompts shared a prefix the server reused, as a task's few-shot prompts do), dated the day of the bench; its
source
is the bench itself in ``key=value`` form (machine, machine price, concurrency, token counts, measured
throughput, input weight), so ``market cost``, ``eval``, ``select`` and the gateway price the model like any API
offer, and ``selfhost compare`` can size machines from the same record. Written in one transaction; an existing
calibration of the same model, name and date is replaced only when asked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from satisfice.catalog.batch import slugify
from satisfice.catalog.rows import Catalog, OfferRow
from satisfice.core import SELF_HOSTED_PREFIX
from satisfice.errors import ConfigError, NotFoundError
from satisfice.formatting import usd
from satisfice.selfhost.bench import BenchResult
from satisfice.store import Store
from satisfice.store.schema import ModelRecord, OfferRecord, Source

SELF_HOSTED = SELF_HOSTED_PREFIX
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}$")
_CITATION_HEAD = "satisfice selfhost bench"
_NUMBERS = ("usd_per_hour", "concurrency", "prompt_tokens", "output_tokens", "requests", "output_tokens_per_s",
            "input_tokens_per_s", "input_weight", "e2e_p95_ms", "ttft_p95_ms")
_OPTIONAL = ("cached_input_tokens_per_s",)
"""Figures older citations lack (read as 0)."""


def provider_name(name: str) -> str:
    """``self-hosted:<name>`` for a lowercase name of letters, digits, ``.``, ``_`` and ``-``."""
    if not _NAME.match(name):
        raise ConfigError(f"--name {name!r}: use lowercase letters, digits, '.', '_' and '-' (e.g. a100-box)")
    return SELF_HOSTED + name


def catalog_id(model: str, base_url: str | None) -> str:
    """The catalog id a bench is saved under: a local id as is, a served name without its vendor prefix, slugged."""
    if base_url is None:
        return model
    return slugify(model.rsplit("/", 1)[-1]) or slugify(model)


@dataclass(frozen=True)
class Calibration:
    """A saved calibration read back from the catalog: its offer and the bench figures in its source."""

    offer: OfferRow
    figures: dict[str, float]
    machine: str

    @property
    def usd_per_hour(self) -> float:
        """Machine price the prices were computed at."""
        return self.figures["usd_per_hour"]

    @property
    def capacity_per_s(self) -> float:
        """Output-equivalent tokens per second one machine serves: ``out_tps + w * in_tps``."""
        f = self.figures
        computed = max(0.0, f["input_tokens_per_s"] - f.get("cached_input_tokens_per_s", 0.0))
        return f["output_tokens_per_s"] + f["input_weight"] * computed


def citation(result: BenchResult, provider: str, task: str | None = None) -> str:
    """The source text of a saved bench: parameters, machine and measured figures as ``key=value``."""
    best = result.best
    if best is None:
        raise ConfigError(f"nothing to save: {result.best_reason}")
    s = best.stats
    c = result.config
    parts = {"model": c.model, "provider": provider, "measured_at": result.measured_at.isoformat(timespec="seconds"),
             "usd_per_hour": f"{c.usd_per_hour:g}", "concurrency": str(s.concurrency),
             "prompt_tokens": f"{s.mean_input_tokens or 0:.1f}", "output_tokens": f"{s.mean_output_tokens or 0:.1f}",
             "requests": str(s.requests), "output_tokens_per_s": f"{s.output_tokens_per_s:.6g}",
             "input_tokens_per_s": f"{s.input_tokens_per_s:.6g}",
             "cached_input_tokens_per_s": f"{s.cached_input_tokens_per_s:.6g}", "input_weight": f"{result.weight:.6g}",
             "e2e_p95_ms": f"{s.e2e_p95_ms or 0:.6g}", "ttft_p95_ms": f"{s.ttft_p95_ms or 0:.6g}",
             "base_url": c.base_url or "in-process", "prompts": f"task {task}" if task else "synthetic",
             "machine": c.machine.replace(";", ",")}
    text = f"{_CITATION_HEAD}; " + "; ".join(f"{k}={v}" for k, v in parts.items())
    return text[:1000]


def parse_citation(text: str) -> tuple[dict[str, float], str] | None:
    """The figures and machine of a bench citation, or None when ``text`` is not one."""
    if not text.startswith(_CITATION_HEAD):
        return None
    pairs = dict(p.split("=", 1) for p in text.split("; ")[1:] if "=" in p)
    try:
        figures = {k: float(pairs[k]) for k in _NUMBERS}
        figures.update({k: float(pairs[k]) for k in _OPTIONAL if k in pairs})
    except (KeyError, ValueError):
        return None
    return figures, pairs.get("machine", "")


def check_free(store: Store, model_id: str, name: str, day: dt.date) -> None:
    """Raise ConfigError now if saving a calibration of ``model_id`` at ``name`` on ``day`` would be refused."""
    provider = provider_name(name)
    with store.session() as s:
        existing = s.scalars(select(OfferRecord).where(OfferRecord.model_id == model_id,
                                                       OfferRecord.provider == provider,
                                                       OfferRecord.effective_date == day)).first()
        if existing is not None:
            raise _taken(model_id, provider, day, existing)


def _taken(model_id: str, provider: str, day: dt.date, existing: OfferRecord) -> ConfigError:
    return ConfigError(f"{model_id} already has a calibration at {provider} dated {day} "
                       f"({usd(existing.input_per_m)}/{usd(existing.output_per_m)} per M in/out); "
                       "pass --replace to replace it, or --name to save under another name")


def save_calibration(store: Store, result: BenchResult, *, name: str, model_id: str, model_name: str | None = None,
                     replace: bool = False, today: dt.date | None = None, task: str | None = None) -> dict[str, Any]:
    """Write the best level's prices as a dated offer of ``model_id`` at ``self-hosted:<name>``.

    ``task`` names the task whose prompts were benched (recorded in the offer's source).

    Returns what was saved (``provider``, ``model_id``, ``effective_date``, ``input_per_m``, ``output_per_m``).

    Raises:
        ConfigError: no level qualified, a bad name, or a different calibration already saved for that day
            (without ``replace``).
    """
    provider = provider_name(name)
    best = result.best
    if best is None or best.prices.usd_per_m_input is None or best.prices.usd_per_m_output is None:
        raise ConfigError(f"nothing to save: {result.best_reason}")
    day = today or result.measured_at.date()
    text = citation(result, provider, task)
    with store.transaction() as s:
        if s.get(ModelRecord, model_id) is None:
            s.add(ModelRecord(id=model_id, name=model_name or model_id, open_weights=True, reasoning=False))
            s.flush()
        existing = s.scalars(select(OfferRecord).where(OfferRecord.model_id == model_id,
                                                       OfferRecord.provider == provider,
                                                       OfferRecord.effective_date == day)).first()
        if existing is not None:
            if not replace:
                raise _taken(model_id, provider, day, existing)
            s.execute(delete(OfferRecord).where(OfferRecord.id == existing.id))
        source = s.scalars(select(Source).where(Source.citation == text)).first()
        if source is None:
            source = Source(citation=text)
            s.add(source)
            s.flush()
        s.add(OfferRecord(model_id=model_id, provider=provider, effective_date=day,
                          input_per_m=best.prices.usd_per_m_input, output_per_m=best.prices.usd_per_m_output,
                          cached_input_per_m=best.prices.usd_per_m_cached_input, source_id=source.id,
                          recorded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    return {"model_id": model_id, "provider": provider, "effective_date": day.isoformat(),
            "input_per_m": best.prices.usd_per_m_input, "output_per_m": best.prices.usd_per_m_output,
            "cached_input_per_m": best.prices.usd_per_m_cached_input, "concurrency": best.stats.concurrency}


def find_calibration(catalog: Catalog, model_id: str, *, name: str | None = None,
                     today: dt.date | None = None) -> Calibration:
    """The calibration of ``model_id`` in force today: at ``self-hosted:<name>``, else the cheapest one.

    Raises:
        NotFoundError: the model has no self-hosted calibration (the message names the command to make one).
    """
    day = today or dt.date.today()
    wanted = provider_name(name) if name is not None else None
    latest: dict[str, Calibration] = {}
    for offer in catalog.offers_of(model_id):
        if not offer.provider.startswith(SELF_HOSTED) or offer.effective_date > day:
            continue
        if wanted is not None and offer.provider != wanted:
            continue
        parsed = parse_citation(offer.source)
        if parsed is not None and offer.input_per_m is not None and offer.output_per_m is not None:
            latest[offer.provider] = Calibration(offer, *parsed)
    if not latest:
        where = f" at {wanted}" if wanted else ""
        raise NotFoundError(f"no self-hosted calibration of {model_id!r}{where}: run "
                            f"`satisfice selfhost bench {model_id} --save` (add --base-url URL for a served model)")
    return min(latest.values(), key=lambda c: (c.offer.blended() or 0.0, c.offer.provider))


__all__ = ["SELF_HOSTED", "Calibration", "catalog_id", "check_free", "citation", "find_calibration", "parse_citation",
           "provider_name", "save_calibration"]
