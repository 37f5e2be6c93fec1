"""Local models in the gateway: routed from an eval decision once an upstream serves them, priced by calibration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from satisfice.core import ModelRef
from satisfice.errors import ConfigError
from satisfice.evals.decisions import save_decision
from satisfice.gateway.http.app import Gateway
from satisfice.gateway.routes.config import parse_config
from satisfice.selfhost.bench import BenchConfig, BenchResult
from satisfice.selfhost.calibration import save_calibration
from satisfice.selfhost.driver import LoadPlan
from satisfice.selfhost.economics import Level, RequestSample, level_prices, level_stats
from satisfice.store import Store


def steady_result(model: str) -> BenchResult:
    """A level of four 1-second requests (100 prompt tokens, 50 generated), priced at $0.50/hour."""
    samples = [RequestSample(float(i), i + 1.0, first_token=i + 0.1, input_tokens=100, output_tokens=50,
                             gaps=(0.9 / 49,) * 49) for i in range(4)]
    config = BenchConfig(model=model, levels=[1], plan=LoadPlan(requests=4), usd_per_hour=0.5, machine="test")
    stats = level_stats(1, samples)
    level = Level(stats, level_prices(stats, 0.5, 0.1))
    return BenchResult(config, [level], 0.1, "given", level, "only level", dt.datetime.now(dt.UTC))

REPO = Path(__file__).resolve().parents[2]
SMOL, GEMMA = "local/smollm2-135m", "local/gemma3-270m"


def _decide(store: Store, passing: list[str]) -> None:
    save_decision(store, task="sentiment", passing=passing, reference=None,
                  candidates={m: ModelRef(m) for m in passing}, recommended=passing[0], run_id=None)


def _calibrate(store: Store, *models: str) -> None:
    for m in models:
        save_calibration(store, steady_result(m), name="this-machine", model_id=m, today=dt.date.today())


def _gateway(store: Store, cfg: dict[str, object]) -> Gateway:
    return Gateway(parse_config(yaml.safe_dump(cfg)), store)


def _local_yaml() -> dict[str, object]:
    loaded = yaml.safe_load((REPO / "examples/gateway/local.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_example_routes_the_decision_to_the_served_local_models(store: Store) -> None:
    _decide(store, [SMOL, GEMMA])
    _calibrate(store, SMOL, GEMMA)
    gw = _gateway(store, _local_yaml())
    plan = gw.router.plan("task/sentiment")
    assert plan is not None
    assert [t.model for t in plan.targets] == [SMOL, GEMMA]
    assert [t.upstreams[0].name for t in plan.targets] == ["smollm2", "gemma3"]
    price = plan.targets[0].prices[0]
    assert price.cached_input_per_m == 0.0  # the shared few-shot prefix is billed as cached input


def test_a_local_decision_without_an_upstream_says_how_to_serve_it(store: Store) -> None:
    _decide(store, [SMOL])
    _calibrate(store, SMOL)
    cfg = {"auth": False, "upstreams": [{"name": "x", "base_url": "http://127.0.0.1:9/v1", "models": ["other"],
                                         "prices": {"other": {"input_per_m": 1, "output_per_m": 1}}}],
           "routes": {"task/sentiment": {"from_eval": "sentiment"}}}
    with pytest.raises(ConfigError, match=r"satisfice serve local/smollm2-135m --port PORT"):
        _gateway(store, cfg)


def test_an_uncalibrated_local_model_names_the_calibration_not_the_pipeline(store: Store) -> None:
    _decide(store, [SMOL])
    cfg = _local_yaml()
    cfg["upstreams"] = [u for u in cfg["upstreams"] if SMOL in u["models"]]  # type: ignore[attr-defined,index]
    with pytest.raises(ConfigError, match=r"satisfice selfhost bench local/smollm2-135m --save") as err:
        _gateway(store, cfg)
    assert "pipeline run" not in str(err.value)
