"""One model's result against a threshold: the one record that ``select`` and ``eval`` both report.

The decision fields (n, accuracy, interval, cost per request, decision) come from the selection rule of
:mod:`satisfice.evals.select` or the sequential test of :mod:`satisfice.evals.adaptive`; a run
(:mod:`satisfice.evals.results`) fills in what it measured besides (errors, dollars, latency, tokens, savings).
A recorded table measures none of that, so those fields keep their defaults there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from satisfice.evals.stats import Decision


@dataclass
class ModelResult:
    """One model's standing against the threshold (accuracy over scored items, interval, cost, decision)."""

    model: str
    n: int
    """Items scored (what the accuracy is over)."""
    n_missing: int
    """Items with no score: empty cells of a recorded table, or a run's errors plus items not run."""
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None
    cost_per_request: float | None
    decision: Decision
    extras: dict[str, Any] = field(default_factory=dict)
    """Rule-specific detail: ``missing_could_flip``, ``missing_policy``, ``pass_level``; adaptive ``status``,
    ``eval_spend`` and, with a full report, ``exhaustive_decision``."""
    latency_p50_s: float | None = None
    """Median seconds per answer when measured (an eval run); breaks ties between models of unknown cost."""
    pass_bound: float | None = None
    """The lower bound the pass decision uses (one-sided at this model's share of the error budget)."""
    items_used: int | None = None
    """Adaptive selection: items evaluated for this model before it was decided (None when exhaustive)."""
    n_errors: int = 0
    """Items that ended in an error (never scored; counted conservatively by a run)."""
    n_not_run: int = 0
    """Items a run never attempted (a budget stop, or an adaptive run that decided early)."""
    decision_note: str = ""
    price_source: str = "unknown"
    price_note: str = ""
    n_responses: int = 0
    cost_run: float | None = None
    cost_per_1k: float | None = None
    annual_cost: float | None = None
    annual_basis: str | None = None
    latency_p95_s: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    retries: int = 0
    cache_hits: int = 0
    judge_cost: float = 0.0
    spent_usd: float = 0.0
    savings_per_year: float | None = None
    savings_per_1k: float | None = None
    savings_fraction: float | None = None
    ni_diff: float | None = None
    ni_lower: float | None = None
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    error_example: str | None = None
    """The first error's message (provider keys never appear in it), so the report can say what went wrong."""

    @property
    def stopped(self) -> bool:
        """Adaptive selection left this model once its full data could not pass (more items would not settle it)."""
        return str(self.extras.get("status", "")).startswith("stopped")

    def to_json(self) -> dict[str, Any]:
        """The agreed JSON fields of one model (``select --json``; ``eval --json`` adds its own)."""
        return {"model": self.model, "n": self.n, "n_missing": self.n_missing, "accuracy": self.accuracy,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "cost_per_request": self.cost_per_request,
                "decision": self.decision}


__all__ = ["ModelResult"]
