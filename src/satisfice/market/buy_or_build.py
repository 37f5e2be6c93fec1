"""Buy or build: the annual bill of serving a workload on your own machines against API offers, and the break-even.

Sizing. A calibrated machine serves ``capacity = out_tps + w * in_tps`` output-equivalent tokens per second (see
:mod:`satisfice.selfhost.economics`). A workload of ``N`` tokens a day with input share ``S`` needs, at its peak
(``peak_factor`` times the daily average), ``N * ((1 - S) + w * S) * peak_factor / 86400`` of them per second;
machines = that / capacity, rounded up to whole machines (at least one), each paid ``H`` every hour of the year.
Utilisation = average load / capacity of the machines bought.

An API bills tokens: ``N / 1e6 * blended * 365`` (:func:`~satisfice.market.overview.annual_bill`). One machine
costs ``H * 8760`` a year, so it breaks even with an API at ``H * 24 * 1e6 / blended`` tokens a day — if one
machine can carry that load at its peak; otherwise the API is cheaper at every volume. The cheapest model clearing
a bar is :func:`~satisfice.market.overview.cheapest_clearing` at list prices (first-party or serving), self-hosted
offers left out.

The machines' figures come from a calibration (:mod:`satisfice.selfhost`); this module only weighs them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from satisfice.catalog.rows import Catalog, OfferRow
from satisfice.core import DAYS_PER_YEAR, DEFAULT_INPUT_SHARE, SELF_HOSTED_PREFIX, blend
from satisfice.errors import ConfigError
from satisfice.formatting import usd
from satisfice.market.overview import annual_bill, cheapest_clearing
from satisfice.selfhost.calibration import Calibration
from satisfice.selfhost.economics import HOURS_PER_YEAR

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Workload:
    """Tokens a day, the share of them that are input, and how far the peak rate exceeds the daily average."""

    tokens_per_day: float
    input_share: float = DEFAULT_INPUT_SHARE
    peak_factor: float = 1.0

    def __post_init__(self) -> None:
        if not self.tokens_per_day > 0:
            raise ConfigError(f"--tokens-per-day must be > 0, got {self.tokens_per_day:g}")
        if not 0.0 <= self.input_share <= 1.0:
            raise ConfigError(f"--input-share must be within [0, 1], got {self.input_share:g}")
        if not self.peak_factor >= 1.0:
            raise ConfigError(f"--peak-factor must be >= 1 (peak rate / average rate), got {self.peak_factor:g}")

    def api_annual(self, input_per_m: float, output_per_m: float) -> float:
        """USD a year at an API's input and output prices."""
        return annual_bill(blend(input_per_m, output_per_m, self.input_share), self.tokens_per_day)


@dataclass(frozen=True)
class SelfHosted:
    """Whole machines for the peak, their annual bill and how busy they are."""

    machines: int
    utilisation: float
    annual_usd: float
    usd_per_hour: float
    usd_per_m_effective: float
    """Annual bill / tokens served: the price actually paid per million tokens at this utilisation."""
    usd_per_m_full_load: float
    """Blended price per million tokens if the machines were always fully used (the calibrated offer's blend)."""
    capacity_tokens_per_day: float
    """Tokens a day one machine carries at this input share and peak factor."""


def self_hosted(cal: Calibration, work: Workload, usd_per_hour: float | None = None) -> SelfHosted:
    """Size and price the machines for ``work`` at the calibration's throughput (``usd_per_hour`` overrides)."""
    h = cal.usd_per_hour if usd_per_hour is None else usd_per_hour
    if not h > 0:
        raise ConfigError(f"--usd-per-hour must be > 0, got {h:g}")
    weight = cal.figures["input_weight"]
    per_token = (1.0 - work.input_share) + weight * work.input_share  # output-equivalents per workload token
    capacity = cal.capacity_per_s
    if capacity <= 0:
        raise ConfigError(f"calibration at {cal.offer.provider} measured no throughput; run the bench again")
    average = work.tokens_per_day * per_token / SECONDS_PER_DAY
    machines = max(1, math.ceil(average * work.peak_factor / capacity - 1e-9))
    annual = machines * h * HOURS_PER_YEAR
    full_load = h / 3600.0 / capacity * 1e6 * per_token  # USD per million workload tokens at 100% use
    return SelfHosted(machines=machines, utilisation=average / (machines * capacity), annual_usd=annual,
                      usd_per_hour=h, usd_per_m_effective=annual / (work.tokens_per_day * DAYS_PER_YEAR / 1e6),
                      usd_per_m_full_load=full_load,
                      capacity_tokens_per_day=capacity * SECONDS_PER_DAY / per_token / work.peak_factor)


def api_offers(catalog: Catalog, model_id: str, day: dt.date) -> list[OfferRow]:
    """The API offers of ``model_id`` in force on ``day`` (latest per provider; self-hosted ones left out)."""
    latest: dict[str, OfferRow] = {}
    for offer in catalog.offers_of(model_id):
        if offer.effective_date <= day and not offer.provider.startswith(SELF_HOSTED_PREFIX):
            latest[offer.provider] = offer
    return sorted((o for o in latest.values() if o.blended() is not None), key=lambda o: (o.blended(), o.provider))


