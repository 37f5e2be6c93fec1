"""From per-item outcomes to per-model results: accuracy with its interval, decision, dollars, latency, savings.

Pure: values in, values out (no store, no clients). Errors are never scored: accuracy is over scored items,
and decisions count errors conservatively (as failures when deciding *pass*, as successes when deciding
*fail*) under the rule of :mod:`satisfice.evals.error_budget` (alpha split over the run's candidates). A model
whose price is unknown has unknown cost (None), never $0; only passing models are credited with savings.
Each model's result is the :class:`~satisfice.evals.model_result.ModelResult` of ``satisfice select`` with
what the run measured filled in; the recommendation and its sentence are those of
:mod:`satisfice.evals.recommendation`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from satisfice.core import DAYS_PER_YEAR, Usage
from satisfice.evals.error_budget import ErrorBudget, budgets
from satisfice.evals.model_result import ModelResult
from satisfice.evals.pricing import PriceInfo, per_request_for_workload
from satisfice.evals.recommendation import baseline, recommend, recommendation_basis, recommendation_sentence
from satisfice.evals.select import Selection, evaluate_model
from satisfice.evals.stats import paired_non_inferiority, percentile
from satisfice.formatting import percent, usd
from satisfice.tasks.spec import WorkloadSpec
from satisfice.tasks.threshold import Threshold

ItemStatus = Literal["scored", "error", "skipped"]
_RULE = ("pass: a model passes when its accuracy's lower confidence bound (one-sided, at {} confidence: the error "
         "budget split over {} candidates) is at or above the bar, so the chance of recommending a model truly below "
         "the bar is at most {}")
ERRORS_RULE = ("errors are never scored; decisions count them conservatively "
               "(as failures to pass, as successes to fail)")


@dataclass(frozen=True)
class ItemOutcome:
    """One item for one model: scored, an error after bounded attempts, or skipped (budget stop)."""

    model: str
    index: int
    item_id: str
    status: ItemStatus
    score: float | None = None
    error_kind: str | None = None
    error_message: str | None = None
    attempts: int = 0
    has_response: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float | None = None
    cost_usd: float | None = None
    """Cost of the response at today's price (or billed machine time); None when the price is unknown."""
    judge_cost_usd: float = 0.0
    cached: bool = False
    spent_usd: float = 0.0
    """Money actually paid in this run for this item (0 for cache hits)."""


@dataclass
class EvalResults:
    """A whole run's results."""

    task: str
    threshold: Threshold | None
    models: list[ModelResult]
    recommended: str | None
    sentence: str
    status: str = "complete"
    run_id: int | None = None
    baseline: str | None = None
    items: int = 0
    spent_usd: float = 0.0
    calls: int = 0
    cache_hits: int = 0
    max_spend: float | None = None
    workload: WorkloadSpec | None = None
    notes: list[str] = field(default_factory=list)
    reference: str | None = None
    method: str = "exhaustive"
    eval_spend: float | None = None
    """Adaptive runs: USD the evaluated items cost (cached answers at their price)."""
    exhaustive_spend: float | None = None
    """Adaptive runs: estimated USD for every candidate on every item (measured cost per item)."""
    basis: str = ""
    """What decided the recommendation (cost, or latency where a cost is unknown)."""

    @property
    def confidence(self) -> float:
        """The confidence the decisions and intervals are stated at."""
        return self.threshold.confidence if self.threshold is not None else 0.95


