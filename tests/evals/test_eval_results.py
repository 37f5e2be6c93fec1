"""Summaries: conservative decisions with errors, unknown prices, annual cost, savings, the sentence, round trip."""

from __future__ import annotations

import pytest

from satisfice.core import Price
from satisfice.evals.pricing import PriceInfo, price_for
from satisfice.evals.results import (
    ItemOutcome,
    format_usd,
    results_from_dict,
    results_to_dict,
    summarise,
)
from satisfice.reports.eval_report import pareto_set, to_json
from satisfice.tasks.spec import WorkloadSpec
from satisfice.tasks.threshold import Threshold


def outcomes(model: str, scores: list[float], *, errors: int = 0, skipped: int = 0, tokens: tuple[int, int] = (100, 10),
             cost: float | None = 1e-4) -> list[ItemOutcome]:
    out = [ItemOutcome(model, i, f"q{i}", "scored", score=s, attempts=1, has_response=True, input_tokens=tokens[0],
                       output_tokens=tokens[1], latency_s=0.1 + i / 1000, cost_usd=cost)
           for i, s in enumerate(scores)]
    k = len(out)
    out += [ItemOutcome(model, k + j, f"q{k + j}", "error", error_kind="timeout", attempts=4) for j in range(errors)]
    k = len(out)
    out += [ItemOutcome(model, k + j, f"q{k + j}", "skipped") for j in range(skipped)]
    return out


PRICE = {"a": PriceInfo("a", Price(1.0, 2.0), "override"), "b": PriceInfo("b", Price(10.0, 20.0), "override")}


def test_errors_are_counted_conservatively() -> None:
    bar = Threshold(bar=0.8)
    clean = summarise("t", outcomes("a", [1.0] * 50), models=["a"], threshold=bar, prices=PRICE)
    assert clean.models[0].decision == "pass"
    noisy = summarise("t", outcomes("a", [1.0] * 50, errors=20), models=["a"], threshold=bar, prices=PRICE)
    m = noisy.models[0]
    assert (m.n, m.n_errors, m.accuracy) == (50, 20, 1.0)  # errors are not in the accuracy...
    assert m.decision == "undecided"  # ...but they stop a pass: 50/70 would not clear 0.8
    assert "counted conservatively" in m.decision_note
    failing = summarise("t", outcomes("a", [0.0] * 60, errors=5), models=["a"], threshold=bar, prices=PRICE)
    assert failing.models[0].decision == "fail"  # fails even if every error had been a success
    assert "conservatively" in to_json(noisy)["errors_rule"]


def test_unknown_price_is_unknown_not_zero() -> None:
    prices = {"a": PriceInfo("a", None, "unknown")}
    r = summarise("t", outcomes("a", [1.0] * 30, cost=None), models=["a"], threshold=Threshold(bar=0.5),
                  prices=prices, workload=WorkloadSpec(requests_per_day=1000))
    m = r.models[0]
    assert m.cost_run is None and m.cost_per_request is None and m.annual_cost is None
    doc = to_json(r)["models"][0]
    assert doc["cost_per_request"] is None and doc["cost_known"] is False
    assert r.recommended == "a" and "unknown" in r.sentence
    assert format_usd(None) == "unknown" and format_usd(0.0) == "$0"


def test_annual_cost_savings_and_sentence() -> None:
    workload = WorkloadSpec(requests_per_day=1000, input_tokens_per_request=100, output_tokens_per_request=10)
    data = outcomes("a", [1.0] * 400, cost=1.2e-4) + outcomes("b", [1.0] * 400, cost=1.2e-3)
    r = summarise("t", data, models=["a", "b"], threshold=Threshold(bar=0.9), prices=PRICE, workload=workload)
    a, b = r.models
    assert a.annual_cost == pytest.approx((100 * 1 + 10 * 2) / 1e6 * 1000 * 365)  # $43.80
    assert b.annual_cost == pytest.approx(438.0)
    assert a.cost_per_1k == pytest.approx(0.12)
    assert r.recommended == "a" and r.baseline == "b"
    assert a.savings_per_year == pytest.approx(438.0 - 43.8) and a.savings_fraction == pytest.approx(0.9)
    assert r.sentence.startswith("a clears 90% at 95% confidence on 400 items")
    assert "$43.80/year" in r.sentence and "against $438/year for b" in r.sentence
    assert (a.latency_p50_s or 0) < (a.latency_p95_s or 0)
    assert pareto_set(r.models) == {"a"}


def test_reference_is_the_savings_baseline_and_non_inferiority() -> None:
    th = Threshold(non_inferior_to="b", margin=0.05)
    same = [1.0] * 180 + [0.0] * 20
    r = summarise("t", outcomes("a", same) + outcomes("b", same), models=["a", "b"], threshold=th, prices=PRICE,
                  reference="b")
    a = r.models[0]
    assert a.decision == "pass" and a.ni_diff == pytest.approx(0.0) and (a.ni_lower or 0) > -0.05
    assert r.baseline == "b" and a.savings_fraction == pytest.approx(0.0)  # same measured cost per request here
    worse = [1.0] * 100 + [0.0] * 100
    r2 = summarise("t", outcomes("a", worse) + outcomes("b", same), models=["a", "b"], threshold=th, prices=PRICE)
    assert r2.models[0].decision == "fail" and r2.recommended == "b"


def test_nothing_passing_says_so() -> None:
    r = summarise("t", outcomes("a", [1.0] * 5 + [0.0] * 3), models=["a"], threshold=Threshold(bar=0.9),
                  prices=PRICE)
    assert r.recommended is None and "No candidate clears 90%" in r.sentence and "undecided: a" in r.sentence


def test_budget_skips_are_missing_not_errors() -> None:
    r = summarise("t", outcomes("a", [1.0] * 10, skipped=5), models=["a"], threshold=Threshold(bar=0.5),
                  prices=PRICE)
    m = r.models[0]
    assert (m.n, m.n_errors, m.n_not_run) == (10, 0, 5)


def test_results_round_trip() -> None:
    workload = WorkloadSpec(requests_per_day=50)
    r = summarise("t", outcomes("a", [1.0, 0.0, 1.0], errors=1), models=["a"],
                  threshold=Threshold(bar=0.5, confidence=0.9), prices=PRICE, workload=workload)
    r.run_id, r.notes = 7, ["hello"]
    back = results_from_dict(results_to_dict(r))
    assert back == r


def test_price_for_prefers_override_then_catalog() -> None:
    import datetime as dt

    from satisfice.catalog.rows import Catalog, ModelRow, OfferRow

    cat = Catalog.build([ModelRow("x", "X")], [OfferRow("x", "p1", dt.date(2024, 1, 1), 3.0, 6.0),
                                               OfferRow("x", "p2", dt.date(2024, 1, 1), 1.0, 2.0),
                                               OfferRow("x", "p2", dt.date(2999, 1, 1), 0.1, 0.2)])
    info = price_for("x", catalog=cat, today=dt.date(2025, 1, 1))
    assert info.source == "catalog" and info.provider == "p2" and info.price == Price(1.0, 2.0)
    assert price_for("x", input_per_m=5.0, output_per_m=5.0, catalog=cat).source == "override"
    uncalibrated = price_for("local/smollm2-135m")
    assert uncalibrated.source == "uncalibrated" and not uncalibrated.known
    assert "satisfice selfhost bench local/smollm2-135m --save" in uncalibrated.describe()
    assert not price_for("nobody", catalog=cat).known
