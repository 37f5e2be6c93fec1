"""Cost at fixed performance: pure analyses over catalog rows (no network, deterministic).

Each function takes a :class:`satisfice.catalog.rows.Catalog` plus parameters and returns a frozen
dataclass with a ``to_json()`` method; nothing here reads or writes files.
"""

from satisfice.market.common import Blend, PricedModel, check_input_share, resolve_benchmark, scored_benchmarks
from satisfice.market.cost import CostResult, cost, parse_tokens
from satisfice.market.frontier import FrontierResult, frontier
from satisfice.market.gap import GapResult, gap
from satisfice.market.overview import annual_bill, cheapest_clearing
from satisfice.market.pareto import ParetoResult, pareto
from satisfice.market.regression import TrendFit, fit_price_trend
from satisfice.market.trends import TrendRow, TrendsResult, epoch_trends

__all__ = [
    "Blend",
    "CostResult",
    "FrontierResult",
    "GapResult",
    "ParetoResult",
    "PricedModel",
    "TrendFit",
    "TrendRow",
    "TrendsResult",
    "annual_bill",
    "check_input_share",
    "cheapest_clearing",
    "cost",
    "epoch_trends",
    "fit_price_trend",
    "frontier",
    "gap",
    "parse_tokens",
    "pareto",
    "resolve_benchmark",
    "scored_benchmarks",
]
