"""The cost to run a benchmark: tokens per task x the price in force x the benchmark's item count, per model.

Blended $/M hides verbosity: a reasoning model that writes ten times more tokens per task costs ten
times more to run at the same per-token price. A model's run cost comes from a score observation of
that benchmark that publishes tokens per task (input, cached input, output including reasoning),
priced at the model's offer in force on the date; or, when a source publishes only its measured cost
per task, from that cost as measured. Every row names the harness and the source of its token counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from satisfice.catalog.rows import Catalog, ModelRow, OfferRow, ScoreRow
from satisfice.core import DEFAULT_INPUT_SHARE
from satisfice.formatting import usd
from satisfice.market.common import benchmark_name, check_input_share, resolve_benchmark

ITEMS: dict[str, int] = {
    "gpqa-diamond": 198,
    "mmlu": 14042,
    "mmlu-pro": 12032,
    "swe-bench-verified": 500,
    "humaneval": 164,
    "math-500": 500,
    "math-level-5": 1324,
}
"""Items (tasks) in the public test set of each built-in benchmark; an observation's own count wins."""

MEASURED_FIRST = frozenset({"artificial-analysis"})
"""Harnesses whose published input tokens include cache hits without saying how many: pricing them all as
fresh input would overstate the run several times over (Artificial Analysis's agentic evaluations re-read
long contexts), so their own measured cost is used when they publish one, and their tokens are shown."""


@dataclass(frozen=True)
class RunCostRow:
    """One model's cost to run the benchmark once."""

    model: str
    name: str
    run_cost_usd: float
    items: int
    input_tokens: float | None
    cached_tokens: float | None
    output_tokens: float | None
    effort: str
    harness: str
    source: str
    score: float
    blended_price: float | None
    """Blended $/M of the model's offer in force (what it costs per token; None when unpriced)."""
    price_date: dt.date | None
    basis: str
    """``tokens x price`` (priced here) or ``measured cost`` (the source's own cost per task)."""

    def to_json(self) -> dict[str, Any]:
        """The contract keys plus the score, the price used and how the cost was computed."""
        return {"model": self.model, "name": self.name, "run_cost_usd": self.run_cost_usd, "items": self.items,
                "input_tokens": self.input_tokens, "cached_tokens": self.cached_tokens,
                "output_tokens": self.output_tokens, "effort": self.effort, "harness": self.harness,
                "source": self.source, "score": self.score, "blended_price": self.blended_price,
                "price_date": self.price_date.isoformat() if self.price_date else None, "basis": self.basis}


