"""Fuzzing and hostile bodies on /v1/messages (and its count_tokens), /v1/responses and /v1/embeddings: a 2xx, or a
4xx in the API's own error shape (Anthropic's for Messages, OpenAI's otherwise); never a 5xx or a traceback;
limits name the field."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satisfice.clients.api_server import ApiServer
from satisfice.gateway.http.app import Gateway
from satisfice.gateway.money.keys import create_key
from satisfice.gateway.wire.validate import MAX_DEPTH
from satisfice.store import Store

from .conftest import PRICE, make_gateway, spend_rows
from .test_fuzz import header_text, is_openai_error, json_values, models

ALL_APIS = ["chat", "completions", "messages", "responses", "embeddings"]
block_types = (st.sampled_from(["text", "image", "tool_use", "tool_result", "thinking", "document"])
               | st.text(max_size=6))
blocks = st.fixed_dictionaries({"type": block_types}, optional={
    "text": st.text(max_size=20) | json_values, "source": json_values | st.fixed_dictionaries(
        {"type": st.sampled_from(["base64", "url", "file"]), "data": st.text(max_size=8), "url": st.text(max_size=8)}),
    "id": json_values, "name": json_values, "input": json_values, "tool_use_id": json_values,
    "content": st.text(max_size=10) | json_values, "is_error": json_values})
anthropic_messages = st.lists(st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant"]) | st.text(max_size=5),
     "content": st.text(max_size=30) | st.lists(blocks, max_size=3) | json_values}), max_size=3) | json_values
messages_bodies = st.fixed_dictionaries(
    {"model": st.sampled_from(["chat-model", "native-model"]) | models, "messages": anthropic_messages},
    optional={"max_tokens": st.integers(-2, 100) | json_values, "system": st.text(max_size=20) | json_values,
              "stream": st.booleans() | json_values, "tools": json_values | st.lists(st.fixed_dictionaries(
                  {"name": st.text(max_size=8), "input_schema": json_values}), max_size=2),
              "tool_choice": json_values, "stop_sequences": json_values, "thinking": json_values,
              "top_k": json_values, "metadata": json_values})
items = st.fixed_dictionaries({"type": st.sampled_from(["message", "function_call", "function_call_output",
                                                         "reasoning"]) | st.text(max_size=6)}, optional={
    "role": st.sampled_from(["user", "assistant", "developer", "system"]) | json_values,
    "content": st.text(max_size=20) | st.lists(st.fixed_dictionaries(
        {"type": st.sampled_from(["input_text", "input_image", "input_file"]), "text": st.text(max_size=8),
         "image_url": st.text(max_size=8)}), max_size=2) | json_values,
    "call_id": json_values, "name": json_values, "arguments": json_values, "output": json_values})
responses_bodies = st.fixed_dictionaries(
    {"model": st.sampled_from(["chat-model", "native-model"]) | models,
     "input": st.text(max_size=30) | st.lists(items, max_size=3) | json_values},
    optional={"instructions": json_values, "max_output_tokens": st.integers(-2, 100) | json_values,
              "stream": st.booleans() | json_values, "tools": json_values, "tool_choice": json_values,
              "text": json_values, "store": json_values, "previous_response_id": json_values,
              "reasoning": json_values, "include": json_values})
embedding_bodies = st.fixed_dictionaries(
    {"model": st.sampled_from(["chat-model", "native-model"]) | models,
     "input": st.text(max_size=20) | st.lists(st.text(max_size=5), max_size=3) | json_values},
    optional={"encoding_format": json_values, "stream": json_values})


def _config(url: str) -> dict[str, Any]:
    common = {"base_url": url, "api_key_env": "GW_TEST_PROVIDER_KEY", "timeout_s": 2.0}
    return {"auth": True, "circuit": {"failures": 10_000}, "spend_log": {"flush_interval_s": 0.05},
            "upstreams": [{"name": "chatonly", **common, "models": ["chat-model"], "prices": {"chat-model": PRICE}},
                          {"name": "native", **common, "models": ["native-model"], "apis": ALL_APIS,
                           "prices": {"native-model": PRICE}}]}


def is_anthropic_error(resp: httpx.Response) -> bool:
    try:
        data = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return False
    error = data.get("error") if isinstance(data, dict) else None
    return (data.get("type") == "error" and isinstance(error, dict) and isinstance(error.get("type"), str)
            and isinstance(error.get("message"), str) and 0 < len(error["message"]) < 2000)


@pytest.mark.filterwarnings("ignore")
def test_fuzzed_bodies_get_2xx_or_a_4xx_in_the_apis_shape(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    key = create_key(store, name="fuzz").key
    loop = asyncio.new_event_loop()
    upstream = ApiServer()
    loop.run_until_complete(upstream.start())
    gw = make_gateway(store, _config(upstream.base_url))
    loop.run_until_complete(gw.start())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gw.app), base_url="http://gw", timeout=30)
    statuses: dict[str, list[int]] = {}

    def check(path: str, body: Any, auth: str | None, extra: dict[str, str]) -> None:
        headers = {f"x-{k}": v for k, v in extra.items()}
        if auth is not None:
            headers["x-api-key" if path.startswith("/v1/messages") else "authorization"] = auth
        resp = loop.run_until_complete(client.post(path, content=json.dumps(body).encode(), headers=headers))
        statuses.setdefault(path, []).append(resp.status_code)
        assert 200 <= resp.status_code < 300 or 400 <= resp.status_code < 500, (resp.status_code, resp.text)
        if resp.status_code >= 400:
            assert (is_anthropic_error if path.startswith("/v1/messages") else is_openai_error)(resp), resp.text

    auths = st.just(key) | st.just(key) | st.just(key) | st.none() | header_text
    extras = st.dictionaries(st.text("abcdefghij-", min_size=1, max_size=8), header_text, max_size=2)
    run = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)

    @run
    @given(body=messages_bodies, auth=auths, extra=extras)
    def fuzz_messages(body: Any, auth: str | None, extra: dict[str, str]) -> None:
        check("/v1/messages", body, auth, extra)

    @run
    @given(body=messages_bodies, auth=auths, extra=extras)
    def fuzz_count_tokens(body: Any, auth: str | None, extra: dict[str, str]) -> None:
        check("/v1/messages/count_tokens", body, auth, extra)

    @run
    @given(body=responses_bodies, auth=auths.map(lambda a: a if a is None else f"Bearer {a}"), extra=extras)
    def fuzz_responses(body: Any, auth: str | None, extra: dict[str, str]) -> None:
        check("/v1/responses", body, auth, extra)

    @run
    @given(body=embedding_bodies, auth=auths.map(lambda a: a if a is None else f"Bearer {a}"), extra=extras)
    def fuzz_embeddings(body: Any, auth: str | None, extra: dict[str, str]) -> None:
        check("/v1/embeddings", body, auth, extra)

    try:
        with caplog.at_level(logging.ERROR, logger="satisfice"):
            fuzz_messages()
            fuzz_count_tokens()
            fuzz_responses()
            fuzz_embeddings()
        assert "Traceback" not in caplog.text and "internal error" not in caplog.text
        for path, seen in statuses.items():
            assert 400 in seen and 401 in seen, path
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(gw.stop())
        loop.run_until_complete(upstream.stop())
        loop.close()


@pytest.fixture
async def api_gateway(store: Store) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient, str]]:
    key = create_key(store, name="hostile").key
    async with ApiServer() as upstream:
        gw = make_gateway(store, _config(upstream.base_url))
        async with gw.running():
            transport = httpx.ASGITransport(app=gw.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw", timeout=30) as client:
                yield gw, client, key


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens", "/v1/responses", "/v1/embeddings"])
async def test_hostile_bodies_are_refused_naming_the_field(api_gateway: tuple[Gateway, httpx.AsyncClient, str],
                                                          store: Store, path: str) -> None:
    _, client, key = api_gateway
    headers = {"x-api-key": key}
    deep: Any = "x"
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    body = {"model": "chat-model", "messages": deep, "input": deep, "max_tokens": 5}
    resp = await client.post(path, content=json.dumps(body), headers=headers)
    assert resp.status_code == 400 and "nested more than" in resp.text
    evil = "<script>alert(1)</script>" * 40
    resp = await client.post(path, json={"model": evil, "messages": [{"role": "user", "content": "hi"}],
                                         "input": "hi", "max_tokens": 5}, headers=headers)
    assert resp.status_code == 400 and len(resp.text) < 600 and "model" in resp.text
    resp = await client.post(path, json={"model": "chat-model"}, headers={"x-api-key": "sk-sat-nope"})
    assert resp.status_code == 401 and resp.headers.get("connection") == "close"
    assert spend_rows(store) == []


async def test_untranslatable_fields_are_named(api_gateway: tuple[Gateway, httpx.AsyncClient, str]) -> None:
    _, client, key = api_gateway
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    cases = [("/v1/messages", {"messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}],
                               "max_tokens": 5}, "messages[0].content[0].type"),
             ("/v1/messages", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5,
                               "thinking": {"type": "enabled", "budget_tokens": 1024}}, "thinking"),
             ("/v1/responses", {"input": "hi", "tools": [{"type": "web_search"}]}, "tools[0].type"),
             ("/v1/responses", {"input": [{"type": "reasoning", "summary": []}]}, "input[0].type")]
    for path, body, field in cases:
        resp = await client.post(path, json={"model": "chat-model", **body}, headers=headers)
        assert resp.status_code == 400, resp.text
        assert field in resp.text
