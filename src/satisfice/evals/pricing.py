"""What one call to a candidate costs: the task's own price override, else the catalog price in force today.

Models that run on your own machines (provider ``local``: in-process ``local/...`` models) are priced per
token like any other model, at their calibrated self-hosted offer (provider ``self-hosted:<name>``, written by
``satisfice selfhost bench MODEL --save``); without one their price is *uncalibrated* and the note names the
command. A model with neither an override nor a catalog price has an *unknown* price — reported as unknown,
never as $0.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

from satisfice.catalog.rows import Catalog
from satisfice.core import SELF_HOSTED_PREFIX, Completion, CompletionRequest, Price, Usage, default_provider
from satisfice.errors import ConfigError
from satisfice.formatting import usd
from satisfice.tasks.spec import WorkloadSpec

PriceSource = Literal["override", "catalog", "uncalibrated", "unknown"]
FETCH_PRICES = "satisfice pipeline run"
"""The command that fetches today's prices into the catalog (named wherever a price is unknown)."""


def unknown_price_message(model_id: str) -> str:
    """What to say when no price is known for ``model_id``: its cost is unknown (never $0), and how to fix it."""
    return (f"no known price for {model_id}: its cost shows as unknown, never $0; {price_hint(model_id)}, "
            "or set input_per_m and output_per_m for it")


DEFAULT_OUTPUT_RESERVE = 4096
"""Output tokens assumed for a budget reservation when a request sets no ``max_tokens``."""


@dataclass(frozen=True)
class PriceInfo:
    """The price used for one model, and where it came from (``provider`` for catalog prices)."""

    model: str
    price: Price | None
    source: PriceSource
    provider: str | None = None
    note: str = ""

    @property
    def known(self) -> bool:
        """False when the cost of this model's calls cannot be computed."""
        return self.price is not None

    def describe(self) -> str:
        """Short human text, e.g. ``catalog (together) $0.20/$0.60 per M``."""
        if self.price is not None:
            where = f"catalog ({self.provider})" if self.source == "catalog" else self.source
            text = f"{where} {usd(self.price.input_per_m)}/{usd(self.price.output_per_m)} per M in/out"
            return f"{text}; {self.note}" if self.note else text
        if self.source == "uncalibrated":
            return f"uncalibrated; {self.note}" if self.note else "uncalibrated"
        return f"unknown price (`{FETCH_PRICES}` fetches today's prices)"


def price_hint(model_id: str, *, self_hosted: bool | None = None) -> str:
    """How to give ``model_id`` a price: calibrate a self-hosted model, else fetch prices or set them by hand."""
    if self_hosted if self_hosted is not None else is_local(model_id):
        return (f"`{calibrate_command(model_id)}` calibrates it on this machine (`satisfice eval` does so on first "
                "use unless --no-calibrate)")
    return f"`{FETCH_PRICES}` fetches today's prices into the catalog"


def is_local(model_id: str) -> bool:
    """Whether the model runs in-process by default (``local/...``), priced by its self-hosted calibration."""
    return default_provider(model_id) == "local"


def calibrate_command(model_id: str) -> str:
    """The command that calibrates a self-hosted model's price."""
    return f"satisfice selfhost bench {model_id} --save"


def _self_hosted_price(model_id: str, catalog: Catalog | None, today: dt.date) -> PriceInfo:
    """The cheapest self-hosted calibration of a model in force today, else "uncalibrated"."""
    offers = [o for o in (catalog.offers_of(model_id) if catalog is not None else [])
              if o.provider.startswith(SELF_HOSTED_PREFIX) and o.effective_date <= today
              and o.input_per_m is not None and o.output_per_m is not None]
    latest = {o.provider: o for o in offers}  # offers come oldest first: the last one per provider is in force
    if not latest:
        return PriceInfo(model_id, None, "uncalibrated", note=f"calibrate it: {calibrate_command(model_id)}")
    offer = min(latest.values(), key=lambda o: (o.blended() or 0.0, o.provider))
    assert offer.input_per_m is not None and offer.output_per_m is not None
    return PriceInfo(model_id, Price(offer.input_per_m, offer.output_per_m, offer.cached_input_per_m), "catalog",
                     provider=offer.provider, note=f"calibrated {offer.effective_date}")


