"""Money from validated usage: lying upstreams are billed an estimate and flagged, never credited."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from satisfice.clients.scripted_server import ScriptedServer, Step
from satisfice.gateway.money.keys import create_key
from satisfice.gateway.observability.report import gateway_report
from satisfice.gateway.wire.validate import input_estimate
from satisfice.store import Store

from .conftest import base_config, chat, make_gateway, running, spend_rows


def _answer(usage: Any) -> Step:
    body: dict[str, Any] = {"id": "x", "object": "chat.completion", "model": "small",
                            "choices": [{"index": 0, "message": {"role": "assistant", "content": "four words of text"},
                                         "finish_reason": "stop"}]}
    if usage is not ...:
        body["usage"] = usage
    return Step.malformed(orjson.dumps(body))  # a 200 with exactly this body


@pytest.mark.parametrize("usage", [
    {"prompt_tokens": 5, "completion_tokens": -1_000_000},
    {"prompt_tokens": True, "completion_tokens": 3},
    {"prompt_tokens": 5},
    {"prompt_tokens": 5.5, "completion_tokens": 3},
    {"prompt_tokens": "5", "completion_tokens": 3},
    None,
    ...,
    {"prompt_tokens": 5, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": -9}},
], ids=["negative", "boolean", "missing-completion", "fraction", "string", "null", "absent", "negative-cached"])
async def test_invalid_usage_is_billed_the_estimate_and_flagged(store: Store, upstream: ScriptedServer,
                                                                 usage: Any) -> None:
    upstream.set_script([_answer(usage)])
    body = orjson.dumps(chat("small", "hello there", max_tokens=50))
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        r = await client.post("/v1/chat/completions", content=body)
        assert r.status_code == 200
        await gw.spend_log.flush()
        metrics = (await client.get("/metrics")).text
    [row] = spend_rows(store)
    estimate = input_estimate(body)
    reported = usage not in (None, ...)  # a usage was sent and failed the checks; else there was none
    assert row.tokens_estimated and row.usage_invalid == reported and not row.over_reservation
    assert (row.input_tokens, row.output_tokens) == (estimate, len("four words of text") // 4 + 1)
    assert row.cost_usd == pytest.approx((estimate * 1.0 + row.output_tokens * 2.0) / 1e6)
    assert row.cost_usd > 0 and row.reserved_usd is not None and row.cost_usd <= row.reserved_usd
    assert 'satisfice_gateway_tokens_estimated_total{route="small",upstream="a"} 1.0' in metrics
    assert ('satisfice_gateway_usage_invalid_total{route="small",upstream="a"} 1.0' in metrics) == reported
    report = gateway_report(store)
    assert report.routes[0].usage_invalid == report.upstreams[0].usage_invalid == int(reported)


async def test_negative_usage_never_credits_a_budget(store: Store, upstream: ScriptedServer) -> None:
    """The $-999.99 of an upstream reporting -1,000,000 tokens is not a credit: the budget still runs out."""
    upstream.set_script(lambda r: _answer({"prompt_tokens": 5, "completion_tokens": -1_000_000}))
    body = orjson.dumps(chat("small", "hi", max_tokens=1000))
    worst = (input_estimate(body) * 1.0 + 1000 * 2.0) / 1e6
    billed = (input_estimate(body) * 1.0 + 5 * 2.0) / 1e6  # the estimate: "four words of text" is 5 tokens
    budget = worst + 20.5 * billed
    key = create_key(store, budget_usd=budget).key
    gw = make_gateway(store, base_config(upstream.base_url, auth=True))
    async with running(gw, key) as client:
        statuses = [(await client.post("/v1/chat/completions", content=body)).status_code for _ in range(40)]
    rows = spend_rows(store)
    assert all(r.cost_usd == pytest.approx(billed) and r.usage_invalid for r in rows)
    assert statuses.count(200) == 21 and statuses[-1] == 429
    assert sum(r.cost_usd for r in rows) <= budget


async def test_oversized_usage_is_billed_in_full_and_flagged(store: Store, upstream: ScriptedServer) -> None:
    """An upstream ignoring max_tokens: billed what it reports, flagged over_reservation, budget then closed."""
    upstream.set_script(lambda r: Step.answer("long", prompt_tokens=10, completion_tokens=500_000_000 // 1000))
    body = orjson.dumps(chat("small", "hi", max_tokens=10))
    key = create_key(store, budget_usd=0.10).key
    gw = make_gateway(store, base_config(upstream.base_url, auth=True))
    async with running(gw, key) as client:
        first = await client.post("/v1/chat/completions", content=body)
        await gw.spend_log.flush()
        rest = await asyncio.gather(*(client.post("/v1/chat/completions", content=body) for _ in range(5)))
        metrics = (await client.get("/metrics")).text
    assert first.status_code == 200
    row = spend_rows(store)[0]
    assert row.over_reservation and not row.usage_invalid
    assert row.cost_usd == pytest.approx((10 * 1.0 + 500_000 * 2.0) / 1e6)  # $1.00001 on a $0.10 key
    assert row.reserved_usd is not None and row.cost_usd > row.reserved_usd
    assert {r.status_code for r in rest} == {429}
    assert 'satisfice_gateway_over_reservation_total{route="small",upstream="a"} 1.0' in metrics
    report = gateway_report(store)
    assert report.routes[0].over_reservation == 1 and report.upstreams[0].over_reservation == 1


_NO_USAGE_EVENTS = [{"choices": [{"index": 0, "delta": {"content": "a b c"}}]},
                    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
_NO_USAGE_STREAM = b"".join(b"data: " + orjson.dumps(e) + b"\n\n" for e in _NO_USAGE_EVENTS) + b"data: [DONE]\n\n"


@pytest.mark.parametrize(("step", "invalid"), [
    (Step.answer("a b c", prompt_tokens=4, completion_tokens=-7), True),  # a usage chunk that lies
    (Step.malformed(_NO_USAGE_STREAM), False),  # a 200 with exactly these events: no usage chunk at all
], ids=["negative-usage", "no-usage"])
async def test_stream_billed_the_estimate_flags_only_a_lying_usage(store: Store, upstream: ScriptedServer,
                                                                   step: Step, invalid: bool) -> None:
    upstream.set_script([step])
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        r = await client.post("/v1/chat/completions", json=chat("small", "hi", stream=True, max_tokens=20))
        assert r.status_code == 200 and "[DONE]" in r.text
        await asyncio.sleep(0.05)
        await gw.spend_log.flush()
    [row] = spend_rows(store)
    assert row.tokens_estimated and row.usage_invalid == invalid and row.cost_usd > 0
    assert row.output_tokens == 2  # "a b c": 5 characters, 4 to a token


async def test_cached_input_billed_at_its_price(store: Store, upstream: ScriptedServer) -> None:
    cfg = base_config(upstream.base_url)
    cfg["upstreams"][0]["prices"]["small"] = {"input_per_m": 1.0, "output_per_m": 2.0, "cached_input_per_m": 0.1}
    upstream.set_script([Step.answer("ok", prompt_tokens=1000, completion_tokens=10, cached_tokens=800)])
    gw = make_gateway(store, cfg)
    async with running(gw) as client:
        assert (await client.post("/v1/chat/completions", json=chat("small"))).status_code == 200
        await gw.spend_log.flush()
    [row] = spend_rows(store)
    assert row.cost_usd == pytest.approx((200 * 1.0 + 800 * 0.1 + 10 * 2.0) / 1e6)
    assert not row.usage_invalid and not row.tokens_estimated and not row.over_reservation
