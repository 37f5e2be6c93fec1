"""Exhaustive selection from outcomes: decisions, missing outcomes, non-inferiority, recommendation, sentence."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from satisfice.evals.outcomes import OutcomesTable
from satisfice.evals.select import (
    ModelResult,
    Selection,
    format_percent,
    format_usd,
    recommend,
    select_from_outcomes,
)


def ones(k: int, n: int) -> list[float]:
    """k successes then failures, n items."""
    return [1.0] * k + [0.0] * (n - k)


def table() -> OutcomesTable:
    n = 400
    return OutcomesTable.from_arrays(
        {"cheap": ones(300, n), "mid": ones(380, n), "dear": ones(392, n), "unpriced": ones(390, n)},
        {"cheap": [0.0001] * n, "mid": [0.001] * n, "dear": [0.01] * n, "unpriced": None},
    )


def test_decisions_and_recommendation() -> None:
    sel = select_from_outcomes(table(), 0.9, 0.95)
    by = {r.model: r for r in sel.models}
    assert [r.model for r in sel.models] == ["cheap", "mid", "dear", "unpriced"]
    assert by["cheap"].decision == "fail" and by["mid"].decision == "pass" and by["dear"].decision == "pass"
    assert by["mid"].accuracy == pytest.approx(0.95) and by["mid"].n == 400 and by["mid"].n_missing == 0
    assert by["mid"].ci_low == pytest.approx(0.9232, abs=1e-3)
    assert by["mid"].cost_per_request == pytest.approx(0.001)
    assert by["unpriced"].cost_per_request is None
    assert sel.recommended == "mid"
    doc = sel.to_json()
    assert set(doc) == {"threshold", "confidence", "models", "recommended"}
    assert set(doc["models"][0]) == {"model", "n", "n_missing", "accuracy", "ci_low", "ci_high",
                                     "cost_per_request", "decision"}


def test_recommend_prefers_known_costs_and_breaks_ties_by_name() -> None:
    def r(model: str, cost: float | None, decision: str = "pass") -> ModelResult:
        return ModelResult(model, 10, 0, 0.9, 0.8, 1.0, cost, decision)  # type: ignore[arg-type]

    assert recommend([r("b", None), r("c", 2.0), r("a", 2.0), r("d", 1.0, "fail")]) == "a"
    assert recommend([r("only", None)]) == "only"
    assert recommend([r("x", 1.0, "undecided")]) is None


def test_missing_outcomes_observed_policy_flags_possible_flips() -> None:
    n = 400
    scores = np.array(ones(380, n), dtype=float)
    scores[:40] = np.nan  # 40 missing, 340/360 observed = 0.944 -> pass on observed items
    t = OutcomesTable.from_arrays({"m": scores}, {"m": [0.01] * n})
    observed = select_from_outcomes(t, 0.9).models[0]
    assert (observed.n, observed.n_missing, observed.decision) == (360, 40, "pass")
    assert observed.extras["missing_could_flip"] is True  # 340/400 would not pass
    conservative = select_from_outcomes(t, 0.9, missing="conservative").models[0]
    assert conservative.decision == "undecided" and conservative.n == 360 and conservative.n_missing == 40
    robust = OutcomesTable.from_arrays({"m": [1.0] * 395 + [float("nan")] * 5})
    assert select_from_outcomes(robust, 0.9).models[0].extras["missing_could_flip"] is False
    with pytest.raises(ValueError):
        select_from_outcomes(t, 0.9, missing="optimistic")  # type: ignore[arg-type]


def test_model_with_no_observed_outcome() -> None:
    t = OutcomesTable.from_arrays({"m": [float("nan")] * 5, "k": [1.0] * 5})
    r = select_from_outcomes(t, 0.5).models[0]
    assert (r.n, r.n_missing, r.accuracy, r.ci_low, r.decision) == (0, 5, None, None, "undecided")


def test_fractional_scores_use_the_bounded_mean_interval() -> None:
    scores = [0.95] * 400
    t = OutcomesTable.from_arrays({"f": scores})
    r = select_from_outcomes(t, 0.9).models[0]
    assert r.accuracy == pytest.approx(0.95)
    binary = select_from_outcomes(OutcomesTable.from_arrays({"b": ones(380, 400)}), 0.9).models[0]
    assert r.ci_low is not None and binary.ci_low is not None and r.ci_low < binary.ci_low


def test_non_inferiority_against_a_reference() -> None:
    n = 600
    rng = np.random.default_rng(5)
    ref = (rng.random(n) < 0.9).astype(float)
    close = ref.copy()
    close[np.nonzero(ref == 1)[0][:3]] = 0.0  # -0.005
    far = ref.copy()
    far[np.nonzero(ref == 1)[0][:120]] = 0.0  # -0.2
    t = OutcomesTable.from_arrays({"close": close, "far": far, "ref": ref},
                                  {"close": [0.001] * n, "far": [0.0005] * n, "ref": [0.01] * n})
    sel = select_from_outcomes(t, None, reference="ref", margin=0.03)
    by = {r.model: r.decision for r in sel.models}
    assert by == {"close": "pass", "far": "fail", "ref": "pass"}
    assert sel.recommended == "close"
    both = select_from_outcomes(t, 0.95, reference="ref", margin=0.03)
    assert {r.model: r.decision for r in both.models}["close"] == "fail"  # the absolute bar fails it
    with pytest.raises(ValueError):
        select_from_outcomes(t, 0.9, reference="nobody", margin=0.03)
    with pytest.raises(ValueError):
        select_from_outcomes(t, 0.9, reference="ref")
    with pytest.raises(ValueError):
        select_from_outcomes(t, None)


def test_recommendation_sentence() -> None:
    sel = select_from_outcomes(table(), 0.9, 0.95)
    mid = sel.result("mid")
    interval = f"95% interval {mid.ci_low * 100:.1f}%-{mid.ci_high * 100:.1f}%"  # type: ignore[operator]
    text = sel.sentence(requests_per_day=10_000)
    assert text == (f"mid clears 90% at 95% confidence on 400 items (accuracy 95%, {interval}); it costs "
                    "$3,650/year at 10,000 requests/day against $36,500/year for dear. Why mid: the cheapest "
                    "passing model of known cost (cost unknown for unpriced).")
    assert "per 1,000 requests" in sel.sentence()
    none = Selection(0.99, 0.95, sel.models, None)
    assert none.sentence().startswith("No candidate clears 99% at 95% confidence")
    assert format_percent(0.875) == "87.5%" and format_usd(0.0042) == "$0.0042" and format_usd(1234.5) == "$1,234"


def test_sentence_when_the_recommended_model_is_the_only_one_passing() -> None:
    sel = select_from_outcomes(table(), 0.9, 0.95)
    only_dear = Selection(sel.threshold, sel.confidence,
                          [dataclasses.replace(m, decision="undecided" if m.model == "mid" else m.decision)
                           if m.model != "dear" else m for m in sel.models], "dear")
    text = only_dear.sentence()
    assert "against" not in text
    assert "no cheaper candidate was shown to clear it (undecided: mid; more items would settle it)" in text