def price_for(model_id: str, *, input_per_m: float | None = None, output_per_m: float | None = None,
              catalog: Catalog | None = None, today: dt.date | None = None,
              self_hosted: bool | None = None) -> PriceInfo:
    """The price of ``model_id``: the override (both parts), else the catalog's default offer today.

    The default offer is the model's first-party price (else a serving provider's); a reseller's or a
    subscription's price is never used, so a model known only through one has an unknown price.

    ``self_hosted`` says whether the model runs on your own machines (default: :func:`is_local`): then only its
    self-hosted calibrations count, and without one the price is "uncalibrated".

    Raises:
        ConfigError: Only one part of the override is given (a missing side is never counted as $0).
    """
    if input_per_m is not None or output_per_m is not None:
        if input_per_m is None or output_per_m is None:
            raise ConfigError(f"{model_id!r}: give both input_per_m and output_per_m, or neither")
        return PriceInfo(model_id, Price(input_per_m, output_per_m), "override")
    if self_hosted if self_hosted is not None else is_local(model_id):
        return _self_hosted_price(model_id, catalog, today or dt.date.today())
    if catalog is not None:
        offer = catalog.price_at(model_id, today or dt.date.today())
        if offer is not None:
            if offer.input_per_m is not None and offer.output_per_m is not None:
                cached = offer.cached_input_per_m
                return PriceInfo(model_id, Price(offer.input_per_m, offer.output_per_m, cached), "catalog",
                                 provider=offer.provider)
            if offer.blended_per_m is not None:
                return PriceInfo(model_id, Price(offer.blended_per_m, offer.blended_per_m), "catalog",
                                 provider=offer.provider,
                                 note="only a blended price is known; used for input and output tokens")
    return PriceInfo(model_id, None, "unknown")


def per_request_for_workload(info: PriceInfo | None, workload: WorkloadSpec | None, measured: float | None,
                             tin: float | None, tout: float | None) -> tuple[float | None, str | None]:
    """Cost per request for the workload's token counts (where given) at the model's price, else the measured one.

    Returns the cost and its basis (``workload tokens``, ``workload + measured tokens``, ``measured cost per
    request``), or ``(None, None)`` without a workload.
    """
    if workload is None:
        return None, None
    price: Price | None = info.price if info is not None else None
    wl_in, wl_out = workload.input_tokens_per_request, workload.output_tokens_per_request
    if price is not None and (wl_in is not None or wl_out is not None):
        use_in = wl_in if wl_in is not None else (tin or 0.0)
        use_out = wl_out if wl_out is not None else (tout or 0.0)
        basis = "workload tokens" if wl_in is not None and wl_out is not None else "workload + measured tokens"
        return price.cost(Usage(round(use_in), round(use_out))), basis
    return measured, ("measured cost per request" if measured is not None else None)


def completion_cost(info: PriceInfo, completion: Completion) -> float | None:
    """USD for one completion: the provider's own bill when the client set it, else tokens at the price, else None."""
    if completion.cost_usd is not None:
        return completion.cost_usd
    if info.price is not None:
        return info.price.cost(completion.usage)
    return None


def estimate_prompt_tokens(request: CompletionRequest) -> int:
    """A deliberately high estimate of prompt tokens: UTF-8 bytes / 3 plus a few per chat message.

    English runs ~4 characters per token for common tokenizers, so this over-reserves rather than under-.
    """
    if request.prompt is not None:
        size = len(request.prompt.encode("utf-8"))
        return math.ceil(size / 3) + 4
    size = sum(len(m.content.encode("utf-8")) for m in request.messages)
    return math.ceil(size / 3) + 8 * max(1, len(request.messages))


def estimate_output_tokens(request: CompletionRequest) -> int:
    """Upper bound of output tokens: ``max_tokens`` or :data:`DEFAULT_OUTPUT_RESERVE`."""
    return request.max_tokens if request.max_tokens is not None else DEFAULT_OUTPUT_RESERVE


def estimate_cost(info: PriceInfo, request: CompletionRequest) -> float | None:
    """Worst-case USD for ``request`` (for budget reservations); None when the price is not known."""
    if info.price is not None:
        p = info.price
        return (estimate_prompt_tokens(request) * p.input_per_m
                + estimate_output_tokens(request) * p.output_per_m) / 1_000_000
    return None