def _decide(model: str, outcomes: Sequence[ItemOutcome], threshold: Threshold | None,
            reference_outcomes: Sequence[ItemOutcome] | None,
            budget: ErrorBudget | None) -> tuple[ModelResult, float | None, float | None]:
    """The selection rule of ``satisfice select`` with errors as missing outcomes, counted conservatively.

    Items skipped by a budget stop are left out (never attempted); for non-inferiority the reference's
    errors and skips are counted conservatively too.
    """
    attempted = sorted((o for o in outcomes if o.status != "skipped"), key=lambda o: o.index)
    scores = np.array([o.score if o.status == "scored" and o.score is not None else np.nan for o in attempted],
                      dtype=float)
    conf = threshold.confidence if threshold is not None else 0.95
    ref: np.ndarray | None = None
    ni_diff = ni_lower = None
    if threshold is not None and threshold.non_inferior_to is not None and reference_outcomes is not None:
        if model == threshold.non_inferior_to:
            ref = scores
        else:
            by_index = {o.index: o for o in reference_outcomes}
            ref = np.array([by_index[o.index].score if o.index in by_index and by_index[o.index].status == "scored"
                            and by_index[o.index].score is not None else np.nan for o in attempted], dtype=float)
            both = np.isfinite(scores) & np.isfinite(ref)
            if both.any():
                ni_diff, ni_lower, _ = paired_non_inferiority(scores[both], ref[both], threshold.margin or 0.0, conf)
    result = evaluate_model(model, scores, bar=threshold.bar if threshold is not None else None, confidence=conf,
                            reference=ref, margin=threshold.margin if ref is not None and threshold else None,
                            missing="conservative", budget=budget)
    return result, ni_diff, ni_lower


def summarise_model(model: str, outcomes: Sequence[ItemOutcome], *, threshold: Threshold | None,
                    info: PriceInfo | None, workload: WorkloadSpec | None,
                    reference_outcomes: Sequence[ItemOutcome] | None = None,
                    budget: ErrorBudget | None = None) -> ModelResult:
    """Summarise one model's outcomes (errors: see the module docstring); ``budget``: its error-budget share."""
    errors, skipped = [o for o in outcomes if o.status == "error"], [o for o in outcomes if o.status == "skipped"]
    responded = [o for o in outcomes if o.has_response]
    one = budgets([model], threshold.confidence)[model] if budget is None and threshold is not None else None
    decided, ni_diff, ni_lower = _decide(model, outcomes, threshold, reference_outcomes, budget or one)
    notes: list[str] = []
    if threshold is not None and threshold.non_inferior_to is not None and reference_outcomes is None:
        notes.append(f"reference {threshold.non_inferior_to} was not evaluated in this run")
    if errors:
        notes.append(f"{len(errors)} error(s) counted conservatively")
    costs = [o.cost_usd for o in responded]
    cost_known = bool(responded) and all(c is not None for c in costs)
    cost_run = sum(c for c in costs if c is not None) if cost_known else None
    per_req = cost_run / len(responded) if cost_run is not None and responded else None
    tin = sum(o.input_tokens for o in responded)
    tout = sum(o.output_tokens for o in responded)
    mean_in = tin / len(responded) if responded else None
    mean_out = tout / len(responded) if responded else None
    per_req_wl, basis = per_request_for_workload(info, workload, per_req, mean_in, mean_out)
    annual = per_req_wl * workload.requests_per_day * DAYS_PER_YEAR if per_req_wl is not None and workload else None
    lat = [o.latency_s for o in responded if o.latency_s is not None]
    kinds: dict[str, int] = {}
    for o in errors:
        kinds[o.error_kind or "error"] = kinds.get(o.error_kind or "error", 0) + 1
    return dataclasses.replace(
        decided, n_missing=len(errors) + len(skipped), n_errors=len(errors), n_not_run=len(skipped),
        decision_note="; ".join(notes), price_source=info.source if info is not None else "unknown",
        price_note=info.describe() if info is not None else "unknown price",
        n_responses=len(responded), cost_run=cost_run, cost_per_request=per_req,
        cost_per_1k=per_req * 1000 if per_req is not None else None, annual_cost=annual, annual_basis=basis,
        latency_p50_s=percentile(lat, 50) if lat else None, latency_p95_s=percentile(lat, 95) if lat else None,
        tokens_in=tin, tokens_out=tout, retries=sum(max(0, o.attempts - 1) for o in outcomes),
        cache_hits=sum(1 for o in outcomes if o.cached), judge_cost=sum(o.judge_cost_usd for o in outcomes),
        spent_usd=sum(o.spent_usd for o in outcomes), ni_diff=ni_diff, ni_lower=ni_lower, errors_by_kind=kinds,
        error_example=next((o.error_message[:300] for o in errors if o.error_message), None))


