"""The real openai and anthropic SDKs against a real gateway process and a local upstream speaking every API.

Model ``chat-model`` is served by an upstream that speaks only chat completions (Messages and Responses reach
it translated); ``native-model`` by one that declares every API (pass-through). Every successful call must leave
exactly one spend row with the upstream's token counts; the budget 429 must stop the SDKs' retries. The gateway
and helpers are in ``client_gateway``; agent frameworks and LiteLLM are in ``test_client_frameworks``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from satisfice.clients.api_server import (
    COUNTED_TOKENS,
    EMBEDDING_TOKENS,
    MESSAGES_USAGE,
    RESPONSES_USAGE,
    TEXT,
    TOOL_ARGS,
    TOOL_PIECES,
)
from satisfice.gateway.apis.token_count import count_messages

from .client_gateway import FUNCTION, TOOL, Rows, an, billed, gw, oa
from .conftest import FAKE_PROVIDER_KEY, spend_rows

__all__ = ["gw"]  # the module-scoped gateway fixture, used by the tests below


@pytest.mark.parametrize("stream", [False, True])
def test_messages_translated_to_a_chat_upstream(gw: dict[str, Any], stream: bool) -> None:
    rows = Rows(gw)
    client = an(gw)
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
    billed(rows.new()[0], "messages", "chat", (11, 7))
    sent = gw["upstream"].requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", ["chat-model", "native-model"])
def test_messages_tools_whole_and_streamed(gw: dict[str, Any], stream: bool, model: str) -> None:
    rows = Rows(gw)
    client = an(gw).with_options(default_headers={"anthropic-beta": "tools-2099"})
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
        billed(row, "messages", "messages" if native else "chat", tokens)
    sent = gw["upstream"].server.received[-1]
    if native:
        assert sent.path == "/v1/messages" and sent.headers["x-api-key"] == FAKE_PROVIDER_KEY
        assert sent.headers["anthropic-version"] and sent.headers["anthropic-beta"] == "tools-2099"
    else:
        assert [m["role"] for m in sent.body["messages"]] == ["user", "assistant", "tool"]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", ["chat-model", "native-model"])
def test_responses_whole_streamed_and_tools(gw: dict[str, Any], stream: bool, model: str) -> None:
    rows = Rows(gw)
    client = oa(gw)
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
        billed(row, "responses", "responses" if native else "chat", tokens)


def test_responses_function_output_round_trip(gw: dict[str, Any]) -> None:
    rows = Rows(gw)
    client = oa(gw)
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
    rows = Rows(gw)
    client = oa(gw)
    answer = client.embeddings.create(model="native-model", input=["a", "b"])
    assert [len(d.embedding) for d in answer.data] == [3, 3]
    billed(rows.new()[0], "embeddings", "embeddings", (EMBEDDING_TOKENS, 0))
    with pytest.raises(openai.BadRequestError, match="embeddings"):
        client.embeddings.create(model="chat-model", input="a")


def test_models_retrieve_in_both_shapes(gw: dict[str, Any]) -> None:
    assert oa(gw).models.retrieve("task/verified").id == "task/verified"
    assert an(gw).models.retrieve("chat-model").id == "chat-model"
    with pytest.raises(openai.NotFoundError):
        oa(gw).models.retrieve("nope")


def _rejections(gw: dict[str, Any]) -> float:
    text = httpx.get(gw["url"] + "/metrics").text
    return sum(float(m) for m in re.findall(r'satisfice_gateway_rejections_total\{reason="budget_exceeded"\} (\S+)',
                                            text))


def test_budget_429_stops_sdk_retries_and_says_what_to_change(gw: dict[str, Any]) -> None:
    before = _rejections(gw)
    with pytest.raises(openai.RateLimitError) as caught:
        oa(gw, gw["tiny"]).chat.completions.create(model="chat-model", max_tokens=100_000,
                                                    messages=[{"role": "user", "content": "hi"}])
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert int(caught.value.response.headers["retry-after"]) <= 86_400
    assert "set 'max_tokens' to at most" in str(caught.value)
    with pytest.raises(anthropic.RateLimitError) as refused:
        an(gw, gw["tiny"]).messages.create(model="chat-model", max_tokens=100_000,
                                            messages=[{"role": "user", "content": "hi"}])
    assert refused.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert _rejections(gw) - before == 2  # one call each: the SDKs did not retry


def test_small_budget_admits_with_a_smaller_cap(gw: dict[str, Any]) -> None:
    rows = Rows(gw)
    answer = oa(gw, gw["tiny"]).chat.completions.create(model="chat-model",
                                                         messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == TEXT
    cap = gw["upstream"].requests[-1]["max_tokens"]
    assert 16 <= cap < 4096
    assert rows.new()[0].status == 200


def test_errors_in_each_apis_shape(gw: dict[str, Any]) -> None:
    with pytest.raises(anthropic.AuthenticationError):
        an(gw, "sk-sat-wrong").messages.create(model="chat-model", max_tokens=5,
                                                messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(anthropic.BadRequestError, match="top_k") as caught:
        an(gw).messages.create(model="chat-model", max_tokens=5, extra_body={"top_k": 3},
                                messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError, match="previous_response_id"):
        oa(gw).responses.create(model="chat-model", input="hi", previous_response_id="resp_1")
    with pytest.raises(openai.BadRequestError, match="store"):
        oa(gw).responses.create(model="chat-model", input="hi", store=True)


def test_logprobs_survive_a_verified_stream(gw: dict[str, Any]) -> None:
    rows = Rows(gw)
    stream = oa(gw).chat.completions.create(model="task/verified", stream=True, logprobs=True,
                                             messages=[{"role": "user", "content": "hi"}])
    tokens = [t.token for chunk in stream for choice in chunk.choices if choice.logprobs
              for t in choice.logprobs.content or []]
    assert "".join(tokens) == TEXT.replace(" ", "")
    assert rows.new()[0].route == "task/verified"


def test_verified_route_serves_messages_stream(gw: dict[str, Any], tmp_path: Path) -> None:
    rows = Rows(gw)
    with an(gw).messages.stream(model="task/verified", max_tokens=20,
                                 messages=[{"role": "user", "content": "hi"}]) as events:
        message = events.get_final_message()
    assert message.content[0].text == TEXT  # type: ignore[union-attr]
    assert rows.new()[0].route == "task/verified"


def _two_tools_slowly(gw: dict[str, Any]) -> Iterator[None]:
    server = gw["upstream"].server
    server.piece_delay_s = 0.15  # 10 pauses in the upstream's chat stream of two tool calls
    try:
        yield
    finally:
        server.piece_delay_s = 0.0


def test_translated_messages_stream_tool_arguments_as_they_arrive(gw: dict[str, Any]) -> None:
    """Anthropic's stream helper sees each tool call open and its arguments arrive piece by piece (two calls)."""
    rows = Rows(gw)
    second = {**TOOL, "name": "get_time", "description": "Time in a city"}
    pieces: list[tuple[int, str, float]] = []
    for _ in _two_tools_slowly(gw):
        with an(gw).messages.stream(model="chat-model", max_tokens=50, tools=[TOOL, second],  # type: ignore[list-item]
                                    messages=[{"role": "user", "content": "weather and time in Paris?"}]) as stream:
            for event in stream:
                if event.type == "input_json":
                    pieces.append((len(stream.current_message_snapshot.content) - 1, event.partial_json,
                                   time.monotonic()))
            ended = time.monotonic()
            message = stream.get_final_message()
    assert [(block, piece) for block, piece, _ in pieces] == [(0, p) for p in TOOL_PIECES] + [
        (1, p) for p in TOOL_PIECES]
    assert ended - pieces[0][2] > 0.9  # the first piece came while the upstream was still sending (8 pauses left)
    calls = [(b.id, b.name, b.input) for b in message.content if b.type == "tool_use"]
    assert calls == [("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_time", {"city": "Paris"})]
    assert message.stop_reason == "tool_use"
    billed(rows.new()[0], "messages", "chat", (11, 7))


