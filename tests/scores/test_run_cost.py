"""Cost to run a benchmark, saturation, the recorded-outcomes importer on RouterBench's real files, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from satisfice.catalog.rows import Catalog, ModelRow, OfferRow, ScoreRow
from satisfice.catalog.sources.recorded import benchmark_of, parse_recorded
from satisfice.cli import app
from satisfice.errors import DataError
from satisfice.market.frontier import frontier
from satisfice.market.runcost import run_cost, usd
from satisfice.market.saturation import saturation

ROUTERBENCH = Path(__file__).resolve().parents[1] / "data" / "shared" / "routerbench"
HISTORY = Path(__file__).resolve().parents[1] / "data" / "shared" / "openrouter_price_history.json"
runner = CliRunner()


def _catalog() -> Catalog:
    day = dt.date(2025, 1, 1)
    models = [ModelRow("terse", "Terse", release_date=day), ModelRow("verbose", "Verbose", release_date=day),
              ModelRow("vendor-only", "Vendor only", release_date=day)]
    offers = [OfferRow("terse", "a", day, 3.0, 15.0), OfferRow("verbose", "b", day, 1.0, 4.0),
              OfferRow("vendor-only", "c", day, 1.0, 1.0)]
    scores = [
        ScoreRow("terse", "gpqa-diamond", 80.0, harness="openrouter", source="export", input_tokens=1000,
                 output_tokens=2000, effort="low"),
        ScoreRow("verbose", "gpqa-diamond", 81.0, harness="openrouter", source="export", input_tokens=1000,
                 cached_tokens=500, output_tokens=20000, effort="high"),
        ScoreRow("vendor-only", "gpqa-diamond", 90.0, harness="vendor", source="card"),
    ]
    return Catalog.build(models, offers, scores)


def _index_run(model: str, harness: str, cost: float | None, cached: float | None = None) -> ScoreRow:
    return ScoreRow(model, "aa-intelligence-index-v4.3", 40.0, harness=harness, source="run", input_tokens=1e9,
                    cached_tokens=cached, output_tokens=5e7, items=1, cost_per_task=cost)


def test_a_harness_whose_input_includes_cache_hits_is_priced_at_its_measured_cost() -> None:
    day = dt.date(2026, 1, 1)
    models = [ModelRow(m, m.upper(), release_date=day) for m in ("aa", "aa-split", "aa-nocost", "or")]
    offers = [OfferRow(m.id, "x", day, 2.0, 10.0, cached_input_per_m=0.2) for m in models]
    scores = [
        _index_run("aa", "artificial-analysis", 1234.5),  # input includes cache hits, no split: measured cost
        _index_run("aa-split", "artificial-analysis", 1234.5, cached=9e8),  # the split given: tokens x price
        _index_run("aa-nocost", "artificial-analysis", None),  # no measured cost: tokens x price, input all fresh
        _index_run("or", "openrouter", 1.0),  # any other harness (satisfice's eval runs): tokens x price
    ]
    result = run_cost(Catalog.build(models, offers, scores), "aa-intelligence-index", day)
    rows = {r.model: r for r in result.rows}
    assert (rows["aa"].run_cost_usd, rows["aa"].basis, rows["aa"].input_tokens) == (1234.5, "measured cost", 1e9)
    assert rows["aa-split"].run_cost_usd == pytest.approx((1e8 * 2 + 9e8 * 0.2 + 5e7 * 10) / 1e6)
    assert rows["aa-nocost"].run_cost_usd == pytest.approx((1e9 * 2 + 5e7 * 10) / 1e6)
    assert (rows["or"].run_cost_usd, rows["or"].basis) == (pytest.approx(2500.0), "tokens x price")
    assert result.summary().endswith("for 1 item).")


def test_run_cost_is_tokens_times_price_times_items_and_names_the_reversal() -> None:
    result = run_cost(_catalog(), "gpqa", dt.date(2025, 6, 1))
    terse, verbose = result.rows
    assert terse.model == "terse" and terse.items == 198
    assert terse.run_cost_usd == pytest.approx(198 * (1000 * 3 + 2000 * 15) / 1e6)
    # 500 cached tokens are priced at the input price when the offer has no cached price
    assert verbose.run_cost_usd == pytest.approx(198 * (500 * 1 + 500 * 1 + 20000 * 4) / 1e6)
    assert (verbose.effort, verbose.harness, verbose.basis) == ("high", "openrouter", "tokens x price")
    assert result.without_tokens == ("Vendor only",)
    (rev,) = result.reversals
    assert (rev.cheaper_per_token, rev.dearer_to_run) == ("Verbose", "Terse")
    assert rev.price_ratio == pytest.approx(6.0 / 1.75) and rev.run_cost_ratio > 2
    assert "cheaper per token" in result.summary()
    doc = result.to_json()
    assert set(doc) >= {"benchmark", "as_of", "rows"}
    assert set(doc["rows"][0]) >= {"model", "run_cost_usd", "items", "input_tokens", "output_tokens", "effort",
                                   "harness", "source"}


def test_frontier_can_rank_by_run_cost() -> None:
    by_price = frontier(_catalog(), "gpqa-diamond", 80)
    by_run = frontier(_catalog(), "gpqa-diamond", 80, measure="run-cost")
    assert by_run.measure == "run-cost" and by_run.to_json()["measure"] == "run-cost"
    assert [m.model for m in by_price.frontier] == ["vendor-only"]  # cheapest per token (released the same day)
    assert [m.model for m in by_run.frontier] == ["terse"]  # cheapest to run; vendor-only publishes no tokens
    assert {m.model: m.blended_price for m in by_run.models}["vendor-only"] is None
    assert any("no tokens or cost per task" in n for n in by_run.notes)


def test_usd_never_uses_scientific_notation() -> None:
    assert [usd(x) for x in (0.0145, 2.8, 1234.5, 0.0)] == ["$0.0145", "$2.80", "$1,234", "$0"]
    assert usd(0.00001234) == "$0.0000123"


def test_saturation_walks_the_record_against_ceiling_and_human_baseline() -> None:
    result = saturation(_catalog(), "gpqa-diamond")
    (gpqa,) = result.benchmarks
    assert gpqa.top is not None and gpqa.top.score == 90.0 and gpqa.top.harness == "vendor"
    assert gpqa.human is not None and gpqa.human_passed_on == dt.date(2025, 1, 1)
    assert gpqa.status == "open" and gpqa.headroom == 10.0
    only_runs = saturation(_catalog().with_harness("openrouter"), "gpqa-diamond").benchmarks[0]
    assert only_runs.top is not None and only_runs.top.score == 81.0


def test_recorded_outcomes_on_routerbench_real_file() -> None:
    path = ROUTERBENCH / "mbpp_train_outcomes.csv"
    assert benchmark_of(path) == "mbpp"
    batch = parse_recorded(path)
    by_id = {s.model_id: s for s in batch.scores}
    assert len(by_id) == 11 and {s.harness for s in batch.scores} == {"routerbench"}
    gpt35 = by_id["gpt-3.5-turbo-1106"]
    assert gpt35.items == 299 and gpt35.value == pytest.approx(63.88, abs=0.01)
    assert gpt35.cost_per_task * 299 == pytest.approx(0.0999, abs=1e-4)  # type: ignore[operator]
    assert 0 < gpt35.stderr < 5  # type: ignore[operator]


def test_recorded_outcomes_drift_and_malformed_files(tmp_path: Path) -> None:
    drift = tmp_path / "x_outcomes.csv"
    drift.write_text("prompt,gpt,gpt|cost\nq,1,0.1\n")  # the cost column was renamed upstream
    with pytest.raises(DataError, match="not a recorded-outcomes file"):
        parse_recorded(drift)
    bad = tmp_path / "y_outcomes.csv"
    bad.write_text("prompt,gpt,gpt|total_cost\nq,1,0.1\nr,yes,0.2\n")
    with pytest.raises(DataError, match="line 3"):
        parse_recorded(bad)
    half = tmp_path / "z_outcomes.csv"
    half.write_text("prompt,gpt,gpt|total_cost\nq,1,\n")
    with pytest.raises(DataError, match="needs its cost"):
        parse_recorded(half)


def _run(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_run_cost_on_real_routerbench_and_openrouter_prices(tmp_path: Path) -> None:
    _run("catalog", "import", str(ROUTERBENCH / "mbpp_train_outcomes.csv"))
    _run("catalog", "import", str(HISTORY))
    # RouterBench's models are priced here only by OpenRouter (a reseller: never a default price), so name it
    doc = _run("market", "run-cost", "--benchmark", "mbpp", "--as-of", "2025-01-01", "--provider", "openrouter")
    assert doc["benchmark"] == "mbpp" and doc["as_of"] == "2025-01-01" and len(doc["rows"]) == 11
    rows = {r["model"]: r for r in doc["rows"]}
    assert rows["claude-instant-1"]["run_cost_usd"] > rows["gpt-3.5-turbo-1106"]["run_cost_usd"]
    assert rows["claude-instant-1"]["blended_price"] < rows["gpt-3.5-turbo-1106"]["blended_price"]
    assert {"cheaper_per_token": "claude-instant-v1", "dearer_to_run": "gpt-3.5-turbo-1106"}.items() <= \
        doc["reversals"][0].items()
    table = runner.invoke(app, ["market", "run-cost", "--benchmark", "mbpp", "--as-of", "2025-01-01",
                                "--provider", "openrouter"])
    assert "dearer to run" in table.stdout and "routerbench" in table.stdout
    sat = _run("market", "saturation", "--benchmark", "mbpp")
    assert sat["benchmarks"][0]["top"]["harness"] == "routerbench"


def test_cli_harness_option(tmp_path: Path) -> None:
    doc = _run("market", "frontier", "--benchmark", "gpqa-diamond", "--threshold", "70", "--harness", "epoch")
    assert doc["models"] and {m["harness"] for m in doc["models"]} == {"epoch"}
    assert all(m["score_source"] for m in doc["models"])
    default = _run("market", "frontier", "--benchmark", "gpqa-diamond", "--threshold", "70")
    assert {m["harness"] for m in default["models"]} >= {"epoch", "vendor"}
    wrong = runner.invoke(app, ["market", "frontier", "-b", "gpqa", "-t", "70", "--harness", "nobody", "--json"])
    assert wrong.exit_code != 0 and "harnesses in the catalog" in wrong.output


def _seed_eval_run(store: Any) -> None:
    from dataclasses import replace

    from satisfice.core import Price
    from satisfice.evals.cache import ResponseCache
    from satisfice.evals.pricing import PriceInfo
    from satisfice.evals.results import ItemOutcome, results_to_dict, summarise

    prices = {"terse-model": Price(3.0, 15.0), "verbose-model": Price(1.0, 4.0)}
    tokens = {"terse-model": 100, "verbose-model": 2000}
    outcomes = [replace(o, cost_usd=(o.input_tokens * prices[o.model].input_per_m
                                     + o.output_tokens * prices[o.model].output_per_m) / 1e6)
                for m in prices for o in (ItemOutcome(model=m, index=i, item_id=str(i), status="scored",
                                                      score=float(i % 4 != 0), has_response=True, input_tokens=300,
                                                      output_tokens=tokens[m], latency_s=0.2) for i in range(20))]
    res = summarise("sentiment", outcomes, models=list(prices), threshold=None,
                    prices={m: PriceInfo(m, p, "override") for m, p in prices.items()}, items=20)
    cache = ResponseCache(store)
    run_id = cache.start_run("sentiment", "0" * 64, "sentiment.yaml", list(prices))
    cache.finish_run(run_id, status="complete", spent_usd=0.01, calls=40, cache_hits=0,
                     summary=results_to_dict(res))


def test_eval_runs_are_a_source_of_token_counts(db_url: str) -> None:
    from satisfice.evals.observations import eval_observations
    from satisfice.store import open_store

    store = open_store(db_url)
    try:
        _seed_eval_run(store)
        observed = {o.model_id: o for o in eval_observations(store)}
    finally:
        store.close()
    assert set(observed) == {"terse-model", "verbose-model"}
    verbose = observed["verbose-model"]
    assert (verbose.harness, verbose.benchmark, verbose.items) == ("satisfice", "sentiment", 20)
    assert (verbose.input_tokens, verbose.output_tokens, verbose.value) == (300, 2000, 75.0)
    doc = _run("--db", db_url, "market", "run-cost", "--benchmark", "sentiment")
    rows = {r["model"]: r for r in doc["rows"]}
    assert rows["verbose-model"]["harness"] == "satisfice" and rows["verbose-model"]["output_tokens"] == 2000
    # measured: 20 x (300 x $1 + 2000 x $4) / 1e6 against 20 x (300 x $3 + 100 x $15) / 1e6
    assert rows["verbose-model"]["run_cost_usd"] == pytest.approx(20 * 8300 / 1e6)
    assert rows["terse-model"]["run_cost_usd"] == pytest.approx(20 * 2400 / 1e6)
    only = _run("--db", db_url, "market", "run-cost", "--benchmark", "sentiment", "--harness", "satisfice")
    assert {r["harness"] for r in only["rows"]} == {"satisfice"} and len(only["rows"]) == 2
