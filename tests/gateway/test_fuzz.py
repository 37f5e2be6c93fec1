"""Fuzzing /v1/chat/completions and /v1/completions: whatever the body and headers, the answer is a 2xx, or a 4xx
in OpenAI's error shape; never a 5xx, never a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satisfice.clients.scripted_server import ScriptedServer
from satisfice.gateway.money.keys import create_key
from satisfice.store import Store

from .conftest import base_config, make_gateway

scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)
roles = st.sampled_from(["user", "system", "assistant", "tool"]) | st.text(max_size=8)
contents = (st.text(max_size=60) | st.none() | st.lists(st.fixed_dictionaries(
    {"type": st.just("text"), "text": st.text(max_size=20)}), max_size=3) | json_values)
messages = st.lists(st.fixed_dictionaries({"role": roles, "content": contents}, optional={"name": json_values}),
                    max_size=4) | json_values
models = st.sampled_from(["small", "big", "task/none", ""]) | st.text(max_size=300) | json_values
numbers = st.none() | st.integers(-5, 2**40) | st.floats(allow_nan=False) | st.booleans() | st.text(max_size=5)
chat_bodies = st.fixed_dictionaries(
    {"model": models, "messages": messages},
    optional={"max_tokens": numbers, "n": numbers, "temperature": numbers, "stream": st.booleans() | json_values,
              "stream_options": json_values, "stop": json_values, "extra": json_values})
valid_chat = st.fixed_dictionaries(
    {"model": st.sampled_from(["small", "big"]), "messages": st.lists(st.fixed_dictionaries(
        {"role": st.just("user"), "content": st.text(max_size=60)}), min_size=1, max_size=3)},
    optional={"max_tokens": st.integers(1, 50), "temperature": st.floats(0, 2), "stream": st.booleans(),
              "user": json_values, "metadata": json_values, "stop": json_values})
completion_bodies = st.fixed_dictionaries(
    {"model": models, "prompt": st.text(max_size=60) | json_values},
    optional={"max_tokens": numbers, "n": numbers, "stream": st.booleans() | json_values, "echo": json_values})
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


def is_openai_error(resp: httpx.Response) -> bool:
    try:
        error = orjson.loads(resp.content)["error"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return False
    return (isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"] != ""
            and set(error) == {"message", "type", "param", "code"} and len(error["message"]) < 2000)


@pytest.mark.filterwarnings("ignore")
def test_fuzzed_bodies_and_headers_get_2xx_or_an_openai_shaped_4xx(store: Store,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    key = create_key(store, name="fuzz").key
    loop = asyncio.new_event_loop()
    upstream = ScriptedServer(default="ok")
    loop.run_until_complete(upstream.start())
    gw = make_gateway(store, base_config(upstream.base_url, auth=True, circuit={"failures": 10_000}))
    loop.run_until_complete(gw.start())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gw.app), base_url="http://gw", timeout=30)
    statuses: list[int] = []

    async def post(path: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
        return await client.post(path, content=content, headers=headers)

    def check(path: str, body: Any, raw: bytes | None, auth: str | None, extra: dict[str, str]) -> None:
        headers = {f"x-{k}": v for k, v in extra.items()}
        if auth is not None:
            headers["authorization"] = auth
        headers.setdefault("content-type", "application/json")
        content = raw if raw is not None else json.dumps(body).encode()
        resp = loop.run_until_complete(post(path, content, headers))
        statuses.append(resp.status_code)
        assert 200 <= resp.status_code < 300 or 400 <= resp.status_code < 500, (resp.status_code, resp.text)
        if resp.status_code >= 400:
            assert is_openai_error(resp), resp.text

    good = st.just(f"Bearer {key}")
    auths = good | good | good | st.none() | header_text
    extras = st.dictionaries(st.text("abcdefghij-", min_size=1, max_size=8), header_text, max_size=3)
    raws = st.none() | st.none() | st.none() | st.binary(max_size=200)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=valid_chat | chat_bodies, raw=raws, auth=auths, extra=extras)
    def fuzz_chat(body: Any, raw: bytes | None, auth: str | None, extra: dict[str, str]) -> None:
        check("/v1/chat/completions", body, raw, auth, extra)

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=completion_bodies, raw=raws, auth=auths, extra=extras)
    def fuzz_completions(body: Any, raw: bytes | None, auth: str | None, extra: dict[str, str]) -> None:
        check("/v1/completions", body, raw, auth, extra)

    try:
        with caplog.at_level(logging.ERROR, logger="satisfice"):
            fuzz_chat()
            fuzz_completions()
        assert "Traceback" not in caplog.text and "internal error" not in caplog.text
        assert any(s == 200 for s in statuses) and any(s == 400 for s in statuses) and 401 in statuses
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(gw.stop())
        loop.run_until_complete(upstream.stop())
        loop.close()


feedback_bodies = st.fixed_dictionaries(
    {}, optional={"request_id": st.text(max_size=90) | json_values, "score": numbers | json_values,
                  "comment": st.text(max_size=50) | json_values, "extra": json_values}) | json_values


@pytest.mark.filterwarnings("ignore")
def test_fuzzed_feedback_gets_2xx_or_an_openai_shaped_4xx(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    key = create_key(store, name="fuzz").key
    loop = asyncio.new_event_loop()
    upstream = ScriptedServer(default="ok")
    loop.run_until_complete(upstream.start())
    routes = {"t": {"chain": ["small"], "feedback": {"labels": {"good": 1, "bad": 0}}}}
    gw = make_gateway(store, base_config(upstream.base_url, auth=True, routes=routes))
    loop.run_until_complete(gw.start())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gw.app), base_url="http://gw", timeout=30)
    good = {"Authorization": f"Bearer {key}"}
    served = loop.run_until_complete(client.post("/v1/chat/completions", headers=good, json={
        "model": "task/t", "messages": [{"role": "user", "content": "hi"}]})).headers["x-satisfice-request-id"]
    statuses: list[int] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=feedback_bodies, mine=st.booleans(), raw=st.none() | st.none() | st.binary(max_size=100),
           auth=st.just(good) | st.just(good) | st.just({}) | st.fixed_dictionaries({"Authorization": header_text}))
    def fuzz_feedback(body: Any, mine: bool, raw: bytes | None, auth: dict[str, str]) -> None:
        if mine and isinstance(body, dict):
            body = {**body, "request_id": served}
        content = raw if raw is not None else json.dumps(body).encode()
        resp = loop.run_until_complete(client.post("/v1/feedback", content=content, headers=auth))
        statuses.append(resp.status_code)
        assert resp.status_code == 200 or 400 <= resp.status_code < 500, (resp.status_code, resp.text)
        if resp.status_code >= 400:
            assert is_openai_error(resp), resp.text
        else:
            assert resp.json() == {"request_id": served, "recorded": True}

    try:
        with caplog.at_level(logging.ERROR, logger="satisfice"):
            fuzz_feedback()
        assert "Traceback" not in caplog.text and "internal error" not in caplog.text
        assert {400, 401} <= set(statuses)
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(gw.stop())
        loop.run_until_complete(upstream.stop())
        loop.close()
