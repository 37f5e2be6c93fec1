"""What decides a recommendation, and that the output says so: cost, else latency, never name order silently."""

from __future__ import annotations

import math

from satisfice.evals.model_result import ModelResult
from satisfice.evals.pricing import price_hint, unknown_price_message
from satisfice.evals.recommendation import recommend, recommendation_basis, recommendation_sentence
from satisfice.evals.results import EvalResults, results_from_dict, results_to_dict
from satisfice.tasks.threshold import Threshold


def result(model: str, cost: float | None, latency: float | None, decision: str = "pass") -> ModelResult:
    return ModelResult(model=model, n=36, n_missing=0, accuracy=1.0, ci_low=0.9, ci_high=1.0, cost_per_request=cost,
                       decision=decision, latency_p50_s=latency)  # type: ignore[arg-type]


def test_unknown_costs_are_decided_by_latency_and_say_so() -> None:
    # "a-..." sorts first by name but is the slower: name order must not decide
    models = [result("a-slow", None, 0.577), result("b-fast", None, 0.208)]
    assert recommend(models) == "b-fast"
    basis = recommendation_basis(models, "b-fast")
    assert basis == ("cost unknown for a-slow, b-fast: the fastest passing model, median latency 208 ms "
                     "against 577 ms for a-slow")


def test_known_costs_decide_before_latency() -> None:
    models = [result("fast-dear", 2e-5, 0.1), result("slow-cheap", 1e-5, 0.9), result("failing", 1e-9, 0.01, "fail")]
    assert recommend(models) == "slow-cheap"
    assert recommendation_basis(models, "slow-cheap") == "the cheapest passing model by cost per request"


def test_a_known_cost_ranks_before_an_unknown_one_and_names_the_unknown() -> None:
    models = [result("priced", 1.0, 5.0), result("unpriced", None, 0.1), result("nan", math.nan, 0.1)]
    assert recommend(models) == "priced"
    assert recommendation_basis(models, "priced") == "the cheapest passing model of known cost (cost unknown for " \
                                                     "unpriced, nan)"


def test_single_and_none() -> None:
    assert recommendation_basis([result("only", None, None)], "only") == "the only passing model"
    assert recommendation_basis([result("x", None, None, "fail")], None) == ""
    both_unmeasured = [result("a", None, None), result("b", None, None)]
    assert "not a cost decision" in recommendation_basis(both_unmeasured, recommend(both_unmeasured))


def test_the_sentence_and_the_stored_results_carry_the_basis() -> None:
    models = [result("gemma", None, 0.577), result("smol", None, 0.208)]
    basis = recommendation_basis(models, "smol")
    sentence = recommendation_sentence(models, Threshold(bar=0.8), recommended="smol")
    assert sentence == ("smol clears 80% at 95% confidence on 36 items (accuracy 100%, 95% interval 90%-100%); its "
                        f"cost is unknown. Why smol: {basis}.")
    r = EvalResults(task="t", threshold=Threshold(bar=0.8), models=models, recommended="smol", sentence=sentence,
                    basis=basis)
    back = results_from_dict(results_to_dict(r))
    assert back.basis == basis and back.models == models


def test_price_hints_name_the_right_command() -> None:
    assert "satisfice selfhost bench local/smollm2-135m --save" in price_hint("local/smollm2-135m")
    assert "pipeline run" not in price_hint("local/smollm2-135m")
    assert "satisfice pipeline run" in price_hint("openai/gpt-4o-mini")
    assert "selfhost bench local/gemma3-270m" in unknown_price_message("local/gemma3-270m")
