"""The real openai and anthropic SDKs against a real gateway process and a local upstream speaking every API.

Model ``chat-model`` is served by an upstream that speaks only chat completions (Messages and Responses reach
it translated); ``native-model`` by one that declares every API (pass-through). Every successful call must leave
exactly one spend row with the upstream's token counts; the budget 429 must stop the SDKs' retries.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
import yaml

from satisfice.clients.api_server import EMBEDDING_TOKENS, MESSAGES_USAGE, RESPONSES_USAGE, TEXT, ApiServerThread
from satisfice.gateway.money.keys import create_key
from satisfice.store import open_store

from .conftest import FAKE_PROVIDER_KEY, PRICE, spend_rows
from .test_server import free_port, wait_ready

TOOL = {"name": "get_weather", "description": "Weather of a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
FUNCTION = {"type": "function", "name": "get_weather", "description": "Weather of a city",
            "parameters": TOOL["input_schema"]}


def _config(url: str) -> dict[str, Any]:
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
        config = tmp / "gateway.yaml"
        config.write_text(yaml.safe_dump(_config(upstream.base_url)))
        db = f"sqlite:///{tmp / 'gw.db'}"
        store = open_store(db)
        key = create_key(store, budget_usd=10).key
        tiny = create_key(store, budget_usd=0.0001, period="day").key
        port = free_port()
        env = {**os.environ, "SATISFICE_NO_BUNDLED": "1", "GW_TEST_PROVIDER_KEY": FAKE_PROVIDER_KEY}
        proc = subprocess.Popen([sys.executable, "-m", "satisfice", "--db", db, "gateway", "serve", "--config",
                                 str(config), "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, proc)
            yield {"url": url, "key": key, "tiny": tiny, "store": store, "upstream": upstream}
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            store.close()


def _oa(gw: dict[str, Any], key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw["url"] + "/v1", api_key=key or gw["key"], timeout=10)


def _an(gw: dict[str, Any], key: str | None = None) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw["url"], api_key=key or gw["key"], timeout=10)


class _Rows:
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


def _billed(row: Any, endpoint: str, upstream_api: str, tokens: tuple[int, int]) -> None:
    assert (row.endpoint, row.upstream_api, row.status) == (endpoint, upstream_api, 200)
    assert (row.input_tokens, row.output_tokens) == tokens
    assert not row.tokens_estimated and row.cost_usd > 0


@pytest.mark.parametrize("stream", [False, True])
def test_messages_translated_to_a_chat_upstream(gw: dict[str, Any], stream: bool) -> None:
    rows = _Rows(gw)
    client = _an(gw)
    kwargs: dict[str, Any] = {"model": "chat-model", "max_tokens": 50, "system": "be brief",
                              "messages": [{"role": "user", "content": "weather?"}]}
    if stream:
        with client.messages.stream(**kwargs) as events:
            pieces = [text for text in events.text_stream]
            message = events.get_final_message()
        assert "".join(pieces) == TEXT
    else:
        message = client.messages.create(**kwargs)
    assert message.content[0].type == "text" and message.content[0].text == TEXT
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.output_tokens) == (8, 3, 7)
    _billed(rows.new()[0], "messages", "chat", (11, 7))
    sent = gw["upstream"].requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", ["chat-model", "native-model"])
def test_messages_tools_whole_and_streamed(gw: dict[str, Any], stream: bool, model: str) -> None:
    rows = _Rows(gw)
    client = _an(gw).with_options(default_headers={"anthropic-beta": "tools-2099"})
    kwargs: dict[str, Any] = {"model": model, "max_tokens": 50, "tools": [TOOL],
                              "messages": [{"role": "user", "content": "weather in Paris?"}]}
    if stream:
        with client.messages.stream(**kwargs) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**kwargs)
    call = next(block for block in message.content if block.type == "tool_use")
    assert (call.name, call.input, message.stop_reason) == ("get_weather", {"city": "Paris"}, "tool_use")
    follow = {**kwargs, "messages": [*kwargs["messages"], {"role": "assistant", "content": message.content},
                                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                                                   "content": "sunny"}]}]}
    answer = client.messages.create(**follow)
    assert answer.content[0].text == TEXT
    native = model == "native-model"
    tokens = (MESSAGES_USAGE["input_tokens"] + MESSAGES_USAGE["cache_read_input_tokens"],
              MESSAGES_USAGE["output_tokens"]) if native else (11, 7)
    for row in rows.new(2):
        _billed(row, "messages", "messages" if native else "chat", tokens)
    sent = gw["upstream"].server.received[-1]
    if native:
        assert sent.path == "/v1/messages" and sent.headers["x-api-key"] == FAKE_PROVIDER_KEY
        assert sent.headers["anthropic-version"] and sent.headers["anthropic-beta"] == "tools-2099"
    else:
        assert [m["role"] for m in sent.body["messages"]] == ["user", "assistant", "tool"]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", ["chat-model", "native-model"])
def test_responses_whole_streamed_and_tools(gw: dict[str, Any], stream: bool, model: str) -> None:
    rows = _Rows(gw)
    client = _oa(gw)
    for tools in ([], [FUNCTION]):
        kwargs: dict[str, Any] = {"model": model, "input": "weather in Paris?", "instructions": "be brief",
                                  **({"tools": tools} if tools else {})}
        if stream:
            events = list(client.responses.create(stream=True, **kwargs))
            assert events[-1].type == "response.completed"
            response = events[-1].response
        else:
            response = client.responses.create(**kwargs)
        if tools:
            call = response.output[-1]
            assert (call.type, call.name, call.arguments) == ("function_call", "get_weather", '{"city": "Paris"}')
        else:
            assert response.output_text == TEXT
    native = model == "native-model"
    tokens = (RESPONSES_USAGE["input_tokens"], RESPONSES_USAGE["output_tokens"]) if native else (11, 7)
    for row in rows.new(2):
        _billed(row, "responses", "responses" if native else "chat", tokens)


def test_responses_function_output_round_trip(gw: dict[str, Any]) -> None:
    rows = _Rows(gw)
    client = _oa(gw)
    first = client.responses.create(model="chat-model", input="weather?", tools=[FUNCTION])  # type: ignore[list-item]
    call = first.output[-1]
    items = [{"role": "user", "content": "weather?"}, call.model_dump(exclude_none=True),
             {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]  # type: ignore[union-attr]
    second = client.responses.create(model="chat-model", input=items, tools=[FUNCTION])  # type: ignore[arg-type,list-item]
    assert second.output_text == TEXT
    sent = gw["upstream"].server.received[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"] and sent[2]["content"] == "sunny"
    assert len(rows.new(2)) == 2


def test_embeddings_billed_on_input_tokens(gw: dict[str, Any]) -> None:
    rows = _Rows(gw)
    client = _oa(gw)
    answer = client.embeddings.create(model="native-model", input=["a", "b"])
    assert [len(d.embedding) for d in answer.data] == [3, 3]
    _billed(rows.new()[0], "embeddings", "embeddings", (EMBEDDING_TOKENS, 0))
    with pytest.raises(openai.BadRequestError, match="embeddings"):
        client.embeddings.create(model="chat-model", input="a")


def test_models_retrieve_in_both_shapes(gw: dict[str, Any]) -> None:
    assert _oa(gw).models.retrieve("task/verified").id == "task/verified"
    assert _an(gw).models.retrieve("chat-model").id == "chat-model"
    with pytest.raises(openai.NotFoundError):
        _oa(gw).models.retrieve("nope")


def _rejections(gw: dict[str, Any]) -> float:
    text = httpx.get(gw["url"] + "/metrics").text
    return sum(float(m) for m in re.findall(r'satisfice_gateway_rejections_total\{reason="budget_exceeded"\} (\S+)',
                                            text))


def test_budget_429_stops_sdk_retries_and_says_what_to_change(gw: dict[str, Any]) -> None:
    before = _rejections(gw)
    with pytest.raises(openai.RateLimitError) as caught:
        _oa(gw, gw["tiny"]).chat.completions.create(model="chat-model", max_tokens=100_000,
                                                    messages=[{"role": "user", "content": "hi"}])
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert int(caught.value.response.headers["retry-after"]) <= 86_400
    assert "set 'max_tokens' to at most" in str(caught.value)
    with pytest.raises(anthropic.RateLimitError) as refused:
        _an(gw, gw["tiny"]).messages.create(model="chat-model", max_tokens=100_000,
                                            messages=[{"role": "user", "content": "hi"}])
    assert refused.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert _rejections(gw) - before == 2  # one call each: the SDKs did not retry


def test_small_budget_admits_with_a_smaller_cap(gw: dict[str, Any]) -> None:
    rows = _Rows(gw)
    answer = _oa(gw, gw["tiny"]).chat.completions.create(model="chat-model",
                                                         messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == TEXT
    cap = gw["upstream"].requests[-1]["max_tokens"]
    assert 16 <= cap < 4096
    assert rows.new()[0].status == 200


def test_errors_in_each_apis_shape(gw: dict[str, Any]) -> None:
    with pytest.raises(anthropic.AuthenticationError):
        _an(gw, "sk-sat-wrong").messages.create(model="chat-model", max_tokens=5,
                                                messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(anthropic.BadRequestError, match="top_k") as caught:
        _an(gw).messages.create(model="chat-model", max_tokens=5, extra_body={"top_k": 3},
                                messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError, match="previous_response_id"):
        _oa(gw).responses.create(model="chat-model", input="hi", previous_response_id="resp_1")
    with pytest.raises(openai.BadRequestError, match="store"):
        _oa(gw).responses.create(model="chat-model", input="hi", store=True)


def test_logprobs_survive_a_verified_stream(gw: dict[str, Any]) -> None:
    rows = _Rows(gw)
    stream = _oa(gw).chat.completions.create(model="task/verified", stream=True, logprobs=True,
                                             messages=[{"role": "user", "content": "hi"}])
    tokens = [t.token for chunk in stream for choice in chunk.choices if choice.logprobs
              for t in choice.logprobs.content or []]
    assert "".join(tokens) == TEXT.replace(" ", "")
    assert rows.new()[0].route == "task/verified"


def test_verified_route_serves_messages_stream(gw: dict[str, Any], tmp_path: Path) -> None:
    rows = _Rows(gw)
    with _an(gw).messages.stream(model="task/verified", max_tokens=20,
                                 messages=[{"role": "user", "content": "hi"}]) as events:
        message = events.get_final_message()
    assert message.content[0].text == TEXT  # type: ignore[union-attr]
    assert rows.new()[0].route == "task/verified"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", ["chat-model", "native-model"])
def test_openai_agents_sdk_default_responses_model(gw: dict[str, Any], model: str, stream: bool) -> None:
    """The Agents SDK on its default (Responses) model, with a function tool: two calls, two billed rows."""
    agents = pytest.importorskip("agents")  # openai-agents: optional, not in the dev extras (heavy install)
    import asyncio

    seen: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Weather of a city."""
        seen.append(city)
        return "sunny"

    rows = _Rows(gw)
    agents.set_tracing_disabled(True)
    client = openai.AsyncOpenAI(base_url=gw["url"] + "/v1", api_key=gw["key"], timeout=10)
    agent = agents.Agent(name="helper", instructions="Be brief.", tools=[get_weather],
                         model=agents.OpenAIResponsesModel(model=model, openai_client=client))

    async def run() -> Any:
        if not stream:
            return await agents.Runner.run(agent, "Weather in Paris?")
        streamed = agents.Runner.run_streamed(agent, "Weather in Paris?")
        async for _ in streamed.stream_events():
            pass
        return streamed

    result = asyncio.run(run())
    assert result.final_output == TEXT and seen == ["Paris"]
    assert [r.status for r in rows.new(2)] == [200, 200]


def test_langchain_responses_api_tools_and_embeddings(gw: dict[str, Any]) -> None:
    """LangChain ``ChatOpenAI(use_responses_api=True)`` with tools, and ``OpenAIEmbeddings`` (optional install)."""
    lc = pytest.importorskip("langchain_openai")
    rows = _Rows(gw)
    common = {"base_url": gw["url"] + "/v1", "api_key": gw["key"], "max_retries": 0}
    chat = lc.ChatOpenAI(model="chat-model", use_responses_api=True, **common)
    assert chat.invoke("weather?").text == TEXT
    called = chat.bind_tools([FUNCTION]).invoke("weather in Paris?")
    assert called.tool_calls[0]["name"] == "get_weather" and called.tool_calls[0]["args"] == {"city": "Paris"}
    vectors = lc.OpenAIEmbeddings(model="native-model", check_embedding_ctx_length=False,
                                  **common).embed_documents(["a", "b"])
    assert [len(v) for v in vectors] == [3, 3]
    assert [r.endpoint for r in rows.new(3)] == ["responses", "responses", "embeddings"]
