"""Every ``satisfice market`` command through the real CLI, on a small catalog imported into a fresh store."""

import json

import pytest
from market_builders import M, build, gp
from typer.testing import CliRunner

from satisfice.catalog.batch import BENCHMARKS, ImportBatch
from satisfice.catalog.repository import apply_batch
from satisfice.errors import ConfigError, NotFoundError
from satisfice.store import open_store

MODELS = [
    M("o1", "2024-12-05", False, {"gpqa-diamond": 75.8, "humaneval": 92}, [("2024-12-05", 15.0, 60.0)], name="o1"),
    M("deepseek-r1", "2025-01-20", True, {"gpqa-diamond": 71.7, "humaneval": 90}, [("2025-01-20", 0.55, 2.19)],
      name="DeepSeek-R1"),
    M("gpt-4o", "2024-05-13", False, {"gpqa-diamond": 48.9, "humaneval": 88},
      [("2024-05-13", 5.0, 15.0), ("2024-08-06", 2.5, 10.0)], name="GPT-4o"),
    gp("llama-70b", "2024-07-23", 44.2, 0.72, True),
    gp("qwen3", "2025-04-29", 70.7, 1.0, True),
    M("unscored", "2024-01-01", True, {}, [("2024-01-01", 0.1, 0.1)]),
]


