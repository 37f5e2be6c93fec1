"""Circuit breakers per (upstream, model), and keys usable on every instance at once after creation."""

from __future__ import annotations

import time
from typing import Any

from satisfice.clients.scripted_server import ScriptedServer, Step
from satisfice.gateway.money.keys import create_key
from satisfice.store import Store

from .conftest import base_config, chat, make_gateway, running


async def test_one_failing_model_cools_down_only_itself(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(lambda r: Step.error(500, "big is broken") if r.body["model"] == "big" else "small answer")
    gw = make_gateway(store, base_config(upstream.base_url, circuit={"failures": 2, "cooldown_s": 60}))
    async with running(gw) as client:
        for _ in range(3):
            assert (await client.post("/v1/chat/completions", json=chat("big"))).status_code >= 500
        calls = len(upstream.received)
        assert calls == 2  # big@a is cooling down: the third request did not reach the upstream
        small = await client.post("/v1/chat/completions", json=chat("small"))
    assert small.status_code == 200 and small.json()["choices"][0]["message"]["content"] == "small answer"
    assert len(upstream.received) == calls + 1


async def test_a_new_key_works_at_once_and_unknown_keys_poll_at_most_once_per_interval(
        store: Store, upstream: ScriptedServer) -> None:
    cfg = base_config(upstream.base_url, auth=True, ledger={"key_poll_s": 1.0}, key_refresh_s=3600)
    gw = make_gateway(store, cfg)
    polls = 0
    inner = gw._key_miss._poll

    async def counted() -> None:
        nonlocal polls
        polls += 1
        await inner()

    gw._key_miss._poll = counted
    async with running(gw) as client:
        started = time.monotonic()
        key = create_key(store, budget_usd=5.0).key  # created after the gateway loaded its keys
        headers: dict[str, Any] = {"Authorization": f"Bearer {key}"}
        resp = await client.post("/v1/chat/completions", json=chat(), headers=headers)
        assert resp.status_code == 200, resp.text
        assert time.monotonic() - started < 1.0
        for n in range(50):
            bad = {"Authorization": f"Bearer sk-sat-unknown{n}"}
            assert (await client.post("/v1/chat/completions", json=chat(), headers=bad)).status_code == 401
        elapsed = time.monotonic() - started
    assert polls <= 2 + int(elapsed)  # one read per key-poll interval at most, whatever the unknown keys


async def test_a_new_key_works_at_once_on_the_models_and_feedback_endpoints(
        store: Store, upstream: ScriptedServer) -> None:
    """The same key rule on every endpoint: a key created after the gateway loaded its keys is found at once."""
    cfg = base_config(upstream.base_url, auth=True, ledger={"key_poll_s": 1.0}, key_refresh_s=3600)
    gw = make_gateway(store, cfg)
    async with running(gw) as client:
        key = create_key(store, budget_usd=5.0).key
        headers: dict[str, Any] = {"Authorization": f"Bearer {key}"}
        assert (await client.get("/v1/models", headers=headers)).status_code == 200
        unknown = await client.post("/v1/feedback", json={"request_id": "gw_0000000000000000:1", "score": 1},
                                    headers={"x-api-key": key})
        assert unknown.status_code == 404, unknown.text  # authorised; the request id is simply not this key's
