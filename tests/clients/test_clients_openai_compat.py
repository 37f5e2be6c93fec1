"""OpenAICompatClient against a real scripted server on 127.0.0.1, faults included."""

from __future__ import annotations

import orjson
import pytest

from satisfice.clients.http import HttpTransport
from satisfice.clients.openai_compat import OpenAICompatClient, parse_completion
from satisfice.clients.scripted_server import Received, ScriptedServer, Step
from satisfice.core import CompletionRequest, Message, ModelRef
from satisfice.errors import (
    BadResponse,
    ConfigError,
    ProviderError,
    RateLimited,
    Timeout,
    UpstreamUnavailable,
)

KEY = "sk-test-SECRET0123456789abcdef"
CHAT = CompletionRequest(messages=[Message("system", "Be brief."), Message("user", "say hi now")], max_tokens=5)


def _client(server: ScriptedServer, *, timeout_s: float = 5.0, key_env: str | None = None,
            transport: HttpTransport | None = None) -> OpenAICompatClient:
    ref = ModelRef("acme/model-1", base_url=server.base_url, api_key_env=key_env, provider_model="model-1-wire")
    return OpenAICompatClient(ref, timeout_s=timeout_s, transport=transport)


async def test_chat_answer_payload_and_usage(server: ScriptedServer) -> None:
    server.set_script([Step.answer("hello there friend", cached_tokens=2)])
    client = _client(server)
    request = CompletionRequest(messages=CHAT.messages, max_tokens=7, temperature=0.5, stop=["\n"],
                                extra={"seed": 3, "stream": True})
    done = await client.complete(request)
    await client.aclose()
    assert done.text == "hello there friend"
    assert (done.usage.input_tokens, done.usage.output_tokens, done.usage.cached_input_tokens) == (5, 3, 2)
    assert done.finish_reason == "stop"
    assert done.model == "model-1-wire"
    assert done.latency_s > 0
    assert done.cost_usd is None
    assert done.raw is not None and done.raw["object"] == "chat.completion"
    [got] = server.received
    assert got.path == "/v1/chat/completions"
    assert got.body == {
        "model": "model-1-wire",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "say hi now"}],
        "max_tokens": 7, "temperature": 0.5, "stop": ["\n"], "seed": 3,
    }  # stream is never sent: complete() does not stream


async def test_text_completion(server: ScriptedServer) -> None:
    server.set_script([Step.answer(" Paris", prompt_tokens=11, completion_tokens=1, finish_reason="length")])
    client = _client(server)
    done = await client.complete(CompletionRequest(prompt="The capital of France is", max_tokens=1))
    await client.aclose()
    assert (done.text, done.usage.input_tokens, done.usage.output_tokens) == (" Paris", 11, 1)
    assert done.finish_reason == "length"
    assert server.received[0].path == "/v1/completions"
    assert server.requests[0]["prompt"] == "The capital of France is"
    assert "messages" not in server.requests[0]


@pytest.mark.parametrize(
    ("step", "kind", "status"),
    [
        (Step.rate_limit(retry_after=2), RateLimited, 429),
        (Step.error(500), UpstreamUnavailable, 500),
        (Step.error(502), UpstreamUnavailable, 502),
        (Step.error(503), UpstreamUnavailable, 503),
        (Step.error(400, "bad request"), ProviderError, 400),
        (Step.delay(3.0), Timeout, None),
        (Step.malformed(), BadResponse, None),
        (Step.truncated(), BadResponse, None),
        (Step.reset(), UpstreamUnavailable, None),
        (Step.reset_after(1), BadResponse, None),
    ],
)
async def test_faults_map_to_errors_and_are_not_retried(
        server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, step: Step, kind: type[ProviderError],
        status: int | None) -> None:
    monkeypatch.setenv("ACME_KEY", KEY)
    server.set_script([step])
    client = _client(server, timeout_s=0.5, key_env="ACME_KEY")
    with pytest.raises(ProviderError) as info:
        await client.complete(CHAT)
    await client.aclose()
    assert type(info.value) is kind
    assert info.value.status == status
    assert info.value.retryable is (kind is not ProviderError)
    assert KEY not in str(info.value)
    assert str(info.value).startswith("acme/model-1: ")
    assert len(server.requests) == 1  # no retries inside the client


async def test_rate_limit_carries_retry_after_date(server: ScriptedServer) -> None:
    server.set_script([Step.rate_limit(retry_after="Wed, 21 Oct 2015 07:28:00 GMT")])  # in the past
    client = _client(server)
    with pytest.raises(RateLimited) as info:
        await client.complete(CHAT)
    await client.aclose()
    assert info.value.retry_after == 0.0


