"""The selection rule: per-model decisions against a threshold, the cheapest passing model, the design-doc sentence.

Fixed-sample ("exhaustive") selection. Each model is decided on all its items by the full-data rule of
:mod:`satisfice.evals.error_budget`: it passes when its exact lower bound at its share of the error budget
(alpha split evenly over the candidates) clears the bar, and fails when its upper bound at alpha/2 is below it.
So P(recommending a model whose true accuracy is below the bar) <= 1 - confidence over all candidates, the
same guarantee as adaptive selection (:mod:`satisfice.evals.adaptive`), which predicts this very rule. The
recommendation is the cheapest passing model by mean cost per request. The reported interval is the plain
two-sided one at the stated confidence; ``extras["pass_bound"]`` is the lower bound the pass decision uses.

Missing outcomes (an empty cell in a recorded table). Default policy ``"observed"``: the decision uses the
observed items only (n counts them, n_missing is reported), which is right when outcomes are missing at
random. Because that assumption cannot be checked, every result also says whether the missing items could
flip it: ``extras["missing_could_flip"]`` is True when the decision would not survive counting the missing
items as failures (for a pass) or as successes (for a fail). Policy ``"conservative"`` makes that the rule
(exactly how the runner counts errors), so nothing about the missing items can reverse a decision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from satisfice.core import DAYS_PER_YEAR
from satisfice.evals.error_budget import Allocation, ErrorBudget, budgets, pass_bound, target_decision
from satisfice.evals.outcomes import OutcomesTable
from satisfice.evals.stats import Decision, clopper_pearson, decide, paired_non_inferiority
from satisfice.formatting import number, usd

MissingPolicy = Literal["observed", "conservative"]
MISSING_POLICIES: tuple[MissingPolicy, ...] = ("observed", "conservative")


@dataclass
class ModelResult:
    """One model's standing against the threshold (accuracy over scored items, interval, cost, decision)."""

    model: str
    n: int
    n_missing: int
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None
    cost_per_request: float | None
    decision: Decision
    extras: dict[str, Any] = field(default_factory=dict)
    latency_p50_s: float | None = None
    """Median seconds per answer when measured (an eval run); breaks ties between models of unknown cost."""

    def to_json(self) -> dict[str, Any]:
        """The agreed JSON fields of one model."""
        return {"model": self.model, "n": self.n, "n_missing": self.n_missing, "accuracy": self.accuracy,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "cost_per_request": self.cost_per_request,
                "decision": self.decision}


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


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _price_key(result: ModelResult) -> tuple[float, float, str]:
    cost, latency = result.cost_per_request, result.latency_p50_s
    return (cost if cost is not None and _known(cost) else math.inf,
            latency if latency is not None and _known(latency) else math.inf, result.model)