def _apply_savings(models: Sequence[ModelResult], base: ModelResult | None) -> None:
    if base is None or base.cost_per_request is None:
        return
    for m in models:
        if m.cost_per_request is None or m.decision != "pass":
            continue
        if base.cost_per_1k is not None and m.cost_per_1k is not None:
            m.savings_per_1k = base.cost_per_1k - m.cost_per_1k
        if base.annual_cost is not None and m.annual_cost is not None:
            m.savings_per_year = base.annual_cost - m.annual_cost
        if base.cost_per_request > 0:
            m.savings_fraction = 1.0 - m.cost_per_request / base.cost_per_request


def _recommend(r: EvalResults) -> None:
    """Baseline and savings, the recommendation, what decided it, and the sentence (from the current decisions)."""
    for m in r.models:
        m.savings_per_year = m.savings_per_1k = m.savings_fraction = None
    base = baseline(r.models, r.reference)
    _apply_savings(r.models, base)
    r.baseline = base.model if base is not None else None
    r.recommended = recommend(r.models)  # cheapest passing; unknown cost ranks last, by latency
    r.basis = recommendation_basis(r.models, r.recommended)
    r.sentence = recommendation_sentence(r.models, r.threshold, recommended=r.recommended, compare_to=r.baseline,
                                         requests_per_day=r.workload.requests_per_day if r.workload else None)


def summarise(task: str, outcomes: Sequence[ItemOutcome], *, models: Sequence[str], threshold: Threshold | None,
              prices: Mapping[str, PriceInfo], workload: WorkloadSpec | None = None, reference: str | None = None,
              items: int = 0) -> EvalResults:
    """Per-model summaries, the recommendation (cheapest passing model) and the sentence for a design doc."""
    by_model: dict[str, list[ItemOutcome]] = {m: [] for m in models}
    for o in outcomes:
        by_model.setdefault(o.model, []).append(o)
    ref_id = threshold.non_inferior_to if threshold is not None else None
    shares = budgets(list(by_model), threshold.confidence) if threshold is not None else {}  # one per run
    summaries = [summarise_model(m, by_model[m], threshold=threshold, info=prices.get(m), workload=workload,
                                 reference_outcomes=by_model.get(ref_id) if ref_id else None, budget=shares.get(m))
                 for m in by_model]
    result = EvalResults(task=task, threshold=threshold, models=summaries, recommended=None, sentence="",
                         items=items, workload=workload, reference=reference or ref_id)
    _recommend(result)
    if threshold is not None and threshold.bar is not None and shares:
        level = 1 - [*shares.values()][0].pass_target
        result.notes.append(_RULE.format(percent(level, 2), len(shares), percent(1 - result.confidence, 0)))
    return result


def _exhaustive_spend(r: EvalResults, prices: Mapping[str, PriceInfo]) -> float | None:
    """Every model on every item: measured cost per item, else the mean measured tokens at the model's price."""
    responses = sum(m.n_responses for m in r.models)
    mean = Usage(round(sum(m.tokens_in for m in r.models) / responses),
                 round(sum(m.tokens_out for m in r.models) / responses)) if responses else None
    total = 0.0
    for m in r.models:
        info = prices.get(m.model)
        per_item = m.cost_per_request
        if per_item is None and info is not None and info.price is not None and mean is not None:
            per_item = info.price.cost(mean)
        if per_item is None:
            return None
        total += per_item * r.items
    return total


