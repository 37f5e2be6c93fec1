"""The pure translators: Messages and Responses to and from chat completions, streams, usage, refusals."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from satisfice.gateway.apis import translate_messages as tm
from satisfice.gateway.apis import translate_responses as tr
from satisfice.gateway.apis.translate_common import ChatStreamReader, ChatUsage
from satisfice.gateway.http.admission import affordable_output, cap_hint, client_cap
from satisfice.gateway.routes.plan import Plan
from satisfice.gateway.wire.replies import GatewayError

USAGE = {"prompt_tokens": 20, "completion_tokens": 9, "prompt_tokens_details": {"cached_tokens": 5},
         "completion_tokens_details": {"reasoning_tokens": 4}}


def chat_answer(content: str | None = "hi", calls: list[dict[str, Any]] | None = None,
                finish: str = "stop") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = calls
    return {"id": "x", "created": 1, "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": USAGE}


def events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in raw.decode().strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((lines["event"], orjson.loads(lines["data"])))
    return out


def test_messages_request_translates_system_images_tools_and_results() -> None:
    chat = tm.to_chat({
        "model": "m", "max_tokens": 10, "system": [{"type": "text", "text": "be brief", "cache_control": {}}],
        "stop_sequences": ["END"], "metadata": {"user_id": "u1"},
        "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image", "source": {
                "type": "base64", "media_type": "image/png", "data": "AAA"}}]},
            {"role": "assistant", "content": [{"type": "text", "text": "ok"},
                                              {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "42",
                                          "is_error": True}, {"type": "text", "text": "and?"}]}]})
    assert chat["messages"][0] == {"role": "system", "content": "be brief"}
    assert chat["messages"][1]["content"][1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}}
    assert chat["messages"][2]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a":1}'}
    assert chat["messages"][3] == {"role": "tool", "tool_call_id": "t1", "content": "Error: 42"}
    assert chat["messages"][4] == {"role": "user", "content": "and?"}
    assert (chat["stop"], chat["user"], chat["tool_choice"], chat["parallel_tool_calls"]) == (["END"], "u1",
                                                                                             "required", False)
    assert chat["tools"][0]["function"]["parameters"] == {"type": "object"}


@pytest.mark.parametrize(("body", "field"), [
    ({"top_k": 3}, "top_k"), ({"thinking": {"type": "enabled"}}, "thinking"),
    ({"tools": [{"type": "web_search_20250305", "name": "web"}]}, "tools[0].type"),
    ({"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}]},
     "messages[0].content[0].source"),
    ({"messages": [{"role": "user", "content": [{"type": "tool_result", "content": [{"type": "image"}]}]}]},
     "messages[0].content[0].content[0]")])
def test_messages_fields_that_cannot_be_translated_are_named(body: dict[str, Any], field: str) -> None:
    with pytest.raises(GatewayError) as caught:
        tm.to_chat({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], **body})
    assert caught.value.status == 400 and caught.value.param == field


def test_messages_answer_stop_reasons_and_usage() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 2}'}}
    answer = tm.from_chat(chat_answer(None, [call], "tool_calls"), "claude-x")
    assert answer["content"] == [{"type": "tool_use", "id": "c1", "name": "f", "input": {"x": 2}}]
    assert (answer["stop_reason"], answer["model"]) == ("tool_use", "claude-x")
    assert answer["usage"] == {"input_tokens": 15, "output_tokens": 9, "cache_read_input_tokens": 5,
                               "cache_creation_input_tokens": 0}
    assert tm.from_chat(chat_answer(finish="length"), "m")["stop_reason"] == "max_tokens"
    assert tm.chat_usage(answer["usage"]) == {"prompt_tokens": 20, "completion_tokens": 9,
                                              "prompt_tokens_details": {"cached_tokens": 5}}


def test_messages_stream_from_chat_chunks() -> None:
    reader, writer = ChatStreamReader(), tm.MessagesEvents("m", "msg_1")
    chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": "he"}}]},
              {"choices": [{"index": 0, "delta": {"content": "llo"}}]},
              {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c", "function": {
                  "name": "f", "arguments": '{"a"'}}]}}]},
              {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]},
                            "finish_reason": "tool_calls"}]},
              {"choices": [], "usage": USAGE}]
    raw = b"".join(writer.op(op) for chunk in chunks for op in reader.read(chunk)) + writer.end()
    kinds = [kind for kind, _ in events(raw)]
    assert kinds == ["message_start", "content_block_start", "content_block_delta", "content_block_delta",
                     "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta",
                     "content_block_stop", "message_delta", "message_stop"]
    parsed = events(raw)
    assert [parsed[i][1]["delta"]["partial_json"] for i in (6, 7)] == ['{"a"', ":1}"]  # as the upstream sent them
    assert parsed[9][1]["delta"]["stop_reason"] == "tool_use" and parsed[9][1]["usage"]["output_tokens"] == 9


def test_responses_request_translates_items_tools_and_formats() -> None:
    chat = tr.to_chat({
        "model": "m", "instructions": "sys", "max_output_tokens": 30, "reasoning": {"effort": "low"},
        "text": {"format": {"type": "json_schema", "name": "s", "schema": {"type": "object"}, "strict": True}},
        "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
        "tool_choice": {"type": "function", "name": "f"}, "store": False,
        "input": [{"role": "developer", "content": "dev"},
                  {"role": "user", "content": [{"type": "input_text", "text": "see"},
                                               {"type": "input_image", "image_url": "http://i", "detail": "low"}]},
                  {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                  {"type": "function_call", "call_id": "c2", "name": "f", "arguments": "{}"},
                  {"type": "function_call_output", "call_id": "c1", "output": "one"}]})
    roles = [m["role"] for m in chat["messages"]]
    assert roles == ["system", "system", "user", "assistant", "tool"]
    assert [c["id"] for c in chat["messages"][3]["tool_calls"]] == ["c1", "c2"]
    assert chat["messages"][2]["content"][1] == {"type": "image_url", "image_url": {"url": "http://i",
                                                                                    "detail": "low"}}
    assert chat["response_format"]["json_schema"]["name"] == "s" and chat["reasoning_effort"] == "low"
    assert chat["max_tokens"] == 30 and chat["tool_choice"] == {"type": "function", "function": {"name": "f"}}


@pytest.mark.parametrize(("body", "field"), [
    ({"previous_response_id": "r"}, "previous_response_id"), ({"store": True}, "store"),
    ({"conversation": "c"}, "conversation"), ({"include": ["reasoning.encrypted_content"]}, "include"),
    ({"background": True}, "background"), ({"tools": [{"type": "file_search"}]}, "tools[0].type"),
    ({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}, "input[0].content[0].type")])
def test_responses_stateful_and_untranslatable_fields_are_named(body: dict[str, Any], field: str) -> None:
    with pytest.raises(GatewayError) as caught:
        tr.to_chat({"model": "m", "input": "hi", **body})
    assert caught.value.status == 400 and caught.value.param == field


def test_responses_answer_and_stream_agree() -> None:
    payload = {"model": "m", "input": "hi"}
    whole = tr.from_chat(chat_answer("hello"), payload)
    assert whole["output"][0]["content"][0]["text"] == "hello" and whole["status"] == "completed"
    assert whole["usage"] == {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 5}, "output_tokens": 9,
                              "output_tokens_details": {"reasoning_tokens": 4}, "total_tokens": 29}
    streamed = events(tr.stream_of(whole, payload))
    assert streamed[0][0] == "response.created" and streamed[-1][0] == "response.completed"
    assert [e["sequence_number"] for _, e in streamed] == list(range(len(streamed)))
    final = streamed[-1][1]["response"]
    assert final["output"][0]["content"][0]["text"] == "hello" and final["usage"] == whole["usage"]
    cut = tr.from_chat(chat_answer("hel", finish="length"), payload)
    assert (cut["status"], cut["incomplete_details"]) == ("incomplete", {"reason": "max_output_tokens"})


def test_usage_reader_ignores_malformed_counts() -> None:
    assert ChatUsage.of({"prompt_tokens": -1, "completion_tokens": "x"}) == ChatUsage()
    assert ChatUsage.of(USAGE).chat()["total_tokens"] == 29


def test_affordable_caps_and_hints() -> None:
    plan = Plan("m", False, (), in_per_m=1.0, out_per_m=2.0)
    assert affordable_output(plan, 28, 0.0001) == 35
    assert affordable_output(plan, 200, 0.0001) == 0
    assert client_cap({"max_tokens": 5}, "chat") == "max_tokens" and client_cap({}, "responses") is None
    assert "set 'max_tokens' to at most 35" in cap_hint(plan, 28, 0.0001, "max_tokens", 1)
    assert "prompt alone" in cap_hint(plan, 200, 0.0001, None, 1)


@pytest.mark.parametrize("junk", [None, "text", 3, [1, "x", None], [{"type": "text", "text": 5}],
                                  [{"type": "message", "content": "x"}], [{"type": "tool_use", "input": [1]}]])
def test_lying_upstream_answers_never_crash_the_writers(junk: Any) -> None:
    messages = {"content": junk, "usage": junk, "stop_reason": junk}
    responses = {"output": junk, "usage": junk, "incomplete_details": junk}
    assert isinstance(tm.text_of(messages), str) and isinstance(tr.text_of(responses), str)
    assert tm.stream_of(messages, "m").endswith(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
    assert b"response.completed" in tr.stream_of(responses, {"model": "m"})


def test_stream_writers_order_text_then_calls_and_address_late_pieces() -> None:
    """Text, then two calls whose pieces interleave (the second call's start closes the first): index-addressed."""
    def tool(index: int, piece: str, start: bool = False) -> dict[str, Any]:
        call: dict[str, Any] = {"index": index, "function": {"arguments": piece}}
        if start:
            call.update(id=f"c{index}", function={"name": f"f{index}", "arguments": piece})
        return {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}

    chunks = [{"choices": [{"index": 0, "delta": {"content": "hm"}}]}, tool(0, '{"a"', True), tool(1, "{}", True),
              tool(0, ":1}"), {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}]
    for writer in (tm.MessagesEvents("m", "msg_1"), tr.ResponsesEvents({"model": "m", "input": "x"})):
        reader = ChatStreamReader()
        raw = b"".join(writer.op(op) for chunk in chunks for op in reader.read(chunk)) + writer.end()
        parsed = events(raw)
        if isinstance(writer, tm.MessagesEvents):
            starts = [e["content_block"]["type"] for k, e in parsed if k == "content_block_start"]
            pieces = [(e["index"], e["delta"]["partial_json"]) for k, e in parsed
                      if k == "content_block_delta" and e["delta"]["type"] == "input_json_delta"]
            assert starts == ["text", "tool_use", "tool_use"] and pieces == [(1, '{"a"'), (2, "{}"), (1, ":1}")]
            continue
        assert [e["sequence_number"] for _, e in parsed] == list(range(len(parsed)))
        added = [(e["output_index"], e["item"]["type"]) for k, e in parsed if k == "response.output_item.added"]
        assert added == [(0, "message"), (1, "function_call"), (2, "function_call")]
        deltas = [(e["output_index"], e["delta"]) for k, e in parsed if k == "response.function_call_arguments.delta"]
        assert deltas == [(1, '{"a"'), (2, "{}"), (1, ":1}")]
        output = parsed[-1][1]["response"]["output"]
        assert [item.get("arguments") for item in output] == [None, '{"a":1}', "{}"]
        assert output[0]["content"][0]["text"] == "hm"