def recommend(results: Sequence[ModelResult]) -> str | None:
    """The cheapest passing model by cost per request; among models of unknown cost, the fastest (median latency).

    A model of unknown cost ranks after every model of known cost. :func:`recommendation_basis` says which rule
    decided.
    """
    passing = sorted((r for r in results if r.decision == "pass"), key=_price_key)
    return passing[0].model if passing else None


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def recommendation_basis(results: Sequence[ModelResult], recommended: str | None) -> str:
    """What decided the recommendation, in words: cost, latency where cost is unknown, or the only passing model."""
    passing = [r for r in results if r.decision == "pass"]
    chosen = next((r for r in passing if r.model == recommended), None)
    if chosen is None:
        return ""
    others = [r for r in passing if r is not chosen]
    if not others:
        return "the only passing model"
    unknown = [r.model for r in passing if not _known(r.cost_per_request)]
    if not unknown:
        return "the cheapest passing model by cost per request"
    missing = f"cost unknown for {', '.join(unknown)}"
    if _known(chosen.cost_per_request):
        return f"the cheapest passing model of known cost ({missing})"
    if chosen.latency_p50_s is None:
        return f"{missing} and no latency measured: the first passing model by id, not a cost decision"
    slower = [f"{_ms(r.latency_p50_s)} for {r.model}" for r in others if r.latency_p50_s is not None]
    against = f" against {', '.join(slower)}" if slower else ""
    return f"{missing}: the fastest passing model, median latency {_ms(chosen.latency_p50_s)}{against}"


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
        The model's result; ``extras`` holds ``missing_could_flip``, ``missing_policy`` and, with a budget,
        ``pass_bound`` (the lower bound the pass decision uses) and ``pass_level`` (its one-sided level).
    """
    seen = np.isfinite(scores)
    n, n_missing = int(seen.sum()), int((~seen).sum())
    observed = scores[seen]
    total = float(observed.sum())
    binary = bool(np.all((observed == 0.0) | (observed == 1.0)))
    decisions: list[Decision] = []
    conservative: list[Decision] = []
    extras: dict[str, Any] = {}
    if bar is not None:
        cons = _bar_decision(total, n, n_missing, bar, confidence, binary, budget)
        obs = _bar_decision(total, n, 0, bar, confidence, binary, budget)
        decisions.append(cons if missing == "conservative" else obs)
        if budget is not None:
            counted = n + (n_missing if missing == "conservative" else 0)
            extras.update(pass_bound=pass_bound(total, counted, budget, binary), pass_level=budget.pass_target)
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
                       extras={"missing_could_flip": flip, "missing_policy": missing, **extras})


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


def _against(selection: Selection, chosen: ModelResult) -> ModelResult | None:
    others = [m for m in selection.models if m.model != chosen.model and m.cost_per_request is not None]
    if selection.reference is not None:
        ref = [m for m in others if m.model == selection.reference]
        if ref:
            return ref[0]
    passing = [m for m in others if m.decision == "pass"]
    return max(passing, key=_price_key) if passing else None


def _stopped(result: ModelResult) -> bool:
    """Adaptive selection left this model once its full data could not pass (not "more items would settle it")."""
    return str(result.extras.get("status", "")).startswith("stopped")


def recommendation_sentence(selection: Selection, *, requests_per_day: float | None = None) -> str:
    """The sentence to paste into a design doc.

    E.g. "X clears 90% at 95% confidence on 400 items; it costs $A/year against $B for Y". The comparison
    is the reference model if there is one, else the dearest other passing model; when the recommended
    model is the only one that passes, the sentence says which cheaper models did not clear the bar.
    Without a workload, costs are per 1,000 requests.
    """
    conf = format_percent(selection.confidence)
    claims = []
    if selection.threshold is not None:
        claims.append(f"clears {format_percent(selection.threshold)}")
    if selection.reference is not None and selection.margin is not None:
        claims.append(f"is no worse than {selection.reference} by more than {selection.margin * 100:.3g} points")
    claim = " and ".join(claims)
    if selection.recommended is None:
        undecided = [m.model for m in selection.models if m.decision == "undecided" and not _stopped(m)]
        tail = f"; undecided: {', '.join(undecided)} (more items would settle it)" if undecided else ""
        if not undecided and any(_stopped(m) for m in selection.models):
            tail = "; none can pass on these items (each was left as soon as the data showed it could not)"
        return f"No candidate {claim} at {conf} confidence{tail}."
    chosen = selection.result(selection.recommended)
    sentence = f"{chosen.model} {claim} at {conf} confidence on {chosen.n} items"

    def cost(m: ModelResult) -> str:
        assert m.cost_per_request is not None
        if requests_per_day is not None:
            return f"{format_usd(m.cost_per_request * requests_per_day * DAYS_PER_YEAR)}/year"
        return f"{format_usd(m.cost_per_request * 1000)} per 1,000 requests"

    if chosen.cost_per_request is None:
        return sentence + "; its cost is unknown."
    sentence += f"; it costs {cost(chosen)}"
    other = _against(selection, chosen)
    if other is not None:
        sentence += f" against {cost(other)} for {other.model}"
    else:
        cheaper = [m for m in selection.models if m.model != chosen.model and m.cost_per_request is not None
                   and m.cost_per_request < chosen.cost_per_request]
        undecided = [m.model for m in cheaper if m.decision == "undecided" and not _stopped(m)]
        if undecided:
            sentence += (f"; no cheaper candidate was shown to clear it (undecided: {', '.join(undecided)}; "
                         "more items would settle it)")
        elif any(m.decision == "undecided" for m in cheaper):
            sentence += "; no cheaper candidate can pass on these items"
        elif cheaper:
            sentence += "; every cheaper candidate fails"
    return sentence + "."


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
    "recommendation_sentence",
    "select_from_outcomes",
]
