"""The ``learned`` policy: a real gateway serving a trained router over scripted upstreams, cascades, fallbacks."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from satisfice.clients.scripted_server import Received, ScriptedServer
from satisfice.errors import ConfigError
from satisfice.evals.outcomes import load_outcomes
from satisfice.gateway.routes.learned import prompt_text
from satisfice.routing import store as router_store
from satisfice.routing.data import from_tables
from satisfice.routing.policies import Agreement, Predictive
from satisfice.routing.serve import decide
from satisfice.routing.train import Trained, train
from satisfice.store import Store

from .conftest import chat, make_gateway, running, spend_rows

SLICE = Path(__file__).resolve().parents[1] / "data" / "routing" / "arc_challenge_slice.csv"
ROUTE = "task/arc"


@pytest.fixture(scope="module")
def trained() -> Trained:
    return train(from_tables([load_outcomes(SLICE)]), 0.8, 0.95)


@pytest.fixture(scope="module")
def prompts() -> list[str]:
    return from_tables([load_outcomes(SLICE)]).prompts


def config(url: str, models: list[str], route: dict[str, Any]) -> dict[str, Any]:
    prices = {m: {"input_per_m": 1.0 + i, "output_per_m": 2.0 + i} for i, m in enumerate(models)}
    upstream = {"name": "a", "base_url": url, "api_key_env": "GW_TEST_PROVIDER_KEY", "timeout_s": 2.0,
                "models": {m: None for m in models}, "prices": prices}
    return {"auth": False, "upstreams": [upstream], "spend_log": {"flush_interval_s": 0.05},
            "routes": {"arc": route}}


def answers(by_model: dict[str, str]) -> Any:
    def script(received: Received) -> str:
        return by_model[received.body["model"]]

    return script


def branch(gw: Any, name: str) -> float:
    return float(gw.metrics.value("satisfice_gateway_policy_branches_total", {"route": ROUTE, "branch": name}))


async def test_gateway_serves_the_learned_route(store: Store, upstream: ScriptedServer, trained: Trained,
                                                prompts: list[str], tmp_path: Path) -> None:
    trained = dataclasses.replace(trained, policy=Predictive("logreg", 0.8, trained.per_task.model))
    router_store.save(trained, tmp_path / "router", sources=[str(SLICE)])
    upstream.set_script(answers({m: f"answer of {m}" for m in trained.models}))
    # the shorthand of the config: a relative router directory, no chain (the router's per-task model)
    gw = make_gateway(store, config(upstream.base_url, trained.models, {"policy": "learned", "router": "router"}),
                      tmp_path)
    served = []
    async with running(gw) as client:
        for prompt in prompts[:12]:
            body = chat(ROUTE, prompt)
            resp = await client.post("/v1/chat/completions", json=body)
            assert resp.status_code == 200, resp.text
            expected = decide(trained, prompt_text(body))
            assert not expected.agreement
            assert resp.headers["x-satisfice-model"] == expected.models[0]
            assert resp.json()["choices"][0]["message"]["content"] == f"answer of {expected.models[0]}"
            served.append(expected.models[0])
        counted = branch(gw, "routed")
    rows = spend_rows(store)
    assert [r.model for r in rows] == served and all(r.route == ROUTE for r in rows)
    assert counted == 12 and len(set(served)) > 1  # the router sends different prompts to different models


async def test_agreement_cascade_through_the_gateway(store: Store, upstream: ScriptedServer, trained: Trained,
                                                     tmp_path: Path) -> None:
    cheap, other, strong = trained.models[0], trained.models[1], trained.models[-1]
    trained = dataclasses.replace(trained, policy=Agreement((0, 1), len(trained.models) - 1))
    router_store.save(trained, tmp_path / "cascade", sources=[str(SLICE)])
    gw = make_gateway(store, config(upstream.base_url, trained.models,
                                    {"policy": {"learned": {"router": str(tmp_path / "cascade")}}}))
    async with running(gw) as client:
        upstream.set_script(answers({cheap: "A", other: "a)", strong: "C"}))
        agreed = await client.post("/v1/chat/completions", json=chat(ROUTE, "Which? A) x B) y"))
        upstream.set_script(answers({cheap: "A", other: "B", strong: "C"}))
        disagreed = await client.post("/v1/chat/completions", json=chat(ROUTE, "Which? A) x B) y"))
        assert branch(gw, "cascade") == 2
    assert agreed.json()["choices"][0]["message"]["content"] == "a)"
    assert disagreed.json()["choices"][0]["message"]["content"] == "C"
    assert disagreed.headers["x-satisfice-model"] == strong
    first, second = spend_rows(store)
    assert json.loads(first.models_tried) == [f"{cheap}@a", f"{other}@a"] and first.model == other
    assert json.loads(second.models_tried) == [f"{cheap}@a", f"{other}@a", f"{strong}@a"]
    assert second.model == strong and second.cost_usd > first.cost_usd > 0  # every call is paid


async def test_router_error_and_deadline_fall_back_to_the_per_task_model(
        store: Store, upstream: ScriptedServer, trained: Trained, tmp_path: Path) -> None:
    router_store.save(trained, tmp_path / "router", sources=[str(SLICE)])
    per_task = trained.models[trained.per_task.model]
    upstream.set_script(answers({m: m for m in trained.models}))
    gw = make_gateway(store, config(upstream.base_url, trained.models,
                                    {"policy": {"learned": {"router": str(tmp_path / "router"),
                                                            "deadline_ms": 0.000001}}}))
    async with running(gw) as client:
        late = await client.post("/v1/chat/completions", json=chat(ROUTE, "a question"))
        assert late.headers["x-satisfice-model"] == per_task and branch(gw, "fallback_deadline") == 1
        policy = gw.router.policies[ROUTE]

        def broken(*args: Any) -> Any:
            raise RuntimeError("router exploded")

        policy.decide = broken  # type: ignore[attr-defined]
        failed = await client.post("/v1/chat/completions", json=chat(ROUTE, "a question"))
        assert failed.status_code == 200 and failed.headers["x-satisfice-model"] == per_task
        assert branch(gw, "fallback_error") == 1


def test_unserved_model_and_missing_router_are_config_errors(store: Store, trained: Trained, tmp_path: Path) -> None:
    router_store.save(trained, tmp_path / "router", sources=[str(SLICE)])
    with pytest.raises(ConfigError, match="which no upstream serves"):
        make_gateway(store, config("http://127.0.0.1:9", trained.models[:2],
                                   {"chain": [trained.models[0]], "policy": "learned", "router": "router"}),
                     tmp_path)
    with pytest.raises(ConfigError, match="no trained router"):
        make_gateway(store, config("http://127.0.0.1:9", trained.models,
                                   {"policy": "learned", "router": "nowhere"}), tmp_path)


async def test_a_huge_prompt_is_routed_on_its_first_characters(store: Store, upstream: ScriptedServer,
                                                               trained: Trained, tmp_path: Path) -> None:
    trained = dataclasses.replace(trained, policy=Predictive("knn", 0.8, trained.per_task.model))
    router_store.save(trained, tmp_path / "router", sources=[str(SLICE)])
    upstream.set_script(answers({m: m for m in trained.models}))
    gw = make_gateway(store, config(upstream.base_url, trained.models, {"policy": "learned", "router": "router"}),
                      tmp_path)
    huge = "<script>alert(1)</script> which planet is largest? " * 12_000  # ~600 kB, under the body limit
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat(ROUTE, huge))
        assert resp.status_code == 200, resp.text
        assert branch(gw, "routed") == 1
    assert resp.headers["x-satisfice-model"] == decide(trained, huge[:20_000]).models[0]