@dataclass(frozen=True)
class Reversal:
    """A pair where the per-token price and the run cost disagree."""

    cheaper_per_token: str
    dearer_to_run: str
    price_ratio: float
    """Blended price of the other model / this one (> 1)."""
    run_cost_ratio: float
    """Run cost of this model / the other one (> 1)."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {"cheaper_per_token": self.cheaper_per_token, "dearer_to_run": self.dearer_to_run,
                "price_ratio": self.price_ratio, "run_cost_ratio": self.run_cost_ratio}


@dataclass(frozen=True)
class RunCostResult:
    """Everything ``market run-cost`` reports."""

    benchmark: str
    benchmark_name: str
    as_of: dt.date
    rows: tuple[RunCostRow, ...]
    reversals: tuple[Reversal, ...]
    without_tokens: tuple[str, ...]
    """Models scored on the benchmark whose sources publish no tokens or cost per task."""

    def to_json(self) -> dict[str, Any]:
        """``{"benchmark", "as_of", "rows": [...]}`` plus the reversals and the models left out."""
        return {"benchmark": self.benchmark, "benchmark_name": self.benchmark_name, "as_of": self.as_of.isoformat(),
                "rows": [r.to_json() for r in self.rows], "reversals": [r.to_json() for r in self.reversals],
                "without_tokens": list(self.without_tokens)}

    def summary(self) -> str:
        """One line: how many models, the cheapest to run, and the first reversal."""
        if not self.rows:
            return (f"No model has published tokens or cost per task on {self.benchmark_name}; "
                    f"{len(self.without_tokens)} scored model(s) lack them.")
        cheapest = self.rows[0]
        line = (f"{len(self.rows)} model(s) with tokens or a measured cost per task; cheapest to run: {cheapest.name} "
                f"({usd(cheapest.run_cost_usd)} for {cheapest.items} item{'' if cheapest.items == 1 else 's'}).")
        if self.reversals:
            r = self.reversals[0]
            line += (f" {r.cheaper_per_token} is {r.price_ratio:.3g}x cheaper per token than {r.dearer_to_run} but "
                     f"{r.run_cost_ratio:.3g}x dearer to run.")
        return line




def _with_tokens(observations: list[ScoreRow]) -> ScoreRow | None:
    usable = [o for o in observations if o.output_tokens is not None or o.cost_per_task is not None]
    if not usable:
        return None
    return max(usable, key=lambda o: (o.output_tokens is not None, o.date or dt.date.min))


def _priced(catalog: Catalog, obs: ScoreRow, items: int, day: dt.date, share: float,
            provider: str | None = None) -> tuple[float, OfferRow | None, str] | None:
    offer = catalog.price_at(obs.model_id, day, input_share=share, provider=provider)
    if obs.cost_per_task is not None and obs.cached_tokens is None and obs.harness in MEASURED_FIRST:
        return obs.cost_per_task * items, offer, "measured cost"
    if obs.output_tokens is not None and offer is not None and offer.input_per_m is not None \
            and offer.output_per_m is not None:
        cached = obs.cached_tokens or 0.0
        fresh = max((obs.input_tokens or 0.0) - cached, 0.0)
        cached_price = offer.cached_input_per_m if offer.cached_input_per_m is not None else offer.input_per_m
        per_task = (fresh * offer.input_per_m + cached * cached_price + obs.output_tokens * offer.output_per_m) / 1e6
        return per_task * items, offer, "tokens x price"
    if obs.cost_per_task is not None:
        return obs.cost_per_task * items, offer, "measured cost"
    return None


def run_cost(catalog: Catalog, benchmark: str, as_of: dt.date | None = None,
             input_share: float = DEFAULT_INPUT_SHARE, *, provider: str | None = None) -> RunCostResult:
    """Cost to run ``benchmark`` once per model, cheapest first, at the prices in force on ``as_of``.

    Args:
        catalog: the catalog snapshot.
        benchmark: benchmark slug, display name or alias.
        as_of: the date whose prices apply (default today).
        input_share: share of input tokens in the blended price shown next to the run cost.
        provider: whose price (None: the default, first-party offer; ``any``; or a provider id).
    """
    share = check_input_share(input_share)
    slug = resolve_benchmark(catalog, benchmark)
    day = as_of or dt.date.today()
    rows: list[RunCostRow] = []
    missing: list[str] = []
    for model_id in sorted({s.model_id for s in catalog.scores if s.benchmark == slug}):
        model = catalog.models.get(model_id) or ModelRow(model_id, model_id)  # an eval run's own model name
        observations = [o for o in catalog.observations(model.id, slug)
                        if catalog.harness is None or o.harness == catalog.harness]
        if not observations:
            continue
        obs = _with_tokens(observations)
        items = (obs.items if obs is not None and obs.items else None) or ITEMS.get(slug)
        priced = _priced(catalog, obs, items, day, share, provider) if obs is not None and items else None
        if obs is None or priced is None or items is None:
            missing.append(model.name)
            continue
        cost, offer, basis = priced
        rows.append(RunCostRow(
            model=model.id, name=model.name, run_cost_usd=cost, items=items, input_tokens=obs.input_tokens,
            cached_tokens=obs.cached_tokens, output_tokens=obs.output_tokens, effort=obs.effort,
            harness=obs.harness, source=obs.source, score=obs.value,
            blended_price=offer.blended(share) if offer is not None else None,
            price_date=offer.effective_date if offer is not None else None, basis=basis))
    rows.sort(key=lambda r: (r.run_cost_usd, r.model))
    return RunCostResult(slug, benchmark_name(catalog, slug), day, tuple(rows), tuple(reversals(rows)),
                         tuple(sorted(missing)))


def reversals(rows: list[RunCostRow]) -> list[Reversal]:
    """Pairs where one model is cheaper per token but dearer to run, the largest run-cost gap first."""
    found: list[Reversal] = []
    priced = [r for r in rows if r.blended_price]
    for a in priced:
        for b in priced:
            assert a.blended_price is not None and b.blended_price is not None
            if a.blended_price < b.blended_price and a.run_cost_usd > b.run_cost_usd:
                found.append(Reversal(a.name, b.name, b.blended_price / a.blended_price,
                                      a.run_cost_usd / b.run_cost_usd))
    return sorted(found, key=lambda r: (-r.run_cost_ratio, r.cheaper_per_token, r.dearer_to_run))