@pytest.fixture
def runner(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SATISFICE_DB", url)
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    cat = build(MODELS)
    store = open_store(url)
    try:
        apply_batch(store, ImportBatch("test", list(cat.models.values()), list(cat.offers), list(cat.scores),
                                       list(BENCHMARKS.values())))
    finally:
        store.close()
    return CliRunner()


def run_json(runner, *args):
    from satisfice.cli import app

    result = runner.invoke(app, ["market", *args, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)  # exactly one JSON document, nothing else on stdout


def test_frontier_json_and_chart(runner, tmp_path):
    chart = tmp_path / "frontier.png"
    j = run_json(runner, "frontier", "--benchmark", "gpqa-diamond", "--threshold", "70", "--chart", str(chart),
                 "--show-unscored")
    assert j["first_closed"]["model"] == "o1" and j["first_closed"]["release_date"] == "2024-12-05"
    assert j["first_open"]["model"] == "deepseek-r1" and j["first_open"]["release_date"] == "2025-01-20"
    assert j["lag_days"] == 46
    assert j["first_closed"]["blended_price"] == pytest.approx(26.25)
    assert j["first_open"]["blended_price"] == pytest.approx(0.96)
    assert j["price_ratio"] == pytest.approx(26.25 / 0.96)
    assert j["input_share"] == 0.75 and j["blend"] == "3:1 input:output"
    assert [m["model"] for m in j["models"]] == ["o1", "deepseek-r1", "qwen3"]
    assert [m["model"] for m in j["no_score"]] == ["unscored"] and j["unscored_count"] == 1
    assert j["trend"] is None
    counted = run_json(runner, "frontier", "--benchmark", "gpqa-diamond", "--threshold", "70")
    assert counted["no_score"] == [] and counted["unscored_count"] == 1  # names only with --show-unscored
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_frontier_as_of_and_input_share(runner):
    j = run_json(runner, "frontier", "-b", "GPQA Diamond", "-t", "70", "--as-of", "2025-01-01", "--input-share", "0.5")
    assert [m["model"] for m in j["models"]] == ["o1"] and j["first_open"] is None
    assert j["first_closed"]["blended_price"] == pytest.approx(37.5)
    assert j["blend"] == "1:1 input:output" and j["as_of"] == "2025-01-01"


def test_frontier_terminal_output_says_the_blend(runner):
    from satisfice.cli import app

    result = runner.invoke(app, ["market", "frontier", "-b", "gpqa-diamond", "-t", "70"])
    assert result.exit_code == 0, result.output
    assert "First closed: o1 (2024-12-05) at $26.25/M; first open: DeepSeek-R1 (2025-01-20) at $0.96/M; " \
           "lag 46 days; closed/open price ratio 27.3x (3:1 input:output blend)" in " ".join(result.stdout.split())


def test_trends_json(runner, tmp_path):
    j = run_json(runner, "trends", "--benchmark", "all", "--method", "epoch", "--chart", str(tmp_path / "t.svg"))
    assert j["method"] == "epoch" and j["blend"] == "3:1 input:output"
    assert j["benchmarks"] == ["gpqa-diamond", "humaneval"]
    assert j["trends"] == []  # too few points in this small catalog
    assert {"o1", "DeepSeek-R1"} <= set(j["excluded_reasoning_models"])
    assert all(s["n"] < 4 for s in j["skipped"])
    assert (tmp_path / "t.svg").exists()
    assert j["as_of"] is None
    early = run_json(runner, "trends", "--benchmark", "all", "--as-of", "2020-01-01")
    assert early["as_of"] == "2020-01-01" and early["trends"] == [] and early["skipped"] == []


def test_gap_json(runner):
    j = run_json(runner, "gap", "--benchmark", "gpqa-diamond", "--under", "5")
    assert j["steps"][-1]["best_closed"]["model"] == "o1"
    assert j["steps"][-1]["best_open"]["model"] == "deepseek-r1"
    assert j["latest_gap"] == pytest.approx(4.1)
    assert j["first_under"] == "2024-07-23"  # Llama 44.2 vs GPT-4o 48.9


def test_cost_json(runner):
    j = run_json(runner, "cost", "--tokens-per-day", "100M", "o1", "DeepSeek-R1", "gpt-4o")
    bills = {m["model"]: m for m in j["models"]}
    assert bills["o1"]["annual_usd"] == pytest.approx(26.25 * 100 * 365)
    assert bills["gpt-4o"]["blended_price"] == pytest.approx(4.375)  # the later, lower price is in force now
    assert bills["o1"]["ratio_to_first"] == 1.0
    assert bills["deepseek-r1"]["ratio_to_first"] == pytest.approx(0.96 / 26.25)
    assert j["tokens_per_day"] == 1e8 and j["blend"] == "3:1 input:output"


def test_cost_as_of_uses_the_price_then(runner):
    j = run_json(runner, "cost", "--tokens-per-day", "1M", "--as-of", "2024-06-01", "gpt-4o")
    assert j["models"][0]["blended_price"] == pytest.approx(7.5)


def test_pareto_json(runner, tmp_path):
    j = run_json(runner, "pareto", "--benchmark", "gpqa-diamond", "--as-of", "2025-06-01",
                 "--chart", str(tmp_path / "p.png"))
    assert [m["model"] for m in j["frontier"]] == ["llama-70b", "deepseek-r1", "o1"]
    assert j["input_share"] == 0.75


def test_unknown_benchmark_is_one_clear_error(runner, monkeypatch, capsys):
    from satisfice.cli import app, main

    result = runner.invoke(app, ["market", "frontier", "-b", "nope", "-t", "1"])
    assert isinstance(result.exception, NotFoundError)
    assert "gpqa-diamond" in str(result.exception) and "humaneval" in str(result.exception)
    monkeypatch.setattr("sys.argv", ["satisfice", "market", "gap", "-b", "nope"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "unknown benchmark 'nope'" in err and "Traceback" not in err


def test_invalid_input_share_and_method_and_tokens(runner):
    from satisfice.cli import app

    bad = runner.invoke(app, ["market", "frontier", "-b", "gpqa-diamond", "-t", "70", "--input-share", "1.5"])
    assert bad.exit_code == 2 and "must be between 0 and 1" in bad.output
    method = runner.invoke(app, ["market", "trends", "--method", "other"])
    assert isinstance(method.exception, ConfigError)
    tokens = runner.invoke(app, ["market", "cost", "--tokens-per-day", "lots", "o1"])
    assert tokens.exit_code == 2 and "not a token count" in tokens.output
    unknown = runner.invoke(app, ["market", "cost", "--tokens-per-day", "1M", "o9"])
    assert isinstance(unknown.exception, NotFoundError)
