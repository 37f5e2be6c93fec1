"""The annual bill of a workload per model (``market cost``), by :func:`~satisfice.market.overview.annual_bill`.

The price is each model's default offer in force (first-party, else serving): a reseller's or a
subscription bundle's price is used only when ``provider`` names that provider.

For 100M tokens a day, a blended $15/M costs $547,500 a year, $3/M $109,500 and $0.25/M $9,125.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from satisfice.catalog.batch import slugify
from satisfice.catalog.rows import Catalog, ModelRow
from satisfice.core import DAYS_PER_YEAR, DEFAULT_INPUT_SHARE
from satisfice.errors import NotFoundError
from satisfice.formatting import usd
from satisfice.market.common import Blend, PricedModel, check_input_share, priced
from satisfice.market.overview import annual_bill

_SUFFIX = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
_TOKENS = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*([kmbgt]?)\s*$", re.IGNORECASE)


def parse_tokens(text: str) -> float:
    """Tokens per day from ``100M``, ``2.5B``, ``750k``, ``1e6`` or ``1,000,000``.

    Raises:
        ValueError: not a positive amount in that form.
    """
    match = _TOKENS.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a token count (examples: 100M, 2.5B, 750k, 1000000)")
    value = float(match.group(1).replace(",", "").replace("_", "")) * _SUFFIX[match.group(2).lower()]
    if value <= 0:
        raise ValueError(f"token count must be positive, got {text!r}")
    return value


@dataclass(frozen=True)
class CostRow:
    """One model's bill."""

    model: PricedModel
    provider: str | None
    annual_usd: float | None
    ratio_to_first: float | None
    provider_kind: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {**self.model.to_json(), "provider": self.provider, "provider_kind": self.provider_kind,
                "annual_usd": self.annual_usd,
                "daily_usd": self.annual_usd / DAYS_PER_YEAR if self.annual_usd is not None else None,
                "ratio_to_first": self.ratio_to_first}


@dataclass(frozen=True)
class CostResult:
    """Everything ``market cost`` reports."""

    tokens_per_day: float
    blend: Blend
    as_of: dt.date | None
    rows: tuple[CostRow, ...]

    def summary(self) -> str:
        """One line naming the workload, the blend and the first model's bill."""
        first = self.rows[0] if self.rows else None
        head = f"{self.tokens_per_day:,.0f} tokens/day, {self.blend.label} blend"
        if first is None or first.annual_usd is None:
            return head
        return f"{head}: {first.model.name} costs {usd(first.annual_usd)}/year; ratios are against it"

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``market cost --json``."""
        return {"tokens_per_day": self.tokens_per_day, **self.blend.to_json(),
                "as_of": self.as_of.isoformat() if self.as_of else None,
                "ratio_direction": "annual_usd / annual_usd of the first model named",
                "models": [r.to_json() for r in self.rows]}


def find_model(catalog: Catalog, ref: str) -> ModelRow:
    """A model by id, slug of its name, or name (case-insensitive).

    Raises:
        NotFoundError: no such model; the message suggests close ids.
    """
    if ref in catalog.models:
        return catalog.models[ref]
    slug = slugify(ref)
    if slug in catalog.models:
        return catalog.models[slug]
    for model in catalog.models.values():
        if model.name.lower() == ref.lower() or slugify(model.name) == slug:
            return model
    close = difflib.get_close_matches(slug, list(catalog.models), n=5)
    hint = f"; did you mean: {', '.join(close)}" if close else ""
    raise NotFoundError(f"unknown model {ref!r}{hint}")


def cost(catalog: Catalog, models: Sequence[str], tokens_per_day: float,
         input_share: float = DEFAULT_INPUT_SHARE, as_of: dt.date | None = None, *,
         provider: str | None = None) -> CostResult:
    """Annual bill of ``tokens_per_day`` per model, at the price in force on ``as_of`` (default: latest).

    ``provider``: None for each model's default price, ``"any"`` for its cheapest list price, or a provider id.
    """
    share = check_input_share(input_share)
    if tokens_per_day <= 0:
        raise ValueError("tokens_per_day must be positive")
    day = as_of or dt.date.max
    rows: list[CostRow] = []
    first_bill: float | None = None
    for i, ref in enumerate(models):
        model = find_model(catalog, ref)
        offer = catalog.price_at(model.id, day, input_share=share, provider=provider)
        row = priced(model, None, offer, share)
        bill = annual_bill(row.blended_price, tokens_per_day) if row.blended_price is not None else None
        if i == 0:
            first_bill = bill
        ratio = bill / first_bill if bill is not None and first_bill else None
        rows.append(CostRow(row, offer.provider if offer else None, bill, ratio,
                            offer.provider_kind if offer else None))
    return CostResult(tokens_per_day, Blend(share), as_of, tuple(rows))
