"""The lag analysis: Kaplan-Meier over observed and waiting bars, bootstrap interval, trend, expected dates."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from market_builders import build, d, gp
from typer.testing import CliRunner

from satisfice.cli import app
from satisfice.market.lag import km_quantile, km_survival, lag_analysis, survival_at


def test_km_without_censoring_is_the_empirical_distribution() -> None:
    steps = km_survival([10, 20, 30, 40], [True] * 4)
    assert steps == [(10, 0.75), (20, 0.5), (30, 0.25), (40, 0.0)]
    assert km_quantile(steps, 0.5) == 20 and km_quantile(steps, 0.95) == 40
    assert survival_at(steps, 25) == 0.5 and survival_at(steps, 5) == 1.0


def test_km_censored_bars_pull_the_distribution_up() -> None:
    # 10 and 20 observed; 15 and 50 still waiting: at 20 the risk set is {20, 50} -> S = 0.75 * 1/2
    steps = km_survival([10, 15, 20, 50], [True, False, True, False])
    assert steps == [(10, 0.75), (20, pytest.approx(0.375))]
    assert km_quantile(steps, 0.5) == 20
    assert km_quantile(steps, 0.9) is None  # the data never get there: unknown, not extrapolated
    # conditional on already waiting more than 12: P(T <= 20 | T > 12) = 1 - 0.375 / 0.75 = 0.5
    assert km_quantile(steps, 0.5, after=12) == 20 and km_quantile(steps, 0.6, after=12) is None


def _catalog():  # noqa: ANN202
    return build([
        gp("c1", "2024-01-01", 60, 10.0), gp("o1", "2024-04-10", 60, 1.0, open=True),  # lag 100 for bar 60
        gp("c2", "2024-06-01", 70, 12.0), gp("o2", "2024-08-20", 70, 2.0, open=True),  # lag 80 for bar 70
        gp("c3", "2024-10-01", 80, 15.0), gp("o3", "2025-01-29", 80, 3.0, open=True),  # lag 120 for bar 80
        gp("c4", "2025-03-01", 90, 20.0),                                               # bar 90: waiting
    ])


def test_lag_analysis_on_a_small_catalog() -> None:
    r = lag_analysis(_catalog(), "gpqa-diamond", as_of=d("2025-04-01"))
    by_bar = {b.threshold: b for b in r.bars}
    assert by_bar[60].lag_days == 100 and by_bar[60].first_open and by_bar[60].first_open.model == "o1"
    assert by_bar[70].lag_days == 80 and by_bar[80].lag_days == 120
    assert by_bar[60].price_ratio == pytest.approx(10.0)
    waiting = by_bar[90]
    assert waiting.status == "waiting" and waiting.elapsed_days == 31
    assert r.n_observed == 3 and r.n_censored == 1 and r.median_days == 100
    # conditional on > 31 days: all three observed lags qualify; median 100 days after 2025-03-01
    assert waiting.expected == d("2025-03-01") + dt.timedelta(days=100)
    assert waiting.expected_low == d("2025-03-01") + dt.timedelta(days=80)
    assert waiting.expected_high == d("2025-03-01") + dt.timedelta(days=120)
    lo, hi = r.median_ci90
    assert lo is not None and hi is not None and 80 <= lo <= r.median_days <= hi <= 120
    assert r.trend is not None and r.trend.n == 3
    doc = r.to_json()
    assert doc["bars"][-1]["expected_ci90"] == ["2025-05-20", "2025-06-29"] and doc["median_days"] == 100


def test_no_expected_date_from_fewer_than_three_longer_lags() -> None:
    # waiting 110 days: only one observed lag (120) is longer, so no date and no point-sized interval
    r = lag_analysis(_catalog(), "gpqa-diamond", as_of=d("2025-06-19"))
    waiting = {b.threshold: b for b in r.bars}[90]
    assert waiting.status == "waiting" and waiting.elapsed_days == 110
    assert waiting.expected is None and waiting.expected_low is None and waiting.expected_high is None
    assert r.to_json()["bars"][-1]["expected_date"] is None


def test_lag_analysis_is_deterministic_and_uses_as_of() -> None:
    cat = _catalog()
    a, b = lag_analysis(cat, "all", d("2025-04-01")), lag_analysis(cat, "all", d("2025-04-01"))
    assert a.to_json() == b.to_json()
    early = lag_analysis(cat, "gpqa-diamond", d("2024-05-01"))
    assert {x.threshold: x.status for x in early.bars} == {60: "observed"}


def test_market_lag_cli(tmp_path) -> None:  # noqa: ANN001
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'lag.db'}"
    res = runner.invoke(app, ["--db", db, "market", "lag", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["n_observed"] > 10 and doc["median_days"] > 0 and set(doc["benchmarks"]) >= {"mmlu", "gpqa-diamond"}
    table = runner.invoke(app, ["--db", db, "market", "lag", "--benchmark", "gpqa-diamond"])
    assert table.exit_code == 0 and "Median lag" in table.stdout
    bad = runner.invoke(app, ["--db", db, "market", "lag", "--benchmark", "nope"])
    assert bad.exit_code != 0
