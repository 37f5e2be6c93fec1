"""What one call to a candidate costs: the task's own price override, else the catalog price in force today.

Models whose provider bills machine time (in-process ``local/...`` models) bill by it: their client sets
``Completion.cost_usd`` and no token price applies. A model with neither an override nor a catalog price has
an *unknown* price — reported as unknown, never as $0.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

from satisfice.catalog.rows import Catalog
from satisfice.core import Completion, CompletionRequest, Price, default_provider
from satisfice.errors import ConfigError

PriceSource = Literal["override", "catalog", "machine_time", "unknown"]
FETCH_PRICES = "satisfice pipeline run"
"""The command that fetches today's prices into the catalog (named wherever a price is unknown)."""


def unknown_price_message(model_id: str) -> str:
    """What to say when no price is known for ``model_id``: its cost is unknown (never $0), and how to fix it."""
    return (f"no known price for {model_id}: its cost shows as unknown, never $0; `{FETCH_PRICES}` fetches "
            "today's prices into the catalog, or set input_per_m and output_per_m for it")


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
        return self.source != "unknown"

    def describe(self) -> str:
        """Short human text, e.g. ``catalog (together) $0.20/$0.60 per M``."""
        if self.price is not None:
            where = f"catalog ({self.provider})" if self.source == "catalog" else self.source
            text = f"{where} ${self.price.input_per_m:g}/${self.price.output_per_m:g} per M in/out"
            return f"{text}; {self.note}" if self.note else text
        if self.source == "machine_time":
            return "machine time"
        return f"unknown price (`{FETCH_PRICES}` fetches today's prices)"


def is_local(model_id: str) -> bool:
    """Whether the model runs in-process by default (``local/...``), billed by machine time."""
    return default_provider(model_id) == "local"


def price_for(model_id: str, *, input_per_m: float | None = None, output_per_m: float | None = None,
              catalog: Catalog | None = None, today: dt.date | None = None,
              machine_time: bool | None = None) -> PriceInfo:
    """The price of ``model_id``: the override (both parts), else machine time, else the cheapest catalog offer today.

    ``machine_time`` says whether the model's provider bills machine time (default: :func:`is_local`).

    Raises:
        ConfigError: Only one part of the override is given (a missing side is never counted as $0).
    """
    if input_per_m is not None or output_per_m is not None:
        if input_per_m is None or output_per_m is None:
            raise ConfigError(f"{model_id!r}: give both input_per_m and output_per_m, or neither")
        return PriceInfo(model_id, Price(input_per_m, output_per_m), "override")
    if machine_time if machine_time is not None else is_local(model_id):
        return PriceInfo(model_id, None, "machine_time")
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


def completion_cost(info: PriceInfo, completion: Completion) -> float | None:
    """USD for one completion: billed machine time when the client set it, else tokens at the price, else None."""
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


def estimate_cost(info: PriceInfo, request: CompletionRequest, *, local_guess: float = 0.0) -> float | None:
    """Worst-case USD for ``request`` (for budget reservations); ``local_guess`` for machine-time models."""
    if info.price is not None:
        p = info.price
        return (estimate_prompt_tokens(request) * p.input_per_m
                + estimate_output_tokens(request) * p.output_per_m) / 1_000_000
    if info.source == "machine_time":
        return local_guess
    return None
