"""satisfice: find, prove and serve the cheapest LLM that is good enough for your task.

The public API. Plain values and errors load at once; the heavier parts (store, catalog, market, evals,
clients) load on first use, so ``import satisfice`` stays cheap and has no side effects.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from satisfice.core import (
    DEFAULT_INPUT_SHARE,
    Completion,
    CompletionRequest,
    Message,
    ModelClient,
    ModelRef,
    Price,
    Score,
    Usage,
    blend,
)
from satisfice.errors import (
    BadResponse,
    ConfigError,
    DataError,
    NotFoundError,
    ProviderError,
    RateLimited,
    SatisficeError,
    Timeout,
    UpstreamUnavailable,
)

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Store": "satisfice.store",
    "open_store": "satisfice.store",
    "Catalog": "satisfice.catalog.rows",
    "load_catalog": "satisfice.catalog.repository",
    "apply_batch": "satisfice.catalog.repository",
    "parse_file": "satisfice.catalog.sources",
    "frontier": "satisfice.market",
    "epoch_trends": "satisfice.market",
    "gap": "satisfice.market",
    "cost": "satisfice.market",
    "pareto": "satisfice.market",
    "make_client": "satisfice.clients",
    "load_task": "satisfice.tasks.spec",
    "parse_threshold": "satisfice.tasks.threshold",
    "clopper_pearson": "satisfice.evals.stats",
    "load_outcomes": "satisfice.evals.outcomes",
    "select_from_outcomes": "satisfice.evals.select",
    "select_adaptive": "satisfice.evals.adaptive",
    "evaluate": "satisfice.evals.api",
    "EvalResult": "satisfice.evals.api",
}

if TYPE_CHECKING:
    from satisfice.catalog.repository import apply_batch, load_catalog
    from satisfice.catalog.rows import Catalog
    from satisfice.catalog.sources import parse_file
    from satisfice.clients import make_client
    from satisfice.evals.adaptive import select_adaptive
    from satisfice.evals.api import EvalResult, evaluate
    from satisfice.evals.outcomes import load_outcomes
    from satisfice.evals.select import select_from_outcomes
    from satisfice.evals.stats import clopper_pearson
    from satisfice.market import cost, epoch_trends, frontier, gap, pareto
    from satisfice.store import Store, open_store
    from satisfice.tasks.spec import load_task
    from satisfice.tasks.threshold import parse_threshold


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'satisfice' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_INPUT_SHARE",
    "BadResponse",
    "Catalog",
    "Completion",
    "CompletionRequest",
    "ConfigError",
    "DataError",
    "EvalResult",
    "Message",
    "ModelClient",
    "ModelRef",
    "NotFoundError",
    "Price",
    "ProviderError",
    "RateLimited",
    "SatisficeError",
    "Score",
    "Store",
    "Timeout",
    "UpstreamUnavailable",
    "Usage",
    "__version__",
    "apply_batch",
    "blend",
    "clopper_pearson",
    "cost",
    "epoch_trends",
    "evaluate",
    "frontier",
    "gap",
    "load_catalog",
    "load_outcomes",
    "load_task",
    "make_client",
    "open_store",
    "pareto",
    "parse_file",
    "parse_threshold",
    "select_adaptive",
    "select_from_outcomes",
]
