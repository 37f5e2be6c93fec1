"""Adaptive selection: the live driver, the outcomes-table driver, spends, and the error guarantee."""

from __future__ import annotations

import numpy as np
import pytest

from satisfice.evals.adaptive import AdaptiveSelector, select_adaptive
from satisfice.evals.outcomes import OutcomesTable


def make_table(accuracies: list[float], n: int, seed: int, *, price_step: float = 1.5) -> OutcomesTable:
    rng = np.random.default_rng(seed)
    scores = {f"m{k:02d}": (rng.random(n) < p).astype(float) for k, p in enumerate(accuracies)}
    costs = {f"m{k:02d}": np.full(n, 1e-4 * price_step ** k) for k in range(len(accuracies))}
    return OutcomesTable.from_arrays(scores, costs)


def test_table_driver_stops_at_the_first_pass_and_counts_spend_exactly() -> None:
    t = make_table([0.5, 0.6, 0.97, 0.98, 0.99], 1000, 1)
    sel = select_adaptive(t, 0.8, 0.95, seed=3)
    by = {r.model: r for r in sel.models}
    assert sel.recommended == "m02"
    assert by["m02"].decision == "pass"
    # m00 (accuracy 0.5) is left as soon as the full data is known not to pass it: it cannot be the cheapest
    # passing model. It is reported "fail" only where its anytime-valid interval shows it; the full report does.
    assert by["m00"].extras["status"].startswith(("stopped: the full data would not pass", "decided"))
    assert by["m00"].decision != "pass" and by["m00"].items_used < 60
    assert by["m00"].decision == "undecided" or by["m00"].ci_high < 0.8  # type: ignore[operator]
    assert select_adaptive(t, 0.8, 0.95, seed=3, full_report=True).result("m00").decision == "fail"
    assert by["m03"].items_used == 0 and by["m03"].extras["status"] == "not examined"
    used = {m: by[m].items_used for m in by}
    assert 0 < used["m02"] < 200  # far above the bar: decided on few items
    expected = sum(used[m] * 1e-4 * 1.5 ** k for k, m in enumerate(sorted(used)))
    assert sel.extras["eval_spend"] == pytest.approx(expected)
    assert sel.extras["exhaustive_spend"] == pytest.approx(sum(1000 * 1e-4 * 1.5 ** k for k in range(5)))
    assert by["m02"].extras["target_decision"] == "pass" and by["m02"].extras["exhaustive_decision"] == "pass"
    lo, hi = by["m02"].ci_low, by["m02"].ci_high
    assert lo is not None and hi is not None and lo <= by["m02"].accuracy <= hi  # type: ignore[operator]


def test_full_report_examines_every_model_and_same_seed_same_result() -> None:
    t = make_table([0.5, 0.97, 0.98], 600, 2)
    full = select_adaptive(t, 0.8, seed=5, full_report=True)
    assert all(r.items_used > 0 for r in full.models)
    assert [r.decision for r in full.models] == ["fail", "pass", "pass"]
    again = select_adaptive(t, 0.8, seed=5, full_report=True)
    assert [r.items_used for r in again.models] == [r.items_used for r in full.models]
    other = select_adaptive(t, 0.8, seed=6, full_report=True)
    assert [r.items_used for r in other.models] != [r.items_used for r in full.models]


def test_missing_outcomes_are_skipped_or_counted_conservatively() -> None:
    n = 500
    scores = np.ones(n)
    scores[::4] = np.nan  # 125 missing, every observed outcome correct
    t = OutcomesTable.from_arrays({"m": scores}, {"m": np.full(n, 0.01)})
    observed = select_adaptive(t, 0.9, seed=1).models[0]
    assert observed.decision == "pass" and observed.n_missing == 125
    assert observed.extras["eval_spend"] == pytest.approx(0.01 * observed.items_used)
    conservative = select_adaptive(t, 0.9, seed=1, missing="conservative").models[0]
    assert conservative.decision != "pass"  # 375/500 at best


