"""The HTTP bench against a scripted streaming server told exactly how slow to be."""

from __future__ import annotations

import pytest

from satisfice.clients.http import HttpTransport
from satisfice.clients.scripted_server import ScriptedServer
from satisfice.clients.scripted_wire import Received, Step
from satisfice.errors import ConfigError
from satisfice.selfhost.bench import BenchConfig, run_bench
from satisfice.selfhost.driver import LoadPlan
from satisfice.selfhost.http_stream import HttpStreamer, _Reader

WORDS = 6
TTFT_S = 0.20
CHUNK_S = 0.05
PROMPT = 40


def _answer(_: Received) -> Step:
    # Completions stream: word 1 after TTFT_S, then a chunk every CHUNK_S (5 more words, finish, usage).
    return Step.answer(" ".join(["tok"] * WORDS), prompt_tokens=PROMPT, delay_s=TTFT_S, chunk_delay_s=CHUNK_S)


async def test_measured_ttft_and_throughput_match_the_script() -> None:
    async with ScriptedServer(_answer, models=("served-model",), record=False) as server:
        transport = HttpTransport(timeout_s=10.0)
        streamer = HttpStreamer(server.base_url, "served-model", prompt_tokens=PROMPT, output_tokens=WORDS,
                                transport=transport)
        config = BenchConfig(model="served-model", levels=[1, 4], plan=LoadPlan(requests=8), usd_per_hour=2.0,
                             prompt_tokens=PROMPT, output_tokens=WORDS, base_url=server.base_url)
        try:
            result = await run_bench(streamer, config)
        finally:
            await transport.close()
    e2e = TTFT_S + (WORDS + 1) * CHUNK_S  # 0.55 s per request
    for level in result.levels:
        s = level.stats
        assert s.errors == 0 and s.requests == 8
        assert s.ttft_p50_ms == pytest.approx(TTFT_S * 1000, rel=0.10)
        assert s.itl_p50_ms == pytest.approx(CHUNK_S * 1000, rel=0.10)
        assert s.e2e_p50_ms == pytest.approx(e2e * 1000, rel=0.10)
        # closed loop: c requests every e2e seconds, WORDS tokens each
        assert s.output_tokens_per_s == pytest.approx(s.concurrency * WORDS / e2e, rel=0.10)
        assert s.input_tokens_per_s == pytest.approx(s.concurrency * PROMPT / e2e, rel=0.10)
        assert s.mean_input_tokens == PROMPT and s.usage_missing == 0
    # weight = (200 ms / 40 prompt tokens) / 50 ms = 0.1, measured at concurrency 1
    assert result.weight == pytest.approx(0.1, rel=0.12)
    assert "concurrency 1" in result.weight_source
    doc = result.to_json()
    assert doc["usd_per_hour"] == 2.0 and [lv["concurrency"] for lv in doc["levels"]] == [1, 4]
    assert doc["best"]["concurrency"] == 4  # same latency, four times the throughput
    assert doc["levels"][0]["usd_per_m_output"] == pytest.approx(
        2.0 / 3600 / (doc["levels"][0]["output_tokens_per_s"] + result.weight * doc["levels"][0]["input_tokens_per_s"])
        * 1e6)


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
