"""The HTTP bench against a scripted streaming server told exactly how slow to be."""

from __future__ import annotations

import pytest

from satisfice.clients.http import HttpTransport
from satisfice.clients.scripted_server import ScriptedServer
from satisfice.clients.scripted_wire import Received, Script, Step
from satisfice.errors import ConfigError
from satisfice.selfhost.bench import BenchConfig, BenchResult, run_bench
from satisfice.selfhost.driver import LoadPlan
from satisfice.selfhost.http_stream import HttpStreamer, _Reader

WORDS = 8
TTFT_S = 1.0
PROMPT = 40


def _answer(_: Received) -> Step:
    # A completions stream: all WORDS text events TTFT_S after the request, then finish, usage, [DONE].
    return Step.answer(" ".join(["tok"] * WORDS), prompt_tokens=PROMPT, delay_s=TTFT_S)


async def _bench(script: Script, levels: list[int], requests: int) -> BenchResult:
    async with ScriptedServer(script, models=("served-model",), record=False) as server:
        transport = HttpTransport(timeout_s=10.0)
        streamer = HttpStreamer(server.base_url, "served-model", prompt_tokens=PROMPT, output_tokens=WORDS,
                                transport=transport)
        config = BenchConfig(model="served-model", levels=levels, plan=LoadPlan(requests=requests),
                             usd_per_hour=2.0, prompt_tokens=PROMPT, output_tokens=WORDS, base_url=server.base_url)
        try:
            return await run_bench(streamer, config)
        finally:
            await transport.close()


async def test_measured_ttft_and_throughput_match_the_script() -> None:
    result = await _bench(_answer, [1, 4], 4)
    for level in result.levels:
        s = level.stats
        assert s.errors == 0 and s.requests == 4
        assert s.ttft_p50_ms == pytest.approx(TTFT_S * 1000, rel=0.10)
        assert s.e2e_p50_ms == pytest.approx(TTFT_S * 1000, rel=0.10)
        # closed loop: `concurrency` requests every TTFT_S seconds, WORDS output and PROMPT input tokens each
        assert s.output_tokens_per_s == pytest.approx(s.concurrency * WORDS / TTFT_S, rel=0.10)
        assert s.input_tokens_per_s == pytest.approx(s.concurrency * PROMPT / TTFT_S, rel=0.10)
        assert s.requests_per_s == pytest.approx(s.concurrency / TTFT_S, rel=0.10)
        assert s.mean_input_tokens == PROMPT and s.usage_missing == 0
    doc = result.to_json()
    assert doc["usd_per_hour"] == 2.0 and [lv["concurrency"] for lv in doc["levels"]] == [1, 4]
    assert doc["best"]["concurrency"] == 4  # same latency, four times the throughput
    lv = doc["levels"][0]
    assert lv["usd_per_m_output"] == pytest.approx(
        2.0 / 3600 / (lv["output_tokens_per_s"] + result.weight * lv["input_tokens_per_s"]) * 1e6)


async def test_inter_token_latency_and_input_weight_follow_the_script() -> None:
    chunk_s = 0.1

    def paced(_: Received) -> Step:  # 3 words: the first after 0.2 s, then one every 0.1 s
        return Step.answer("a b c", prompt_tokens=PROMPT, delay_s=0.2, chunk_delay_s=chunk_s)

    result = await _bench(paced, [1], 4)
    s = result.levels[0].stats
    assert s.itl_p50_ms == pytest.approx(chunk_s * 1000, rel=0.20)  # the server itself oversleeps when busy
    # weight = (200 ms / 40 prompt tokens) / 100 ms = 0.05, measured at concurrency 1
    assert result.weight == pytest.approx(0.05, rel=0.25) and "concurrency 1" in result.weight_source


