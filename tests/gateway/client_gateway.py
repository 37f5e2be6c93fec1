"""A real gateway process for the client-SDK tests, a local upstream speaking every API, and their helpers.

Model ``chat-model`` is served by an upstream that speaks only chat completions (Messages and Responses reach
it translated); ``native-model`` by one that declares every API (pass-through). :func:`gw` is a module-scoped
fixture: each test module that imports it gets its own gateway.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
import yaml

from satisfice.clients.api_server import ApiServerThread
from satisfice.gateway.money.keys import create_key
from satisfice.store import open_store

from .conftest import PRICE, spend_rows
from .test_server import serve, wait_ready

TOOL = {"name": "get_weather", "description": "Weather of a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
FUNCTION = {"type": "function", "name": "get_weather", "description": "Weather of a city",
            "parameters": TOOL["input_schema"]}
SDK_MISSING = "client SDK {} is not installed: pip install -e '.[dev]'"
"""Skip reason of a client-SDK test (tests/required.py makes it a failure in CI)."""


def config(url: str) -> dict[str, Any]:
    common = {"base_url": url, "api_key_env": "GW_TEST_PROVIDER_KEY", "timeout_s": 5.0}
    return {"auth": True, "spend_log": {"flush_interval_s": 0.05},
            "upstreams": [{"name": "chatonly", **common, "models": ["chat-model"], "prices": {"chat-model": PRICE}},
                          {"name": "native", **common, "models": ["native-model"], "prices": {"native-model": PRICE},
                           "apis": ["chat", "completions", "messages", "responses", "embeddings"]}],
            "routes": {"task/verified": {"chain": ["chat-model"], "verifiers": ["non_empty"]}}}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("apis")
    with ApiServerThread() as upstream:
        path = tmp / "gateway.yaml"
        path.write_text(yaml.safe_dump(config(upstream.base_url)))
        db = f"sqlite:///{tmp / 'gw.db'}"
        store = open_store(db)
        key = create_key(store, budget_usd=10).key
        tiny = create_key(store, budget_usd=0.0001, period="day").key
        proc, url = serve(path, db, stdout=subprocess.DEVNULL)
        try:
            wait_ready(url, proc)
            yield {"url": url, "key": key, "tiny": tiny, "store": store, "upstream": upstream}
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            store.close()


def oa(gw: dict[str, Any], key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw["url"] + "/v1", api_key=key or gw["key"], timeout=10)


def an(gw: dict[str, Any], key: str | None = None) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw["url"], api_key=key or gw["key"], timeout=10)


class Rows:
    """The spend rows a block of calls added (waits for the background writer)."""

    def __init__(self, gw: dict[str, Any]) -> None:
        self.store = gw["store"]
        self.before = len(spend_rows(self.store))

    def new(self, count: int = 1) -> list[Any]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            rows = spend_rows(self.store)[self.before:]
            if len(rows) >= count:
                time.sleep(0.1)
                rows = spend_rows(self.store)[self.before:]
                assert len(rows) == count, [(r.endpoint, r.status) for r in rows]
                return rows
            time.sleep(0.05)
        raise AssertionError("spend rows did not arrive")


def billed(row: Any, endpoint: str, upstream_api: str, tokens: tuple[int, int]) -> None:
    assert (row.endpoint, row.upstream_api, row.status) == (endpoint, upstream_api, 200)
    assert (row.input_tokens, row.output_tokens) == tokens
    assert not row.tokens_estimated and row.cost_usd > 0
