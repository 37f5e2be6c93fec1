"""``POST /v1/messages/count_tokens``: pass-through to an upstream that serves Messages, else a local o200k count.

Checks the count against tiktoken's own o200k_base encoder where one can be loaded offline (the BPE files that
the litellm wheel ships, per the project's offline notes), the key check and error shapes, the fallback when the
upstream has no count endpoint, the slicing of pathological runs, and that counting writes no spend row.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from satisfice.clients.api_server import COUNTED_TOKENS, ApiServer
from satisfice.clients.scripted_server import ScriptedServer
from satisfice.gateway.apis import token_count as tc
from satisfice.gateway.apis.count_tokens import HEADER
from satisfice.gateway.money.keys import create_key
from satisfice.gateway.wire.replies import GatewayError
from satisfice.store import Store

from .conftest import FAKE_PROVIDER_KEY, PRICE, make_gateway, running, spend_rows

TEXT = ("The gateway counts tokens offline: naïve café — 1234567 items, ünïcödé, 漢字, emoji 🎉, code `x = f(y)`;\n"
        "  indented\tlines, URLs https://example.org/a?b=c and MixedCASEWords.")


def _tiktoken_o200k(tmp: Path) -> Any:
    """tiktoken's o200k_base, loaded from the BPE files the litellm wheel ships (skip when neither is here)."""
    tiktoken = pytest.importorskip("tiktoken", reason="client SDK litellm is not installed (it brings tiktoken)")
    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations
    bundled = Path(spec.submodule_search_locations[0]) / "litellm_core_utils" / "tokenizers"
    cache = tmp / "tiktoken"
    shutil.copytree(bundled, cache)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    try:
        return tiktoken.get_encoding("o200k_base")
    finally:
        del os.environ["TIKTOKEN_CACHE_DIR"]


def test_local_count_matches_tiktoken_and_slices_only_pathological_runs(tmp_path: Path) -> None:
    encoding = _tiktoken_o200k(tmp_path)
    for text in (TEXT, TEXT * 30, "x" * tc.MAX_RUN, "!" * tc.MAX_RUN + " ok"):
        assert tc.count_text(text) == len(encoding.encode(text)), text[:40]
    started = time.process_time()
    assert tc.count_text("a" * 200_000) == len(encoding.encode("a" * tc.MAX_RUN)) * (200_000 // tc.MAX_RUN)
    assert tc.count_text(" " * 100_000 + "!" * 100_000) > 0
    assert time.process_time() - started < 10  # unsliced, "a" * 200_000 alone takes minutes of CPU


def test_count_of_a_request_covers_system_messages_tools_and_images() -> None:
    tool = {"name": "f", "input_schema": {"type": "object"}}
    body = {"model": "m", "system": [{"type": "text", "text": "be brief"}], "tools": [tool],
            "messages": [{"role": "user", "content": [{"type": "text", "text": TEXT},
                                                      {"type": "image", "source": {"type": "base64", "data": "AA"}}]},
                         {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f",
                                                            "input": {"a": 1}}]},
                         {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "42"}]}]}
    texts = ["be brief", TEXT, "f", '{"a":1}', "42", '{"name":"f","input_schema":{"type":"object"}}']
    assert tc.count_messages(body) == 3 * tc.PER_MESSAGE + tc.IMAGE_TOKENS + sum(map(tc.count_text, texts))
    for bad, field in (({"messages": []}, "messages"), ({"messages": [{"role": "x"}]}, "messages[0]"),
                       ({"messages": [{"role": "user", "content": [3]}]}, "messages[0].content[0]"),
                       ({"messages": [{"role": "user", "content": "x"}], "tools": {}}, "tools")):
        with pytest.raises(GatewayError) as caught:
            tc.count_messages({"model": "m", **bad})
        assert caught.value.status == 400 and caught.value.param == field


def _config(chat_url: str, native_url: str) -> dict[str, Any]:
    common = {"api_key_env": "GW_TEST_PROVIDER_KEY", "timeout_s": 2.0}
    return {"auth": True, "spend_log": {"flush_interval_s": 0.05}, "upstreams": [
        {"name": "chatonly", "base_url": chat_url, **common, "models": ["chat-model"], "prices": {"chat-model": PRICE}},
        {"name": "native", "base_url": native_url, **common, "models": {"native-model": "wire-name"},
         "prices": {"native-model": PRICE}, "apis": ["chat", "messages"]},
        {"name": "nocount", "base_url": chat_url, **common, "models": ["plain-model"],
         "prices": {"plain-model": PRICE}, "apis": ["chat", "messages"]}]}


async def test_count_tokens_pass_through_local_and_fallback(store: Store, upstream: ScriptedServer) -> None:
    key = create_key(store, name="count", budget_usd=1).key
    async with ApiServer() as native:
        gw = make_gateway(store, _config(upstream.base_url, native.base_url))
        async with running(gw) as client:
            headers = {"x-api-key": key, "anthropic-version": "2023-06-01", "anthropic-beta": "b1"}
            body = {"messages": [{"role": "user", "content": TEXT}], "system": "be brief"}
            resp = await client.post("/v1/messages/count_tokens", json={"model": "native-model", **body},
                                     headers=headers)
            assert (resp.status_code, resp.json(), resp.headers[HEADER]) == (200, {"input_tokens": COUNTED_TOKENS},
                                                                              "upstream native")
            sent = native.received[-1]
            assert sent.path == "/v1/messages/count_tokens" and sent.body["model"] == "wire-name"
            assert sent.headers["x-api-key"] == FAKE_PROVIDER_KEY and sent.headers["anthropic-beta"] == "b1"
            expected = tc.count_messages({"model": "m", **body})
            for model in ("chat-model", "plain-model"):  # no Messages upstream; one whose count endpoint is a 404
                resp = await client.post("/v1/messages/count_tokens", json={"model": model, **body},
                                         headers={"authorization": f"Bearer {key}"})
                assert (resp.status_code, resp.json(), resp.headers[HEADER]) == (
                    200, {"input_tokens": expected}, "local o200k_base")
            refused = await client.post("/v1/messages/count_tokens", json={"model": "chat-model", **body},
                                        headers={"x-api-key": "sk-sat-nope"})
            assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"
            missing = await client.post("/v1/messages/count_tokens", json={"model": "nope", **body}, headers=headers)
            assert missing.status_code == 404 and missing.json()["type"] == "error"
            await asyncio.sleep(0.3)
    assert spend_rows(store) == []  # counting spends nothing
