"""ScriptedClient and make_client."""

from __future__ import annotations

import pytest

from satisfice.clients import make_client
from satisfice.clients.openai_compat import OpenAICompatClient
from satisfice.clients.scripted import Fault, ScriptedClient
from satisfice.core import Completion, CompletionRequest, Message, ModelClient, ModelRef, Usage
from satisfice.errors import BadResponse, ConfigError, ProviderError, RateLimited, Timeout, UpstreamUnavailable

ASK = CompletionRequest(messages=[Message("user", "what is two plus two")])


async def test_outputs_in_order_with_word_usage() -> None:
    client = ScriptedClient(["four", "it is four"], model="s/one")
    assert isinstance(client, ModelClient)
    first = await client.complete(ASK)
    second = await client.complete(CompletionRequest(prompt="a b"))
    assert (first.text, first.usage, first.model) == ("four", Usage(5, 1), "s/one")
    assert (second.text, second.usage) == ("it is four", Usage(2, 3))
    assert client.calls == [ASK, CompletionRequest(prompt="a b")]
    with pytest.raises(RuntimeError, match="exhausted"):
        await client.complete(ASK)


async def test_default_and_callable_and_completion_items() -> None:
    fixed = Completion(text="given", usage=Usage(10, 20), model="m", cost_usd=0.5)
    client = ScriptedClient([fixed], default="later", cost_usd=0.001)
    assert await client.complete(ASK) is fixed
    assert (await client.complete(ASK)).cost_usd == 0.001
    assert (await client.complete(ASK)).text == "later"
    echo = ScriptedClient(lambda r: r.messages[-1].content.upper())
    assert (await echo.complete(ASK)).text == "WHAT IS TWO PLUS TWO"


async def test_stop_sequences_cut_the_answer() -> None:
    client = ScriptedClient(["yes\nand more", "no END tail"])
    assert (await client.complete(CompletionRequest(prompt="q", stop=["\n"]))).text == "yes"
    done = await client.complete(CompletionRequest(prompt="q", stop=["zz", "END"]))
    assert (done.text, done.usage.output_tokens) == ("no ", 1)


@pytest.mark.parametrize(
    ("fault", "kind", "status"),
    [
        (Fault("rate_limit", retry_after=2.5), RateLimited, 429),
        (Fault("server_error"), UpstreamUnavailable, 500),
        (Fault("server_error", status=503), UpstreamUnavailable, 503),
        (Fault("timeout"), Timeout, None),
        (Fault("bad_response"), BadResponse, None),
        (Fault("reset"), UpstreamUnavailable, None),
    ],
)
async def test_faults_raise_matching_errors(fault: Fault, kind: type[ProviderError], status: int | None) -> None:
    client = ScriptedClient([fault, "fine"], model="s/f")
    with pytest.raises(ProviderError) as info:
        await client.complete(ASK)
    assert type(info.value) is kind
    assert info.value.status == status
    assert info.value.retryable
    assert str(info.value).startswith("s/f: scripted")
    if isinstance(info.value, RateLimited):
        assert info.value.retry_after == 2.5
    assert (await client.complete(ASK)).text == "fine"
    assert len(client.calls) == 2


def test_make_client_remote_needs_base_url() -> None:
    client = make_client(ModelRef("acme/m", base_url="http://127.0.0.1:9/v1"))
    assert isinstance(client, OpenAICompatClient)
    with pytest.raises(ConfigError, match="acme/m.*base_url"):
        make_client(ModelRef("acme/m"))


def test_make_client_unknown_local_model() -> None:
    with pytest.raises(ConfigError, match="local/nope"):
        make_client(ModelRef("local/nope"))


def test_make_client_local_with_base_url_is_remote() -> None:
    # a "local/..." id served by a llama.cpp / Ollama server over HTTP
    assert isinstance(make_client(ModelRef("local/x", base_url="http://127.0.0.1:9/v1")), OpenAICompatClient)
