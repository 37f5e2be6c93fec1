"""Pricing what the task will cost: a shared prompt prefix is cached input, and a faster model is never dearer."""

from __future__ import annotations

import datetime as dt

import pytest

from satisfice.catalog.repository import load_catalog
from satisfice.core import Usage
from satisfice.evals.pricing import price_for
from satisfice.selfhost.bench import BenchConfig, BenchResult, all_failed, measured_weight
from satisfice.selfhost.calibration import find_calibration, save_calibration
from satisfice.selfhost.driver import LoadPlan
from satisfice.selfhost.economics import Level, RequestSample, best_level, level_prices, sequential_stats
from satisfice.store import Store

PROMPT, PREFIX, OUTPUT = 90, 80, 16
"""A few-shot prompt of 90 tokens whose first 80 are the same for every request (cached after the first)."""


def task_samples(prefill_s_per_token: float, decode_s_per_token: float, *, n: int = 6, stall: float = 0.0,
                 gap_between: float = 0.0) -> list[RequestSample]:
    """Requests one at a time: the 10 uncached prompt tokens take the prefill time, each output token the decode."""
    out, t = [], 0.0
    for i in range(n):
        ttft = (PROMPT - PREFIX) * prefill_s_per_token
        e2e = ttft + OUTPUT * decode_s_per_token + (stall if i == 0 else 0.0)
        gaps = (decode_s_per_token,) * (OUTPUT - 1)
        out.append(RequestSample(t, t + e2e, first_token=t + ttft, input_tokens=PROMPT, output_tokens=OUTPUT,
                                 gaps=gaps, cached_input_tokens=PREFIX))
        t += e2e + gap_between
    return out


def priced(samples: list[RequestSample], usd_per_hour: float = 0.1) -> BenchResult:
    config = BenchConfig(model="local/smollm2-135m", levels=[1], plan=LoadPlan(requests=len(samples)),
                         usd_per_hour=usd_per_hour, prompt_tokens=1, output_tokens=OUTPUT, machine="test")
    stats = sequential_stats(samples)
    weight, source = measured_weight(config, [[stats]])
    level = Level(stats, level_prices(stats, usd_per_hour, weight))
    best, reason = best_level([level], None)
    return BenchResult(config, [level], weight, source, best, reason, dt.datetime(2026, 12, 7))


def cost_per_request(result: BenchResult) -> float:
    best = result.best
    assert best is not None and best.prices.usd_per_m_input is not None and best.prices.usd_per_m_output is not None
    p = best.prices
    usage = Usage(PROMPT, 2, cached_input_tokens=PREFIX)  # the eval's own request: 2 answer tokens
    cached = p.usd_per_m_cached_input if p.usd_per_m_cached_input is not None else p.usd_per_m_input
    return ((usage.input_tokens - usage.cached_input_tokens) * p.usd_per_m_input
            + usage.cached_input_tokens * cached + usage.output_tokens * p.usd_per_m_output) / 1e6


def test_the_shared_prefix_is_priced_as_cached_input_and_costs_no_prefill() -> None:
    result = priced(task_samples(0.004, 0.02))
    best = result.best
    assert best is not None
    assert best.prices.usd_per_m_cached_input == 0.0
    assert best.stats.mean_cached_input_tokens == PREFIX and best.stats.mean_computed_input_tokens == PROMPT - PREFIX
    assert result.weight == pytest.approx(0.004 / 0.02)  # per *computed* prompt token, not per prompt token
    # the bench's own traffic pays exactly the machine: H per hour of busy time
    s, p = best.stats, best.prices
    assert p.usd_per_m_input is not None and p.usd_per_m_output is not None
    per_second = (s.computed_input_tokens_per_s * p.usd_per_m_input + s.output_tokens_per_s * p.usd_per_m_output) / 1e6
    assert per_second * 3600 == pytest.approx(0.1)


@pytest.mark.parametrize(("fast", "slow"), [((0.002, 0.01), (0.004, 0.02)), ((0.001, 0.03), (0.003, 0.031)),
                                            ((0.004, 0.012), (0.0041, 0.05))])
def test_the_model_that_serves_the_task_faster_is_never_the_dearer_one(fast: tuple[float, float],
                                                                       slow: tuple[float, float]) -> None:
    assert cost_per_request(priced(task_samples(*fast))) < cost_per_request(priced(task_samples(*slow)))


def test_a_stalled_request_or_the_other_models_turns_do_not_price_the_model() -> None:
    quiet = priced(task_samples(0.002, 0.01))
    disturbed = priced(task_samples(0.002, 0.01, stall=5.0, gap_between=3.0))  # one stall; another model's turns
    assert cost_per_request(disturbed) == pytest.approx(cost_per_request(quiet), rel=1e-6)


def test_a_synthetic_bench_prices_cached_input_too_and_an_empty_level_nothing() -> None:
    samples = [RequestSample(float(i), i + 1.0, first_token=i + 0.1, input_tokens=100, output_tokens=50,
                             gaps=(0.9 / 49,) * 49) for i in range(4)]
    assert level_prices(sequential_stats(samples), 0.5, 0.1).usd_per_m_cached_input == 0.0  # billed only if reused
    failed = [RequestSample(0.0, 1.0, error="timeout")]
    assert level_prices(sequential_stats(failed), 0.5, 0.1).usd_per_m_cached_input is None


def test_the_cached_price_is_saved_and_read_back(store: Store) -> None:
    result = priced(task_samples(0.004, 0.02))
    saved = save_calibration(store, result, name="this-machine", model_id="local/smollm2-135m", task="sentiment")
    assert saved["cached_input_per_m"] == 0.0
    catalog = load_catalog(store)
    info = price_for("local/smollm2-135m", catalog=catalog, today=dt.date(2026, 12, 7))
    assert info.price is not None and info.price.cached_input_per_m == 0.0
    cal = find_calibration(catalog, "local/smollm2-135m", today=dt.date(2026, 12, 7))
    assert "prompts=task sentiment" in cal.offer.source
    assert cal.figures["cached_input_tokens_per_s"] > 0
    best = result.best
    assert best is not None
    assert cal.capacity_per_s == pytest.approx(best.stats.output_tokens_per_s
                                               + result.weight * best.stats.computed_input_tokens_per_s, rel=1e-4)


def test_every_request_failing_is_named_with_its_cause() -> None:
    failed = [RequestSample(0.0, 0.001, error="upstream_unavailable") for _ in range(3)]
    config = BenchConfig(model="m", levels=[1], plan=LoadPlan(requests=3), usd_per_hour=0.1,
                         base_url="http://127.0.0.1:9/v1")
    stats = sequential_stats(failed)
    level = Level(stats, level_prices(stats, 0.1, 0.0))
    result = BenchResult(config, [level], 0.0, "", None, "no level without errors", dt.datetime(2026, 12, 7))
    message = all_failed(result)
    assert message is not None
    assert "upstream_unavailable x3" in message and "nothing answered at http://127.0.0.1:9/v1" in message
    assert all_failed(priced(task_samples(0.002, 0.01))) is None
