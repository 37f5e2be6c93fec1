"""Self-host arithmetic, checked against figures computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from satisfice.catalog.rows import Catalog, ModelRow, OfferRow, ScoreRow
from satisfice.errors import ConfigError
from satisfice.market.buy_or_build import Workload, compare, self_hosted
from satisfice.selfhost.calibration import Calibration, parse_citation
from satisfice.selfhost.driver import LoadPlan, make_prompt, parse_levels
from satisfice.selfhost.economics import (
    Level,
    RequestSample,
    best_level,
    input_weight,
    level_prices,
    level_stats,
    percentile,
)


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile(list(range(1, 21)), 95) == pytest.approx(19.05)  # rank 0.95 * 19 = 18.05 -> 19 + 0.05


def test_level_stats_by_hand() -> None:
    # Two requests in a 2-second window: 100 prompt + 10 output tokens each; a failure counts no tokens.
    samples = [
        RequestSample(0.0, 1.0, first_token=0.2, input_tokens=100, output_tokens=10, gaps=(0.1,) * 8),
        RequestSample(0.5, 2.0, first_token=0.9, input_tokens=100, output_tokens=10, gaps=(0.1,) * 8),
        RequestSample(1.0, 1.1, error="http_500"),
    ]
    s = level_stats(2, samples)
    assert (s.requests, s.errors, s.duration_s) == (2, 1, 2.0)
    assert s.requests_per_s == pytest.approx(1.0)
    assert s.output_tokens_per_s == pytest.approx(10.0)  # 20 tokens / 2 s
    assert s.input_tokens_per_s == pytest.approx(100.0)  # 200 tokens / 2 s
    assert s.ttft_p50_ms == pytest.approx(300.0)  # TTFTs 0.2 s and 0.4 s
    assert s.e2e_p50_ms == pytest.approx(1250.0)  # 1.0 s and 1.5 s
    assert s.itl_p50_ms == pytest.approx(100.0)
    assert s.error_kinds == {"http_500": 1}
    # Input weight: (300 ms / 100 prompt tokens) / 100 ms per output token = 0.03
    assert input_weight(s) == pytest.approx(0.03)


def test_prices_make_the_bench_traffic_cost_exactly_the_machine() -> None:
    s = level_stats(1, [RequestSample(0.0, 1.0, first_token=0.1, input_tokens=200, output_tokens=100)])
    p = level_prices(s, usd_per_hour=1.0, weight=0.25)
    # capacity = 100 + 0.25 * 200 = 150 output-equivalent tokens/s; $1/h / 3600 / 150 * 1e6 = $1.85185/M
    assert p.usd_per_m_output == pytest.approx(1e6 / 3600 / 150)
    assert p.usd_per_m_output == pytest.approx(1.851852, rel=1e-6)
    assert p.usd_per_m_input == pytest.approx(0.462963, rel=1e-6)
    assert p.usd_per_m_blended == pytest.approx(0.75 * 0.462963 + 0.25 * 1.851852, rel=1e-6)
    hour = (200 * p.usd_per_m_input + 100 * p.usd_per_m_output) * 3600 / 1e6  # type: ignore[operator]
    assert hour == pytest.approx(1.0)  # one hour of the bench's traffic pays for one machine-hour, once
    # Prices scale linearly with the machine price; twice the throughput halves them.
    assert level_prices(s, 3.0, 0.25).usd_per_m_output == pytest.approx(3 * p.usd_per_m_output)
    none = level_prices(level_stats(1, [RequestSample(0, 1, error="timeout")]), 1.0, 0.1)
    assert none.usd_per_m_output is None and none.usd_per_m_blended is None


def test_best_level_respects_the_latency_limit_and_errors() -> None:
    def level(c: int, out_tps: float, e2e: float, errors: int = 0) -> Level:
        n = 10
        ok = [RequestSample(i * e2e / c, i * e2e / c + e2e, first_token=0.0, input_tokens=0,
                            output_tokens=int(out_tps * e2e / c)) for i in range(n)]
        bad = [RequestSample(0.0, 0.1, error="http_429")] * errors
        s = level_stats(c, ok + bad)
        return Level(s, level_prices(s, 1.0, 0.0))

    fast, cheap, broken = level(1, 10, 1.0), level(8, 60, 4.0), level(32, 90, 6.0, errors=1)
    best, _ = best_level([fast, cheap, broken], None)
    assert best is cheap  # the cheapest level has errors: never best
    best, reason = best_level([fast, cheap, broken], max_p95_ms=2000)
    assert best is fast and "2000" in reason
    best, reason = best_level([cheap], max_p95_ms=10)
    assert best is None and "p95 <= 10 ms" in reason


def test_levels_prompts_and_plan_are_checked() -> None:
    assert parse_levels("64, 1,4,4") == [1, 4, 64]
    for bad in ("", "0", "1,x", "5000"):
        with pytest.raises(ConfigError, match="--concurrency"):
            parse_levels(bad)
    with pytest.raises(ConfigError, match="not both"):
        LoadPlan(requests=4, duration_s=1.0)
    with pytest.raises(ConfigError, match="--requests"):
        LoadPlan(requests=0)
    a, b = make_prompt(1, 64), make_prompt(2, 64)
    assert a != b and a.split(":")[0] != b.split(":")[0]  # no shared prefix a server could cache
    assert 55 <= len(a.split()) <= 70


def _calibration(out_tps: float = 100.0, in_tps: float = 300.0, weight: float = 0.1, usd_per_hour: float = 2.0,
                 provider: str = "self-hosted:box") -> Calibration:
    text = (f"satisfice selfhost bench; model=m; usd_per_hour={usd_per_hour}; concurrency=8; prompt_tokens=300; "
            f"output_tokens=100; requests=32; output_tokens_per_s={out_tps}; input_tokens_per_s={in_tps}; "
            f"input_weight={weight}; e2e_p95_ms=900; ttft_p95_ms=100; machine=1x GPU")
    parsed = parse_citation(text)
    assert parsed is not None
    return Calibration(OfferRow("m", provider, dt.date(2026, 1, 1), 0.1, 1.0, source=text), *parsed)


def test_self_hosted_sizing_by_hand() -> None:
    cal = _calibration()  # capacity = 100 + 0.1 * 300 = 130 output-equivalent tokens/s per machine
    work = Workload(tokens_per_day=86_400_000, input_share=0.75)  # 1,000 tokens/s on average
    host = self_hosted(cal, work)
    # per workload token: 0.25 + 0.1 * 0.75 = 0.325 output-equivalents -> 325/s average -> 2.5 machines -> 3
    assert host.machines == 3
    assert host.utilisation == pytest.approx(325 / 390)
    assert host.annual_usd == pytest.approx(3 * 2.0 * 8760)
    assert host.usd_per_m_effective == pytest.approx(52_560 / (86.4 * 365))
    assert host.usd_per_m_full_load == pytest.approx(2.0 / 3600 / 130 * 1e6 * 0.325)
    peak = self_hosted(cal, Workload(86_400_000, 0.75, peak_factor=2.0))
    assert peak.machines == 5 and peak.utilisation == pytest.approx(325 / 650)
    assert self_hosted(cal, work, usd_per_hour=1.0).annual_usd == pytest.approx(3 * 8760)
    with pytest.raises(ConfigError, match="peak"):
        Workload(1e6, 0.75, peak_factor=0.5)


def test_compare_break_even_by_hand() -> None:
    cal = _calibration(out_tps=1000.0, in_tps=3000.0, weight=0.0, usd_per_hour=1.0)
    models = [ModelRow("m", "M", open_weights=True), ModelRow("big", "Big"), ModelRow("small", "Small")]
    offers = [OfferRow("m", "api-a", dt.date(2025, 1, 1), 0.2, 0.6),
              OfferRow("m", "self-hosted:box", dt.date(2026, 1, 1), 0.0, 0.27),
              OfferRow("big", "openai", dt.date(2025, 1, 1), 5.0, 15.0),
              OfferRow("small", "cheapco", dt.date(2025, 1, 1), 0.05, 0.05)]
    scores = [ScoreRow("big", "mmlu", 90.0), ScoreRow("small", "mmlu", 60.0), ScoreRow("m", "mmlu", 80.0)]
    catalog = Catalog.build(models, offers, scores)
    doc = compare(catalog, cal, "m", Workload(10_000_000), benchmark="mmlu", threshold=85.0,
                  today=dt.date(2026, 6, 1))
    (api,) = doc["api_offers"]  # the self-hosted offer is not an API offer
    assert api["blended_per_m"] == pytest.approx(0.3)  # 0.75 * 0.2 + 0.25 * 0.6
    assert api["annual_usd"] == pytest.approx(0.3 * 10 * 365)  # $1,095
    assert doc["self_hosted"]["machines"] == 1 and doc["self_hosted"]["annual_usd"] == pytest.approx(8760)
    # One machine ($24/day) equals the API at 24 / 0.3 * 1e6 = 80M tokens/day; it carries 1000 / 0.25 * 86400.
    assert api["break_even"]["tokens_per_day"] == pytest.approx(80e6)
    assert doc["bar"]["model"] == "big" and doc["bar"]["blended_per_m"] == pytest.approx(7.5)
    assert doc["bar"]["break_even"]["tokens_per_day"] == pytest.approx(24e6 / 7.5)
    # A machine that at full load costs more per token than the API never breaks even.
    slow = _calibration(out_tps=1.0, in_tps=3.0, weight=0.0, usd_per_hour=1.0)
    assert compare(catalog, slow, "m", Workload(1e6), today=dt.date(2026, 6, 1))["api_offers"][0][
        "break_even"]["tokens_per_day"] is None
    with pytest.raises(ConfigError, match="together"):
        compare(catalog, cal, "m", Workload(1e6), benchmark="mmlu")
    with pytest.raises(ConfigError, match="no scores"):
        compare(catalog, cal, "m", Workload(1e6), benchmark="gpqa", threshold=1.0)


async def test_duration_bound_level_stops_issuing_at_the_deadline() -> None:
    import asyncio
    import time

    from satisfice.selfhost.driver import run_level

    started: list[float] = []

    async def streamer(index: int) -> RequestSample:
        t = time.perf_counter()
        started.append(t)
        await asyncio.sleep(0.02)
        return RequestSample(t, time.perf_counter(), first_token=t, input_tokens=1, output_tokens=1)

    begin = time.perf_counter()
    samples = await run_level(streamer, 2, LoadPlan(duration_s=0.2, warmup=False))
    assert 6 <= len(samples) <= 22  # two workers, ~20 ms each, for 0.2 s (a busy machine gets fewer)
    assert max(started) - begin < 0.2 + 0.05  # nothing is sent after the deadline
    assert len(started) == len(samples)  # requests in flight at the deadline are waited for and counted


async def test_repeated_levels_keep_the_fastest_run() -> None:
    from satisfice.selfhost.bench import BenchConfig, run_bench

    calls = 0

    async def streamer(index: int) -> RequestSample:  # the first run (warm-up + 4) is twice as slow as the second
        nonlocal calls
        calls += 1
        slow = calls <= 5
        took, ttft, gap = (2.0, 0.1, 0.1) if slow else (1.0, 0.5, 0.2)
        start = calls * 10.0
        return RequestSample(start, start + took, first_token=start + ttft, input_tokens=10, output_tokens=10,
                             gaps=(gap,) * 9)

    config = BenchConfig(model="m", levels=[1], plan=LoadPlan(requests=4), usd_per_hour=1.0, repeat=2)
    result = await run_bench(streamer, config)
    (level,) = result.to_json()["levels"]
    assert level["repeats_output_tokens_per_s"] == [pytest.approx(40 / 32), pytest.approx(40 / 31)]
    assert level["output_tokens_per_s"] == pytest.approx(40 / 31)  # the faster run; contention only slows
    # the weight takes the least-disturbed prefill (100 ms / 10 tokens) and ITL (100 ms) of all runs: 0.1
    assert result.weight == pytest.approx(0.1) and "least of 2 runs" in result.weight_source
    with pytest.raises(ConfigError, match="--repeat"):
        BenchConfig(model="m", levels=[1], plan=LoadPlan(requests=4), usd_per_hour=1.0, repeat=0)
