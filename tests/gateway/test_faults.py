"""Faults from a real scripted upstream on 127.0.0.1: the right fallback, a valid answer or a clear error, and
exactly one spend row per request. Provider keys never show up anywhere."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from satisfice.clients.scripted_server import ScriptedServer, Step
from satisfice.store import Store

from .conftest import FAKE_PROVIDER_KEY, base_config, chat, errors_of, make_gateway, running, spend_rows
from .test_routes import sse_events


def two(upstream: ScriptedServer, upstream2: ScriptedServer, **extra: Any) -> dict[str, Any]:
    cfg = base_config(upstream.base_url, upstream2.base_url, **extra)
    for u in cfg["upstreams"]:
        u["timeout_s"] = 0.5
    return cfg


FALLBACK_FAULTS = [
    ("500", Step.error(500, "boom"), "HTTP 500"),
    ("503", Step.error(503, "overloaded"), "HTTP 503"),
    ("429", Step.rate_limit(retry_after=30), "HTTP 429"),
    ("timeout", Step.delay(3.0, "too late"), "no answer"),
    ("reset", Step.reset(), "a: "),
    ("malformed", Step.malformed(), "not valid JSON"),
    ("truncated", Step.truncated(), "a: "),
    ("401 at upstream", Step.error(401, "bad provider key"), "HTTP 401"),
]


@pytest.mark.parametrize(("name", "fault", "expect"), FALLBACK_FAULTS, ids=[f[0] for f in FALLBACK_FAULTS])
async def test_fault_falls_back_to_next_upstream(store: Store, upstream: ScriptedServer, upstream2: ScriptedServer,
                                                 name: str, fault: Step, expect: str) -> None:
    upstream.set_script([fault])
    gw = make_gateway(store, two(upstream, upstream2))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == "from b"
    rows = spend_rows(store)
    assert len(rows) == 1
    row = rows[0]
    assert row.upstream == "b" and row.status == 200 and row.outcome == "ok"
    assert json.loads(row.models_tried) == ["small@a", "small@b"]
    assert len(errors_of(row)) == 1 and expect in errors_of(row)[0]
    assert FAKE_PROVIDER_KEY not in row.errors


async def test_fallback_to_another_model(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(lambda r: Step.error(500) if r.body["model"] == "small-wire" else "big answer")
    cfg = base_config(upstream.base_url, models={"small": {"upstreams": ["a"], "fallbacks": ["big"]}})
    gw = make_gateway(store, cfg)
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("small"))
    assert resp.json()["choices"][0]["message"]["content"] == "big answer"
    row = spend_rows(store)[0]
    assert (row.route, row.model) == ("small", "big")


async def test_all_upstreams_fail_gives_clear_502(store: Store, upstream: ScriptedServer,
                                                  upstream2: ScriptedServer) -> None:
    upstream.set_script(lambda r: Step.error(500, "a down"))
    upstream2.set_script(lambda r: Step.malformed())
    gw = make_gateway(store, two(upstream, upstream2))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
    assert resp.status_code == 502
    err = resp.json()["error"]
    assert err["code"] == "upstream_error" and "a down" in err["message"] and "not valid JSON" in err["message"]
    rows = spend_rows(store)
    assert len(rows) == 1 and rows[0].status == 502 and rows[0].cost_usd == 0 and rows[0].model is None


async def test_all_rate_limited_gives_429_with_retry_after(store: Store, upstream: ScriptedServer,
                                                           upstream2: ScriptedServer) -> None:
    upstream.set_script(lambda r: Step.rate_limit(retry_after=7))
    upstream2.set_script(lambda r: Step.rate_limit(retry_after=3))
    gw = make_gateway(store, two(upstream, upstream2))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "3"
    assert resp.json()["error"]["code"] == "upstream_rate_limited"
    assert len(spend_rows(store)) == 1


async def test_all_timeouts_give_504(store: Store, upstream: ScriptedServer, upstream2: ScriptedServer) -> None:
    upstream.set_script(lambda r: Step.delay(2.0))
    upstream2.set_script(lambda r: Step.delay(2.0))
    gw = make_gateway(store, two(upstream, upstream2))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
    assert resp.status_code == 504 and resp.json()["error"]["code"] == "upstream_timeout"


async def test_single_upstream_retries_once_within_retry_after(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script([Step.rate_limit(retry_after=0.1), "after wait"])
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
    assert resp.json()["choices"][0]["message"]["content"] == "after wait"
    assert json.loads(spend_rows(store)[0].models_tried) == ["small@a", "small@a"]


async def test_retry_after_too_long_is_not_waited(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script([Step.rate_limit(retry_after=60), "never"])
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
        again = await client.post("/v1/chat/completions", json=chat())
    assert resp.status_code == 429 and resp.headers["retry-after"] == "60"
    # the upstream asked for 60 s: the next request does not even try it
    assert again.status_code == 503 and again.json()["error"]["code"] == "upstream_unavailable"
    assert len(upstream.received) == 1
    assert len(spend_rows(store)) == 2


async def test_circuit_breaker_skips_a_failing_upstream(store: Store, upstream: ScriptedServer,
                                                        upstream2: ScriptedServer) -> None:
    upstream.set_script(lambda r: Step.error(500))
    gw = make_gateway(store, two(upstream, upstream2, circuit={"failures": 2, "cooldown_s": 60}))
    async with running(gw) as client:
        for _ in range(4):
            resp = await client.post("/v1/chat/completions", json=chat())
            assert resp.status_code == 200
    assert len(upstream.received) == 2  # then cooling down
    rows = spend_rows(store)
    assert len(rows) == 4
    assert json.loads(rows[3].models_tried) == ["small@b"]
    assert "skipped (cooling down)" in errors_of(rows[3])[0]


async def test_reset_before_stream_falls_back(store: Store, upstream: ScriptedServer,
                                              upstream2: ScriptedServer) -> None:
    upstream.set_script([Step.reset()])
    upstream2.set_script(["streamed from b"])
    gw = make_gateway(store, two(upstream, upstream2))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat(stream=True))
    events = sse_events(resp.text)
    assert events[-1] == "[DONE]"
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1]) == "streamed from b"
    row = spend_rows(store)[0]
    assert row.upstream == "b" and row.outcome == "ok"


async def test_error_status_before_stream_falls_back(store: Store, upstream: ScriptedServer,
                                                     upstream2: ScriptedServer) -> None:
    upstream.set_script([Step.error(503)])
    gw = make_gateway(store, two(upstream, upstream2))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat(stream=True))
    assert sse_events(resp.text)[-1] == "[DONE]"
    assert spend_rows(store)[0].upstream == "b"


@pytest.mark.parametrize("fault", [Step.reset_after(3), Step.answer("a b c d e f", chunk_delay_s=1.0)],
                         ids=["reset", "stall"])
async def test_failure_mid_stream_ends_with_error_event(store: Store, upstream: ScriptedServer,
                                                        upstream2: ScriptedServer, fault: Step) -> None:
    upstream.set_script([fault])
    gw = make_gateway(store, two(upstream, upstream2))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat(stream=True))
    assert resp.status_code == 200
    events = sse_events(resp.text)
    assert events[0]["choices"]  # real content was relayed before the failure
    assert "[DONE]" not in events
    assert set(events[-1]) == {"error"} and events[-1]["error"]["code"] == "stream_interrupted"
    assert upstream2.received == []  # bytes were sent: no fallback after that
    rows = spend_rows(store)
    assert len(rows) == 1 and rows[0].outcome == "interrupted" and rows[0].upstream == "a"
    assert FAKE_PROVIDER_KEY not in resp.text


async def test_provider_key_never_leaks(store: Store, upstream: ScriptedServer, upstream2: ScriptedServer,
                                        caplog: pytest.LogCaptureFixture) -> None:
    leak = f"invalid key {FAKE_PROVIDER_KEY} (Authorization: Bearer {FAKE_PROVIDER_KEY})"
    upstream.set_script(lambda r: Step.error(500, leak))
    upstream2.set_script(lambda r: Step.error(401, leak))
    caplog.set_level(logging.DEBUG)
    cfg = two(upstream, upstream2)
    cfg["upstreams"][1]["models"] = {"small": None}
    gw = make_gateway(store, cfg)
    async with running(gw) as client:
        failed = await client.post("/v1/chat/completions", json=chat())
        upstream2.set_script(lambda r: Step.error(400, leak))
        rejected = await client.post("/v1/chat/completions", json=chat())
        metrics = await client.get("/metrics")
    assert failed.status_code == 502 and rejected.status_code == 400
    assert "invalid key ***" in failed.text
    rows = spend_rows(store)
    assert len(rows) == 2
    everything = [failed.text, rejected.text, metrics.text, caplog.text] + [
        f"{r.errors} {r.models_tried}" for r in rows]
    for text in everything:
        assert FAKE_PROVIDER_KEY not in text
        assert "SECRET" not in text
