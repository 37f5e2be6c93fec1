"""Agent frameworks and LiteLLM as clients of a real gateway process and a local upstream (see ``client_gateway``).

The OpenAI Agents SDK on its default (Responses) model, LangChain on the Responses API and embeddings, and
LiteLLM's completion (sync and async, whole and streamed), embedding and responses calls: each call must be
answered and leave exactly one billed spend row. LiteLLM must not reach the network: its cost map is the bundled
one (``LITELLM_LOCAL_MODEL_COST_MAP``) and any connection or name lookup beyond this machine fails the test.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from satisfice.clients.api_server import EMBEDDING_TOKENS, RESPONSES_USAGE, TEXT

from .client_gateway import FUNCTION, SDK_MISSING, Rows, billed, gw

__all__ = ["gw"]  # the module-scoped gateway fixture, used by the tests below


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", ["chat-model", "native-model"])
def test_openai_agents_sdk_default_responses_model(gw: dict[str, Any], model: str, stream: bool) -> None:
    """The Agents SDK on its default (Responses) model, with a function tool: two calls, two billed rows."""
    agents = pytest.importorskip("agents", reason=SDK_MISSING.format("openai-agents"))
    seen: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Weather of a city."""
        seen.append(city)
        return "sunny"

    rows = Rows(gw)
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
    """LangChain ``ChatOpenAI(use_responses_api=True)`` with tools, and ``OpenAIEmbeddings``."""
    lc = pytest.importorskip("langchain_openai", reason=SDK_MISSING.format("langchain-openai"))
    rows = Rows(gw)
    common = {"base_url": gw["url"] + "/v1", "api_key": gw["key"], "max_retries": 0}
    chat = lc.ChatOpenAI(model="chat-model", use_responses_api=True, **common)
    assert chat.invoke("weather?").text == TEXT
    called = chat.bind_tools([FUNCTION]).invoke("weather in Paris?")
    assert called.tool_calls[0]["name"] == "get_weather" and called.tool_calls[0]["args"] == {"city": "Paris"}
    vectors = lc.OpenAIEmbeddings(model="native-model", check_embedding_ctx_length=False,
                                  **common).embed_documents(["a", "b"])
    assert [len(v) for v in vectors] == [3, 3]
    assert [r.endpoint for r in rows.new(3)] == ["responses", "responses", "embeddings"]


def _local(host: Any) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse (and record) any name lookup or connection beyond this machine while the test runs."""
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("LITELLM_TELEMETRY", "False")
    tried: list[str] = []
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def guarded_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _local(host):
            tried.append(f"lookup {host}")
            raise OSError(f"test is offline: no lookup of {host}")
        return lookup(host, *args, **kwargs)

    def guarded_connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            tried.append(f"connect {address[0]}")
            raise OSError(f"test is offline: no connection to {address[0]}")
        return connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield tried


@pytest.mark.filterwarnings("ignore::UserWarning:pydantic.*")  # litellm's own models, at import
def test_litellm_completion_embedding_and_responses(gw: dict[str, Any], offline: list[str]) -> None:
    """``litellm.completion``/``acompletion`` whole and streamed, ``embedding`` and ``responses``: billed rows."""
    litellm = pytest.importorskip("litellm", reason=SDK_MISSING.format("litellm"))
    rows = Rows(gw)
    common: dict[str, Any] = {"api_base": gw["url"] + "/v1", "api_key": gw["key"], "num_retries": 0}
    messages = [{"role": "user", "content": "weather?"}]
    whole = litellm.completion(model="openai/chat-model", messages=messages, **common)
    assert whole.choices[0].message.content == TEXT and whole.usage.prompt_tokens == 11
    pieces = [chunk.choices[0].delta.content or "" for chunk in litellm.completion(
        model="openai/chat-model", messages=messages, stream=True, **common) if chunk.choices]
    assert "".join(pieces) == TEXT

    async def both() -> tuple[Any, str]:
        answer = await litellm.acompletion(model="openai/chat-model", messages=messages, **common)
        stream = await litellm.acompletion(model="openai/chat-model", messages=messages, stream=True, **common)
        text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
        return answer, text

    answer, text = asyncio.run(both())
    assert answer.choices[0].message.content == TEXT and text == TEXT
    vectors = litellm.embedding(model="openai/native-model", input=["a", "b"], **common)
    assert [len(d["embedding"]) for d in vectors.data] == [3, 3]
    response = litellm.responses(model="openai/native-model", input="weather?", **common)
    assert response.output[0].content[0].text == TEXT
    translated = litellm.responses(model="openai/chat-model", input="weather?", **common)
    assert translated.output[0].content[0].text == TEXT
    new = rows.new(7)
    assert [r.endpoint for r in new] == ["chat"] * 4 + ["embeddings", "responses", "responses"]
    for row in new[:4]:
        billed(row, "chat", "chat", (11, 7))
    billed(new[4], "embeddings", "embeddings", (EMBEDDING_TOKENS, 0))
    billed(new[5], "responses", "responses", (RESPONSES_USAGE["input_tokens"], RESPONSES_USAGE["output_tokens"]))
    billed(new[6], "responses", "chat", (11, 7))
    assert offline == []