async def test_api_key_sent_as_header_never_in_errors(server: ScriptedServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_KEY", KEY)

    def echo_auth(received: Received) -> Step:
        return Step.error(401, f"Incorrect API key provided: {received.headers.get('Authorization')}")

    server.set_script(echo_auth)
    client = _client(server, key_env="ACME_KEY")
    with pytest.raises(ProviderError) as info:
        await client.complete(CHAT)
    await client.aclose()
    assert server.received[0].headers["Authorization"] == f"Bearer {KEY}"
    assert info.value.status == 401 and not info.value.retryable
    assert KEY not in str(info.value)
    assert "Incorrect API key provided" in str(info.value)


async def test_key_read_at_call_time(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(server, key_env="ACME_KEY")
    monkeypatch.setenv("ACME_KEY", "first-key")
    await client.complete(CHAT)
    monkeypatch.setenv("ACME_KEY", "second-key")
    await client.complete(CHAT)
    await client.aclose()
    assert [r.headers["Authorization"] for r in server.received] == ["Bearer first-key", "Bearer second-key"]


async def test_no_key_env_sends_no_authorization(server: ScriptedServer) -> None:
    client = _client(server)
    await client.complete(CHAT)
    await client.aclose()
    assert "Authorization" not in server.received[0].headers


async def test_missing_key_variable_is_config_error(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACME_MISSING_KEY", raising=False)
    client = _client(server, key_env="ACME_MISSING_KEY")
    with pytest.raises(ConfigError, match="ACME_MISSING_KEY"):
        await client.complete(CHAT)
    await client.aclose()
    assert server.requests == []


@pytest.mark.parametrize("base_url", [None, "", "127.0.0.1:8000/v1"])
def test_bad_base_url_is_config_error(base_url: str | None) -> None:
    with pytest.raises(ConfigError, match="acme/x"):
        OpenAICompatClient(ModelRef("acme/x", base_url=base_url))


async def test_connection_refused_is_upstream_unavailable() -> None:
    async with ScriptedServer() as s:
        base_url = s.base_url
    client = OpenAICompatClient(ModelRef("gone", base_url=base_url), timeout_s=2)
    with pytest.raises(UpstreamUnavailable, match="gone: .*cannot connect"):
        await client.complete(CHAT)
    await client.aclose()


async def test_script_exhausted_is_server_error() -> None:
    async with ScriptedServer(["one"], default=None) as s:
        client = _client(s)
        assert (await client.complete(CHAT)).text == "one"
        with pytest.raises(UpstreamUnavailable, match="script exhausted"):
            await client.complete(CHAT)
        await client.aclose()


async def test_shared_transport_is_not_closed_by_client(server: ScriptedServer, transport: HttpTransport) -> None:
    a = _client(server, transport=transport)
    b = _client(server, transport=transport)
    await a.complete(CHAT)
    await a.aclose()
    assert (await b.complete(CHAT)).text == "ok"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([1, 2], "not a JSON object"),
        ({"choices": []}, "no choices"),
        ({"choices": [{"message": {"content": 5}}], "usage": {}}, "no text"),
        ({"choices": [{"text": "a"}]}, "no usage"),
        ({"choices": [{"text": "a"}], "usage": {"prompt_tokens": 1}}, "usage"),
        ({"choices": [{"text": "a"}], "usage": {"prompt_tokens": -1, "completion_tokens": 1}}, "usage"),
        ({"choices": [{"text": "a"}], "usage": {"prompt_tokens": True, "completion_tokens": 1}}, "usage"),
    ],
)
def test_parse_rejects_invalid_fields(data: object, match: str) -> None:
    with pytest.raises(BadResponse, match=match):
        parse_completion(orjson.dumps(data), model=ModelRef("m"))


def test_parse_null_content_reads_as_empty_or_refusal() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 0}
    empty = {"choices": [{"message": {"content": None}, "finish_reason": "length"}], "usage": usage}
    refused = {"choices": [{"message": {"content": None, "refusal": "no"}}], "usage": usage}
    assert parse_completion(orjson.dumps(empty), model=ModelRef("m")).text == ""
    assert parse_completion(orjson.dumps(refused), model=ModelRef("m")).text == "no"


async def test_valid_json_without_usage_is_bad_response(server: ScriptedServer) -> None:
    server.set_script([Step.malformed(orjson.dumps({"choices": [{"message": {"content": "hi"}}]}))])
    client = _client(server)
    with pytest.raises(BadResponse, match="no usage"):
        await client.complete(CHAT)
    await client.aclose()