def test_translated_responses_stream_function_arguments_as_they_arrive(gw: dict[str, Any]) -> None:
    """OpenAI's Responses stream helper: output_item.added, argument deltas as they come, done, for two calls."""
    rows = Rows(gw)
    second = {**FUNCTION, "name": "get_time", "description": "Time in a city"}
    seen: list[tuple[str, int, str, float]] = []
    for _ in _two_tools_slowly(gw):
        with oa(gw).responses.stream(model="chat-model", input="weather and time in Paris?",
                                     tools=[FUNCTION, second]) as stream:  # type: ignore[list-item]
            for event in stream:
                if event.type.startswith(("response.output_item.", "response.function_call_arguments.")):
                    seen.append((event.type.rsplit(".", 1)[-1], event.output_index,  # type: ignore[union-attr]
                                 getattr(event, "delta", ""), time.monotonic()))
            ended = time.monotonic()
            final = stream.get_final_response()
    per_call = ["added", *(["delta"] * len(TOOL_PIECES)), "done", "done"]
    assert [(kind, index) for kind, index, _, _ in seen] == [(k, 0) for k in per_call] + [(k, 1) for k in per_call]
    assert [delta for kind, index, delta, _ in seen if kind == "delta" and index == 1] == list(TOOL_PIECES)
    assert ended - seen[1][3] > 0.9  # the first delta came while the upstream was still sending
    calls = [(item.call_id, item.name, item.arguments) for item in final.output if item.type == "function_call"]
    assert calls == [("call_1", "get_weather", TOOL_ARGS), ("call_2", "get_time", TOOL_ARGS)]
    billed(rows.new()[0], "responses", "chat", (11, 7))


def test_anthropic_count_tokens_passes_through_or_counts_locally(gw: dict[str, Any]) -> None:
    rows = Rows(gw)
    kwargs: dict[str, Any] = {"system": "be brief", "tools": [TOOL],
                              "messages": [{"role": "user", "content": "weather in Paris?"}]}
    assert an(gw).messages.count_tokens(model="native-model", **kwargs).input_tokens == COUNTED_TOKENS
    local = an(gw).messages.count_tokens(model="chat-model", **kwargs).input_tokens
    assert local == count_messages({"model": "chat-model", **kwargs}) and 20 < local < 200
    with pytest.raises(anthropic.AuthenticationError):
        an(gw, "sk-sat-wrong").messages.count_tokens(model="chat-model", **kwargs)
    time.sleep(0.3)
    assert len(spend_rows(rows.store)) == rows.before  # counting writes no spend row