def test_live_driver_consumes_results_in_dispatch_order() -> None:
    rng = np.random.default_rng(9)
    n = 400
    truth = {"a": (rng.random(n) < 0.55).astype(float), "b": (rng.random(n) < 0.97).astype(float)}
    in_order = AdaptiveSelector(["b", "a"], n, 0.8, prices={"a": 1.0, "b": 2.0}, seed=4)
    while (req := in_order.next_request()) is not None:
        in_order.record(req[0], req[1], float(truth[req[0]][req[1]]), cost=0.5)
    assert in_order.finished
    shuffled = AdaptiveSelector(["b", "a"], n, 0.8, prices={"a": 1.0, "b": 2.0}, seed=4)
    while not shuffled.finished:
        batch = []
        while len(batch) < 7 and (req := shuffled.next_request()) is not None:
            batch.append(req)
        for model, item in reversed(batch):  # answers arrive out of order
            shuffled.record(model, item, float(truth[model][item]), cost=0.5)
    a, b = in_order.results(), shuffled.results()
    assert [r.model for r in a] == ["a", "b"]  # examined cheapest first
    assert [(r.decision, r.n) for r in a] == [(r.decision, r.n) for r in b]
    assert a[1].decision == "pass" and in_order.selection().recommended == "b"
    # in flight when a model is decided: paid for, never used for the decision
    assert sum(r.items_used for r in b) >= sum(r.n for r in b)
    assert shuffled.eval_spend == pytest.approx(0.5 * sum(r.items_used for r in b))
    assert in_order.estimated_exhaustive_spend() == pytest.approx(0.5 * 2 * n)


def test_live_driver_errors_and_misuse() -> None:
    sel = AdaptiveSelector(["m"], 50, 0.5, seed=0)
    model, item = sel.next_request()  # type: ignore[misc]
    sel.record(model, item, None, cost=0.1)  # an error: paid, counted conservatively
    with pytest.raises(ValueError):
        sel.record(model, item, 1.0)  # twice
    with pytest.raises(ValueError):
        sel.record(model, (item + 1) % 50, 1.0)  # never requested
    nxt = sel.next_request()
    assert nxt is not None
    with pytest.raises(ValueError):
        sel.record(nxt[0], nxt[1], 1.5)
    with pytest.raises(ValueError):
        sel.record(nxt[0], nxt[1], 0.5)  # 0/1 scores were declared (binary=True, the default)
    assert sel.results()[0].n_errors == 1 and sel.results()[0].n_missing == 1
    with pytest.raises(ValueError):
        AdaptiveSelector([], 10, 0.5)
    with pytest.raises(ValueError):
        AdaptiveSelector(["x", "x"], 10, 0.5)


def test_unknown_prices_go_last() -> None:
    sel = AdaptiveSelector(["u", "p"], 10, 0.5, prices={"p": 3.0})
    assert sel.current_model() == "p"


# --- simulation: the stated guarantee -----------------------------------------------------------------------

ALPHA = 0.05


def noise_margin(rate: float, reps: int) -> float:
    """Three binomial standard errors: the simulation noise allowed on a rate measured over reps runs."""
    return 3 * float(np.sqrt(rate * (1 - rate) / reps))


def test_recommendation_agrees_with_the_full_data_rule() -> None:
    """Realistic spreads around the bar: the adaptive recommendation equals the full-data one (same budget).

    Guarantee (per table, over the random order): the pass sides of the cheaper models and the no-pass side of
    the full-data choice r can sway it, at levels adding up to at most 2 * s * alpha.
    """
    reps, share = 150, 0.2
    disagree = decided = 0
    rng = np.random.default_rng(21)
    for rep in range(reps):
        bar = float(rng.choice([0.6, 0.75, 0.9]))
        accuracies = np.clip(np.sort(rng.uniform(bar - 0.25, min(0.99, bar + 0.12), 8)), 0.01, 0.99).tolist()
        t = make_table(accuracies, int(rng.choice([300, 800])), 5000 + rep)
        sel = select_adaptive(t, bar, 1 - ALPHA, seed=rep, sequential_share=share)
        target = next((r.model for r in sel.models if r.extras["target_decision"] == "pass"), None)
        disagree += sel.recommended != target
        decided += target is not None
        spend = sel.extras["eval_spend"] / sel.extras["exhaustive_spend"]
        assert 0 < spend <= 1
    bound = 2 * share * ALPHA
    assert decided > reps // 2  # the cases are mostly decidable, so agreement is actually exercised
    assert disagree / reps <= bound + noise_margin(bound, reps)
