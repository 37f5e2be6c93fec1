"""The selection rule: per-model decisions against a threshold over recorded outcomes.

Fixed-sample ("exhaustive") selection. Each model is decided on all its items by the full-data rule of
:mod:`satisfice.evals.error_budget`: it passes when its exact lower bound at its share of the error budget
(alpha split evenly over the candidates) clears the bar, and fails when its upper bound at alpha/2 is below it.
So P(recommending a model whose true accuracy is below the bar) <= 1 - confidence over all candidates, the
same guarantee as adaptive selection (:mod:`satisfice.evals.adaptive`), which predicts this very rule. The
recommendation is the cheapest passing model by mean cost per request, and its sentence, come from
:mod:`satisfice.evals.recommendation` (shared with ``satisfice eval``). The reported interval is the plain
two-sided one at the stated confidence; ``pass_bound`` is the lower bound the pass decision uses.

Missing outcomes (an empty cell in a recorded table). Default policy ``"observed"``: the decision uses the
observed items only (n counts them, n_missing is reported), which is right when outcomes are missing at
random. Because that assumption cannot be checked, every result also says whether the missing items could
flip it: ``extras["missing_could_flip"]`` is True when the decision would not survive counting the missing
items as failures (for a pass) or as successes (for a fail). Policy ``"conservative"`` makes that the rule
(exactly how the runner counts errors), so nothing about the missing items can reverse a decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from satisfice.evals.error_budget import Allocation, ErrorBudget, budgets, pass_bound, target_decision
from satisfice.evals.model_result import ModelResult
from satisfice.evals.outcomes import OutcomesTable
from satisfice.evals.recommendation import baseline, recommend, recommendation_basis, recommendation_sentence
from satisfice.evals.stats import Decision, clopper_pearson, decide, paired_non_inferiority
from satisfice.formatting import number, usd
from satisfice.tasks.threshold import Threshold

MissingPolicy = Literal["observed", "conservative"]
MISSING_POLICIES: tuple[MissingPolicy, ...] = ("observed", "conservative")


@dataclass
class Selection:
    """The decision for every candidate and the recommended (cheapest passing) model."""

    threshold: float | None
    confidence: float
    models: list[ModelResult]
    recommended: str | None
    reference: str | None = None
    margin: float | None = None
    missing_policy: MissingPolicy = "observed"
    extras: dict[str, Any] = field(default_factory=dict)

    def result(self, model: str) -> ModelResult:
        """The result of one model (KeyError if absent)."""
        for r in self.models:
            if r.model == model:
                return r
        raise KeyError(model)

    def to_json(self) -> dict[str, Any]:
        """``{"threshold", "confidence", "models": [...], "recommended"}`` (the agreed select shape)."""
        return {"threshold": self.threshold, "confidence": self.confidence,
                "models": [m.to_json() for m in self.models], "recommended": self.recommended}

    @property
    def criterion(self) -> Threshold | None:
        """The threshold these decisions were taken against (None when there is neither bar nor reference)."""
        if self.threshold is None and self.reference is None:
            return None
        return Threshold(bar=self.threshold, confidence=self.confidence, non_inferior_to=self.reference,
                         margin=self.margin)

    def sentence(self, *, requests_per_day: float | None = None) -> str:
        """The design-doc sentence (:func:`~satisfice.evals.recommendation.recommendation_sentence`).

        Without ``requests_per_day``, costs are per 1,000 requests.
        """
        base = baseline(self.models, self.reference)
        return recommendation_sentence(self.models, self.criterion, recommended=self.recommended,
                                       compare_to=base.model if base is not None else None,
                                       requests_per_day=requests_per_day)


def combine(decisions: Sequence[Decision]) -> Decision:
    """All criteria must pass to pass; any failed criterion fails; otherwise undecided."""
    if any(d == "fail" for d in decisions):
        return "fail"
    if decisions and all(d == "pass" for d in decisions):
        return "pass"
    return "undecided"


def _relative(scores: np.ndarray, ref: np.ndarray, margin: float, confidence: float,
              policy: MissingPolicy) -> tuple[Decision, Decision]:
    """Non-inferiority decision under the policy, and under the conservative fill (for the flip flag)."""
    both = np.isfinite(scores) & np.isfinite(ref)
    observed = paired_non_inferiority(scores[both], ref[both], margin, confidence)[2]
    any_seen = np.isfinite(scores) | np.isfinite(ref)
    pess = paired_non_inferiority(np.where(np.isfinite(scores), scores, 0.0)[any_seen],
                                  np.where(np.isfinite(ref), ref, 1.0)[any_seen], margin, confidence)[2]
    opt = paired_non_inferiority(np.where(np.isfinite(scores), scores, 1.0)[any_seen],
                                 np.where(np.isfinite(ref), ref, 0.0)[any_seen], margin, confidence)[2]
    conservative: Decision = "pass" if pess == "pass" else "fail" if opt == "fail" else "undecided"
    return (conservative if policy == "conservative" else observed), conservative


def _bar_decision(total: float, n: int, missing: int, bar: float, confidence: float, binary: bool,
                  budget: ErrorBudget | None) -> Decision:
    """Pass/fail/undecided against the bar; ``missing`` items count against each decision."""
    if n + missing == 0:
        return "undecided"
    if budget is None:  # the plain per-model rule (no multiplicity control)
        return decide(total, n, bar, confidence, errors=missing, binary=binary)
    return target_decision(total, n + missing, bar, budget, binary, errors=missing)


def evaluate_model(model: str, scores: np.ndarray, *, bar: float | None, confidence: float,
                   cost_per_request: float | None = None, reference: np.ndarray | None = None,
                   margin: float | None = None, missing: MissingPolicy = "observed",
                   budget: ErrorBudget | None = None) -> ModelResult:
    """Decide one model from its per-item scores (NaN = missing).

    Args:
        model: Model name.
        scores: Scores in [0, 1], NaN where missing.
        bar: Absolute bar, or None when only the relative criterion applies.
        confidence: Two-sided confidence.
        cost_per_request: Mean USD per request, or None when unknown.
        reference: The reference model's scores on the same items (for non-inferiority), or None.
        margin: Non-inferiority margin (with ``reference``).
        missing: Missing-outcome policy (see the module docstring).
        budget: This candidate's share of the error budget (the full-data rule of
            :mod:`satisfice.evals.error_budget`); None: the plain per-model rule at ``confidence``, which has no
            guarantee over several candidates (kept for comparison).

    Returns:
        The model's result; with a budget, ``pass_bound`` is the lower bound the pass decision uses. ``extras``
        holds ``missing_could_flip``, ``missing_policy`` and, with a budget, ``pass_level`` (the bound's
        one-sided level).
    """
    seen = np.isfinite(scores)
    n, n_missing = int(seen.sum()), int((~seen).sum())
    observed = scores[seen]
    total = float(observed.sum())
    binary = bool(np.all((observed == 0.0) | (observed == 1.0)))
    decisions: list[Decision] = []
    conservative: list[Decision] = []
    extras: dict[str, Any] = {}
    bound: float | None = None
    if bar is not None:
        cons = _bar_decision(total, n, n_missing, bar, confidence, binary, budget)
        obs = _bar_decision(total, n, 0, bar, confidence, binary, budget)
        decisions.append(cons if missing == "conservative" else obs)
        if budget is not None:
            counted = n + (n_missing if missing == "conservative" else 0)
            bound = pass_bound(total, counted, budget, binary)
            extras["pass_level"] = budget.pass_target
        conservative.append(cons)
    if reference is not None and margin is not None:
        if reference is scores:  # the reference itself (same array): non-inferior to itself by definition
            decisions.append("pass")
            conservative.append("pass")
        else:
            chosen, cons_rel = _relative(scores, reference, margin, confidence, missing)
            decisions.append(chosen)
            conservative.append(cons_rel)
    decision = combine(decisions)
    low, high = clopper_pearson(total, n, confidence, binary=binary) if n else (None, None)
    flip = decision != "undecided" and combine(conservative) != decision
    return ModelResult(model=model, n=n, n_missing=n_missing, accuracy=total / n if n else None, ci_low=low,
                       ci_high=high, cost_per_request=cost_per_request, decision=decision,
                       extras={"missing_could_flip": flip, "missing_policy": missing, **extras}, pass_bound=bound)


def select_from_outcomes(table: OutcomesTable, bar: float | None, confidence: float = 0.95, *,
                         reference: str | None = None, margin: float | None = None,
                         missing: MissingPolicy = "observed", allocation: Allocation = "even",
                         plain: bool = False) -> Selection:
    """Exhaustive selection from recorded outcomes: every model decided on every (observed) item.

    Args:
        table: The outcomes.
        bar: Accuracy to clear (None for a purely relative threshold).
        confidence: Two-sided confidence of each model's decision.
        reference: Model for the non-inferiority criterion, or None.
        margin: Allowed shortfall against ``reference``.
        missing: ``"observed"`` (default) or ``"conservative"``; see the module docstring.
        allocation: How the error budget is split over the candidates (see
            :func:`~satisfice.evals.error_budget.allocate`).
        plain: Decide each model on its own at ``confidence`` with no multiplicity control (no guarantee over
            the candidates; for comparison only).

    Returns:
        The selection, models in table order, recommended = cheapest passing.

    Raises:
        ValueError: Unknown reference model, a reference without a margin, or no criterion at all.
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing policy must be one of {', '.join(MISSING_POLICIES)}, got {missing!r}")
    if reference is not None and reference not in table.scores:
        raise ValueError(f"reference model {reference!r} is not in the outcomes table")
    if (reference is None) != (margin is None):
        raise ValueError("a non-inferiority threshold needs both a reference model and a margin")
    if bar is None and reference is None:
        raise ValueError("a threshold needs a bar or a reference model with a margin")
    ref_scores = table.scores[reference] if reference is not None else None
    prices = {m: table.cost_per_item(m) for m in table.models}
    shares = budgets(table.models, confidence, prices=prices, allocation=allocation)
    results = [evaluate_model(m, table.scores[m], bar=bar, confidence=confidence, cost_per_request=prices[m],
                              reference=ref_scores, margin=margin, missing=missing,
                              budget=None if plain else shares[m]) for m in table.models]
    return Selection(threshold=bar, confidence=confidence, models=results, recommended=recommend(results),
                     reference=reference, margin=margin, missing_policy=missing)


def format_percent(value: float) -> str:
    """0.9 -> '90%', 0.875 -> '87.5%'."""
    return number(value * 100, 4) + "%"


def format_usd(value: float) -> str:
    """Dollars by the one formatter: $12,345 / $73.10 / $1.92 / $0.0042."""
    return usd(value)


__all__ = [
    "MISSING_POLICIES",
    "MissingPolicy",
    "ModelResult",
    "Selection",
    "combine",
    "evaluate_model",
    "format_percent",
    "format_usd",
    "recommend",
    "recommendation_basis",
    "select_from_outcomes",
]