def apply_adaptive(r: EvalResults, selection: Selection, prices: Mapping[str, PriceInfo]) -> None:
    """Take decisions, accuracy and anytime-valid intervals from an adaptive selection; keep measured costs."""
    by_model = {m.model: m for m in selection.models}
    for m in r.models:
        a = by_model.get(m.model)
        if a is None:
            continue
        used = a.items_used or 0
        m.decision, m.accuracy, m.ci_low, m.ci_high = a.decision, a.accuracy, a.ci_low, a.ci_high
        m.n, m.n_errors, m.items_used, m.n_not_run = a.n, a.n_errors, used, max(0, r.items - used)
        m.n_missing, m.pass_bound = m.n_errors + m.n_not_run, None  # decided by the sequential test instead
        m.extras = {**m.extras, **a.extras}
        m.decision_note = "; ".join(x for x in (str(a.extras.get("status", "")), m.decision_note) if x)
    r.method = "adaptive"
    r.eval_spend = float(selection.extras.get("eval_spend") or 0.0)
    r.exhaustive_spend = _exhaustive_spend(r, prices)
    _recommend(r)  # recomputed from the adaptive decisions
    r.notes = [n for n in r.notes if not n.startswith("pass: ")]  # the sequential test decided, not the bound
    r.notes.append("adaptive: each model stopped as soon as an anytime-valid test decided it; intervals are "
                   "confidence sequences; the chance of recommending a model truly below the bar is at most "
                   f"{1 - r.confidence:.0%} overall")


def format_usd(value: float | None, *, unknown: str = "unknown") -> str:
    """Dollars for people by the one formatter: ``$1,234``, ``$12.35``, ``$0.000539``; None -> ``unknown``."""
    return usd(value, unknown=unknown)


def results_to_dict(r: EvalResults) -> dict[str, Any]:
    """A lossless plain-dict form (kept with the run in the store; read back by :func:`results_from_dict`)."""
    return {
        "task": r.task, "status": r.status, "run_id": r.run_id, "baseline": r.baseline, "items": r.items,
        "spent_usd": r.spent_usd, "calls": r.calls, "cache_hits": r.cache_hits, "max_spend": r.max_spend,
        "recommended": r.recommended, "sentence": r.sentence, "notes": list(r.notes),
        "threshold": dataclasses.asdict(r.threshold) if r.threshold is not None else None,
        "workload": r.workload.model_dump() if r.workload is not None else None,
        "models": [dataclasses.asdict(m) for m in r.models], "method": r.method, "eval_spend": r.eval_spend,
        "reference": r.reference,
        "exhaustive_spend": r.exhaustive_spend, "recommended_basis": r.basis,
    }


def results_from_dict(d: Mapping[str, Any]) -> EvalResults:
    """Rebuild results written by :func:`results_to_dict`."""
    names = {f.name for f in dataclasses.fields(ModelResult)}
    return EvalResults(
        task=d["task"], status=d.get("status", "complete"), run_id=d.get("run_id"), baseline=d.get("baseline"),
        items=d.get("items", 0), spent_usd=d.get("spent_usd", 0.0), calls=d.get("calls", 0),
        cache_hits=d.get("cache_hits", 0), max_spend=d.get("max_spend"), recommended=d.get("recommended"),
        sentence=d.get("sentence", ""), notes=list(d.get("notes", [])),
        threshold=Threshold(**d["threshold"]) if d.get("threshold") else None,
        workload=WorkloadSpec.model_validate(d["workload"]) if d.get("workload") else None,
        models=[_model_from_dict(m, names) for m in d.get("models", [])],
        method=d.get("method", "exhaustive"), eval_spend=d.get("eval_spend"), reference=d.get("reference"),
        exhaustive_spend=d.get("exhaustive_spend"), basis=d.get("recommended_basis", ""),
    )


def _model_from_dict(m: Mapping[str, Any], names: set[str]) -> ModelResult:
    """One stored model; runs stored before the models were one record lack ``n_missing`` and ``extras``."""
    fields = {k: v for k, v in {"n_not_run": m.get("n_missing", 0), **m}.items() if k in names}
    fields["n_missing"] = fields.get("n_errors", 0) + fields["n_not_run"]
    return ModelResult(**fields)
