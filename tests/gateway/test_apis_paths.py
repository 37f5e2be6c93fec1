"""The other client APIs through the gateway's machinery (in process): fallbacks from pass-through to translated,
verifier escalation on translated answers, smaller caps, streams broken midway, shadow checks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson

from satisfice.clients.api_server import TEXT, ApiServer
from satisfice.clients.scripted_server import ScriptedServer, Step
from satisfice.store import Store

from .conftest import PRICE, errors_of, make_gateway, running, shadow_rows, spend_rows

ALL = ["chat", "completions", "messages", "responses", "embeddings"]
MESSAGE = {"max_tokens": 20, "messages": [{"role": "user", "content": "weather?"}]}


def upstream(name: str, url: str, models: list[str], apis: list[str] | None = None) -> dict[str, Any]:
    return {"name": name, "base_url": url, "api_key_env": "GW_TEST_PROVIDER_KEY", "timeout_s": 2.0,
            "models": models, "prices": {m: PRICE for m in models}, **({"apis": apis} if apis else {})}


async def rows_of(store: Store, count: int) -> list[Any]:
    for _ in range(100):
        rows = spend_rows(store)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError("no spend rows")


async def test_a_failing_pass_through_falls_back_to_a_translated_upstream(store: Store) -> None:
    async with ApiServer() as api:
        cfg = {"auth": False, "spend_log": {"flush_interval_s": 0.05},
               "upstreams": [upstream("dead", "http://127.0.0.1:9/v1", ["m"], ALL), upstream("chat", api.base_url,
                                                                                            ["m"])]}
        async with running(make_gateway(store, cfg)) as client:
            resp = await client.post("/v1/messages", json={"model": "m", **MESSAGE})
        assert resp.status_code == 200 and resp.json()["content"][0]["text"] == TEXT
    (row,) = await rows_of(store, 1)
    assert (row.endpoint, row.upstream_api, row.models_tried) == ("messages", "chat", '["m@dead","m@chat"]')
    assert "dead" in errors_of(row)[0]


async def test_verifiers_check_the_translated_answer_and_escalate(store: Store) -> None:
    async with ScriptedServer(default="no idea") as weak, ApiServer() as strong:
        cfg = {"auth": False, "spend_log": {"flush_interval_s": 0.05},
               "upstreams": [upstream("weak", weak.base_url, ["small"]), upstream("strong", strong.base_url, ["big"])],
               "routes": {"task/weather": {"chain": ["small", "big"], "verifiers": [{"regex": ".*Paris"}]}}}
        async with running(make_gateway(store, cfg)) as client:
            resp = await client.post("/v1/responses", json={"model": "task/weather", "input": "weather?",
                                                            "stream": True})
        assert resp.status_code == 200
        assert b"event: response.completed" in resp.content and TEXT.encode() in resp.content
    (row,) = await rows_of(store, 1)
    assert (row.endpoint, row.model, row.escalations, row.upstream_api) == ("responses", "big", 1, "chat")
    assert row.input_tokens > 11  # both answers were paid for


async def test_small_budget_gives_responses_a_smaller_cap(store: Store, new_key: Callable[..., str]) -> None:
    key = new_key(budget_usd=0.0001, period="total")
    async with ApiServer() as api:
        cfg = {"spend_log": {"flush_interval_s": 0.05}, "upstreams": [upstream("chat", api.base_url, ["m"])]}
        async with running(make_gateway(store, cfg), key) as client:
            resp = await client.post("/v1/responses", json={"model": "m", "input": "hi"})
            refused = await client.post("/v1/responses", json={"model": "m", "input": "hi",
                                                               "max_output_tokens": 100_000})
        assert resp.status_code == 200, resp.text
        assert 16 <= api.requests[-1]["max_tokens"] < 4096
        assert refused.status_code == 429 and "set 'max_output_tokens' to at most" in refused.text
        assert refused.headers["x-should-retry"] == "false" and "retry-after" not in refused.headers  # total


async def test_a_translated_stream_broken_midway_ends_with_the_apis_error_event(store: Store) -> None:
    async with ScriptedServer([Step.reset_after(3)]) as chat:
        cfg = {"auth": False, "spend_log": {"flush_interval_s": 0.05},
               "upstreams": [upstream("chat", chat.base_url, ["m"])]}
        async with running(make_gateway(store, cfg)) as client:
            resp = await client.post("/v1/messages", json={"model": "m", "stream": True, **MESSAGE})
    assert resp.status_code == 200
    last = resp.content.strip().split(b"\n\n")[-1]
    assert last.startswith(b"event: error\ndata: ")
    assert orjson.loads(last.split(b"data: ", 1)[1])["error"]["type"] == "api_error"
    (row,) = await rows_of(store, 1)
    assert row.outcome == "interrupted" and row.upstream_api == "chat"


async def test_shadow_checks_run_on_the_chat_translation(store: Store) -> None:
    async with ApiServer() as api:
        cfg = {"auth": False, "spend_log": {"flush_interval_s": 0.05},
               "upstreams": [upstream("chat", api.base_url, ["small", "big"])],
               "routes": {"task/w": {"chain": ["small"], "shadow": {"share": 1.0, "reference": "big",
                                                                    "compare": "exact"}}}}
        gw = make_gateway(store, cfg)
        async with running(gw) as client:
            resp = await client.post("/v1/messages", json={"model": "task/w", **MESSAGE})
            assert resp.status_code == 200
            await gw.shadow.drain(5.0)
    for _ in range(100):
        if shadow_rows(store):
            break
        await asyncio.sleep(0.05)
    (shadow,) = shadow_rows(store)
    assert shadow.agreement == 1.0


async def test_unknown_messages_paths_answer_in_anthropics_shape(store: Store) -> None:
    async with ApiServer() as api:
        cfg = {"auth": False, "upstreams": [upstream("chat", api.base_url, ["m"])]}
        async with running(make_gateway(store, cfg)) as client:
            resp = await client.post("/v1/messages/batches", json={"model": "m"})
            other = await client.post("/v1/nothing", json={})
    assert resp.status_code == 404 and resp.json()["error"]["type"] == "not_found_error"
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