async def test_requests_carry_stream_usage_and_ignore_eos() -> None:
    async with ScriptedServer(["a b c"], models=("m",)) as server:
        transport = HttpTransport(timeout_s=5.0)
        streamer = HttpStreamer(server.base_url, "m", prompt_tokens=16, output_tokens=3, transport=transport)
        try:
            sample = await streamer(7)
        finally:
            await transport.close()
    (body,) = server.requests
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["ignore_eos"] is True and body["max_tokens"] == 3 and body["prompt"].startswith("Request 7:")
    assert sample.error is None and sample.output_tokens == 3 and sample.input_tokens == len(body["prompt"].split())


async def test_failures_are_counted_not_measured() -> None:
    script = [Step.error(500, "overloaded"), Step.rate_limit(1.0), Step.reset_after(2), Step.malformed(), "one two"]
    async with ScriptedServer(script, models=("m",)) as server:
        transport = HttpTransport(timeout_s=5.0)
        streamer = HttpStreamer(server.base_url, "m", prompt_tokens=8, output_tokens=2, transport=transport)
        try:
            samples = [await streamer(i) for i in range(5)]
        finally:
            await transport.close()
    kinds = [s.error for s in samples]
    assert kinds[:2] == ["http_500", "http_429"]
    assert kinds[2] is not None and kinds[3] is not None  # cut mid-stream; not an event stream at all
    assert kinds[4] is None and samples[4].output_tokens == 2


def test_reader_handles_events_split_across_chunks_and_missing_usage() -> None:
    events = (b'data: {"choices":[{"index":0,"text":"Hel"}]}\n\n'
              b'data: {"choices":[{"index":0,"delta":{"content":"lo"}}]}\r\n\r\n'
              b'data: {"choices":[{"index":0,"text":""}]}\n\ndata: [DONE]\n\n')
    reader = _Reader()
    for i, cut in enumerate(range(0, len(events), 7)):
        reader.feed(events[cut:cut + 7], float(i))
    assert reader.done and reader.error is None and reader.texts == 2
    assert reader.output_tokens is None  # no usage: the streamer falls back to counting text chunks
    assert reader.first is not None and len(reader.gaps) == 1
    bad = _Reader()
    bad.feed(b'data: {"error": {"message": "boom"}}\n\n', 0.0)
    assert bad.error == "stream_error"
    lying = _Reader()
    lying.feed(b'data: {"choices": [], "usage": {"prompt_tokens": -5, "completion_tokens": 3}}\n\n', 0.0)
    assert lying.error == "invalid_usage"  # a negative count is never believed
    vllm = _Reader()
    vllm.feed(b'data: {"choices": [{"index": 0, "text": "x"}], "usage": null}\n\ndata: [DONE]\n\n', 0.0)
    assert vllm.error is None and vllm.texts == 1


def test_streamer_checks_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = HttpTransport()
    with pytest.raises(ConfigError, match="http://"):
        HttpStreamer("ftp://x", "m", prompt_tokens=8, output_tokens=2, transport=transport)
    with pytest.raises(ConfigError, match="--output-tokens"):
        HttpStreamer("http://127.0.0.1:1/v1", "m", prompt_tokens=8, output_tokens=0, transport=transport)
    monkeypatch.delenv("SELFHOST_TEST_KEY", raising=False)
    with pytest.raises(ConfigError, match="SELFHOST_TEST_KEY is not set"):
        HttpStreamer("http://127.0.0.1:1/v1", "m", prompt_tokens=8, output_tokens=2, transport=transport,
                     api_key_env="SELFHOST_TEST_KEY")


async def test_chat_endpoint_streams_deltas() -> None:
    async with ScriptedServer(["alpha beta gamma"], models=("m",)) as server:
        transport = HttpTransport(timeout_s=5.0)
        streamer = HttpStreamer(server.base_url, "m", prompt_tokens=8, output_tokens=3, chat=True,
                                transport=transport)
        try:
            sample = await streamer(0)
        finally:
            await transport.close()
    (received,) = server.received
    assert received.path == "/v1/chat/completions" and received.body["messages"][0]["role"] == "user"
    assert sample.error is None and sample.output_tokens == 3 and len(sample.gaps) == 2
