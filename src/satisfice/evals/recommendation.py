"""The recommendation and its sentence, one for ``satisfice select`` and ``satisfice eval`` alike.

The recommendation is the cheapest passing model by cost per request; among models of unknown cost the
fastest (median latency), after every model of known cost. The sentence states the criterion, the items, the
accuracy with its interval, the cost against a comparison model (or what became of the cheaper candidates)
and what decided the choice, so it can be pasted into a design doc.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from satisfice.core import DAYS_PER_YEAR
from satisfice.evals.model_result import ModelResult
from satisfice.formatting import number, percent, usd
from satisfice.tasks.threshold import Threshold

NO_THRESHOLD = "No threshold set: add one (e.g. 'accuracy >= 0.90 at 95% confidence') to get a decision."


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def price_key(result: ModelResult) -> tuple[float, float, str]:
    """Sort key of the recommendation: cost per request, then median latency, then id (unknowns last)."""
    cost, latency = result.cost_per_request, result.latency_p50_s
    return (cost if cost is not None and _known(cost) else math.inf,
            latency if latency is not None and _known(latency) else math.inf, result.model)


def recommend(results: Sequence[ModelResult]) -> str | None:
    """The cheapest passing model by cost per request; among models of unknown cost, the fastest (median latency).

    A model of unknown cost ranks after every model of known cost. :func:`recommendation_basis` says which rule
    decided.
    """
    passing = sorted((r for r in results if r.decision == "pass"), key=price_key)
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


def baseline(models: Sequence[ModelResult], reference: str | None) -> ModelResult | None:
    """What savings and the sentence compare against: the reference when its cost is known, else the dearest pass."""
    by_id = {m.model: m for m in models}
    if reference is not None and reference in by_id and by_id[reference].cost_per_request is not None:
        return by_id[reference]
    passing = [m for m in models if m.decision == "pass" and m.cost_per_request is not None]
    return max(passing, key=lambda m: m.cost_per_request or 0.0) if passing else None


def criterion(threshold: Threshold) -> str:
    """``clears 90% [and is no worse than REF by more than 5 points] at 95% confidence``."""
    parts = []
    if threshold.bar is not None:
        parts.append(f"clears {percent(threshold.bar)}")
    if threshold.non_inferior_to is not None:
        points = number((threshold.margin or 0.0) * 100, 3)
        parts.append(f"is no worse than {threshold.non_inferior_to} by more than {points} points")
    return " and ".join(parts) + f" at {percent(threshold.confidence)} confidence"


def _cost(m: ModelResult, requests_per_day: float | None) -> str | None:
    """Per year at the workload's requests per day (the run's own annual figure when it has one), else per 1,000."""
    annual = m.annual_cost
    if annual is None and requests_per_day is not None and m.cost_per_request is not None:
        annual = m.cost_per_request * requests_per_day * DAYS_PER_YEAR
    if annual is not None and requests_per_day is not None:
        return f"{usd(annual)}/year at {requests_per_day:,.0f} requests/day"
    return f"{usd(m.cost_per_request * 1000)} per 1,000 requests" if m.cost_per_request is not None else None


def _cheaper(models: Sequence[ModelResult], chosen: ModelResult) -> str:
    """What became of the cheaper candidates, when there is no dearer passing model to compare against."""
    assert chosen.cost_per_request is not None
    cheaper = [m for m in models if m.model != chosen.model and m.cost_per_request is not None
               and m.cost_per_request < chosen.cost_per_request]
    undecided = [m.model for m in cheaper if m.decision == "undecided" and not m.stopped]
    if undecided:
        return (f"; no cheaper candidate was shown to clear it (undecided: {', '.join(undecided)}; "
                "more items would settle it)")
    if any(m.decision == "undecided" for m in cheaper):
        return "; no cheaper candidate can pass on these items"
    return "; every cheaper candidate fails" if cheaper else ""


def _none_passes(models: Sequence[ModelResult], crit: str) -> str:
    undecided = [m.model for m in models if m.decision == "undecided" and not m.stopped]
    if undecided:
        tail = f"; undecided: {', '.join(undecided)} (more items would settle it)"
    elif any(m.decision == "undecided" for m in models):
        tail = "; none can pass on these items (each was left as soon as the data showed it could not)"
    else:
        tail = "; every candidate fails"
    return f"No candidate {crit}{tail}."


def recommendation_sentence(models: Sequence[ModelResult], threshold: Threshold | None, *,
                            recommended: str | None, compare_to: str | None = None,
                            requests_per_day: float | None = None) -> str:
    """The sentence a user can paste into a design doc.

    E.g. "X clears 90% at 95% confidence on 400 items (accuracy 93%, 95% interval 90.1%-95.3%); it costs
    $A/year at 10,000 requests/day against $B/year for Y. Why X: the cheapest passing model by cost per request."

    Args:
        models: Every candidate's result.
        threshold: The criterion (None: the sentence asks for one).
        recommended: The recommended model (:func:`recommend`), or None when none passes.
        compare_to: The model to state the cost against (:func:`baseline`); when it is absent or the
            recommended model itself, the sentence says what became of the cheaper candidates instead.
        requests_per_day: The workload; costs are per year at it, else per 1,000 requests.
    """
    if threshold is None or (threshold.bar is None and threshold.non_inferior_to is None):
        return NO_THRESHOLD
    crit = criterion(threshold)
    chosen = next((m for m in models if m.model == recommended), None)
    if chosen is None:
        return _none_passes(models, crit)
    text = f"{chosen.model} {crit} on {chosen.n + chosen.n_errors} items"
    if chosen.accuracy is not None and chosen.ci_low is not None and chosen.ci_high is not None:
        text += (f" (accuracy {percent(chosen.accuracy)}, {percent(threshold.confidence)} interval "
                 f"{percent(chosen.ci_low)}-{percent(chosen.ci_high)})")
    cost = _cost(chosen, requests_per_day)
    if cost is None:
        text += "; its cost is unknown"
    else:
        text += f"; it costs {cost}"
        other = next((m for m in models if m.model == compare_to and m is not chosen), None)
        other_cost = _cost(other, requests_per_day) if other is not None else None
        if other is not None and other_cost is not None:
            text += f" against {other_cost.split(' at ')[0]} for {other.model}"
        else:
            text += _cheaper(models, chosen)
    basis = recommendation_basis(models, recommended)
    return text + (f". Why {chosen.model}: {basis}." if basis else ".")


__all__ = ["NO_THRESHOLD", "baseline", "criterion", "price_key", "recommend", "recommendation_basis",
           "recommendation_sentence"]