def _prices(offer: OfferRow) -> tuple[float, float]:
    if offer.input_per_m is not None and offer.output_per_m is not None:
        return offer.input_per_m, offer.output_per_m
    b = offer.blended_per_m or 0.0
    return b, b


def api_catalog(catalog: Catalog) -> Catalog:
    """The catalog without its self-hosted offers: what an API charges."""
    return Catalog.build(catalog.models.values(), [o for o in catalog.offers
                                                   if not o.provider.startswith(SELF_HOSTED_PREFIX)],
                         catalog.scores, catalog.benchmarks.values())


def _bar(catalog: Catalog, benchmark: str, threshold: float, work: Workload, day: dt.date,
         host: SelfHosted) -> dict[str, Any]:
    """The cheapest API model clearing the bar, priced for the workload against the machines."""
    if benchmark not in {s.benchmark for s in catalog.scores}:
        known = ", ".join(sorted({s.benchmark for s in catalog.scores})) or "none"
        raise ConfigError(f"--benchmark {benchmark!r} has no scores in the catalog (benchmarks with scores: {known})")
    apis = api_catalog(catalog)
    found = cheapest_clearing(apis, benchmark, threshold, work.input_share, day, provider="any")
    offer = None if found is None else apis.price_at(found.model, day, provider=found.price_provider,
                                                     input_share=work.input_share)
    if found is None or offer is None:
        return {"benchmark": benchmark, "threshold": threshold, "model": None,
                "note": "no priced catalog model clears this bar"}
    inp, out = _prices(offer)
    annual = work.api_annual(inp, out)
    return {"benchmark": benchmark, "threshold": threshold, "model": found.model, "name": found.name,
            "score": found.score, "provider": offer.provider, "input_per_m": inp, "output_per_m": out,
            "blended_per_m": blend(inp, out, work.input_share), "annual_usd": annual,
            "self_hosted_saves_usd": annual - host.annual_usd, "break_even": break_even(host, inp, out, work)}


def break_even(host: SelfHosted, input_per_m: float, output_per_m: float, work: Workload) -> dict[str, Any]:
    """Tokens a day at which one machine costs what the API costs, or why there is none."""
    api_blended = blend(input_per_m, output_per_m, work.input_share)
    if api_blended <= 0:
        return {"tokens_per_day": None, "note": "the API price is $0"}
    tokens = host.usd_per_hour * 24 * 1e6 / api_blended
    if tokens > host.capacity_tokens_per_day:
        return {"tokens_per_day": None,
                "note": (f"never: at full load a machine costs {usd(host.usd_per_m_full_load)}/M, more than the "
                         f"API's {usd(api_blended)}/M")}
    return {"tokens_per_day": tokens,
            "note": (f"one machine at {tokens / host.capacity_tokens_per_day:.0%} of its capacity; above this "
                     "self-hosting is cheaper, except just after each added machine")}


def compare(catalog: Catalog, cal: Calibration, model_id: str, work: Workload, *, usd_per_hour: float | None = None,
            benchmark: str | None = None, threshold: float | None = None,
            today: dt.date | None = None) -> dict[str, Any]:
    """The whole comparison as one JSON-ready document (see the module docstring for every formula)."""
    if (benchmark is None) != (threshold is None):
        raise ConfigError("give --benchmark and --threshold together")
    day = today or dt.date.today()
    host = self_hosted(cal, work, usd_per_hour)
    rows = []
    for offer in api_offers(catalog, model_id, day):
        inp, out = _prices(offer)
        annual = work.api_annual(inp, out)
        rows.append({"model": model_id, "provider": offer.provider, "effective_date": offer.effective_date.isoformat(),
                     "input_per_m": inp, "output_per_m": out, "blended_per_m": blend(inp, out, work.input_share),
                     "annual_usd": annual, "self_hosted_saves_usd": annual - host.annual_usd,
                     "break_even": break_even(host, inp, out, work)})
    bar = _bar(catalog, benchmark, threshold, work, day, host) if benchmark is not None and threshold is not None \
        else None
    return {
        "model": model_id, "tokens_per_day": work.tokens_per_day, "input_share": work.input_share,
        "peak_factor": work.peak_factor,
        "calibration": {"provider": cal.offer.provider, "effective_date": cal.offer.effective_date.isoformat(),
                        "machine": cal.machine, "usd_per_hour": cal.usd_per_hour,
                        "concurrency": int(cal.figures["concurrency"]),
                        "output_tokens_per_s": cal.figures["output_tokens_per_s"],
                        "input_tokens_per_s": cal.figures["input_tokens_per_s"],
                        "input_weight": cal.figures["input_weight"], "e2e_p95_ms": cal.figures["e2e_p95_ms"]},
        "self_hosted": {"machines": host.machines, "utilisation": host.utilisation, "usd_per_hour": host.usd_per_hour,
                        "annual_usd": host.annual_usd, "usd_per_m_effective": host.usd_per_m_effective,
                        "usd_per_m_full_load": host.usd_per_m_full_load,
                        "capacity_tokens_per_day_per_machine": host.capacity_tokens_per_day},
        "api_offers": rows, "bar": bar,
    }


__all__ = ["SelfHosted", "Workload", "api_catalog", "api_offers", "break_even", "compare", "self_hosted"]
