"""Feedback on served requests (by the x-satisfice-request-id header), and verifier and shadow outcomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from satisfice.clients.scripted_server import Received, ScriptedServer, Step
from satisfice.store import Store
from satisfice.store.schema_outcomes import GatewayContent, GatewayOutcome

from .conftest import base_config, chat, make_gateway, running


def outcomes(store: Store) -> list[GatewayOutcome]:
    with store.session() as s:
        return list(s.scalars(select(GatewayOutcome).order_by(GatewayOutcome.id)))


def contents(store: Store) -> list[GatewayContent]:
    with store.session() as s:
        return list(s.scalars(select(GatewayContent)))


def by_model(small: str, big: str = "positive") -> Callable[[Received], str | Step]:
    return lambda received: small if received.body["model"] == "small-wire" else big


def route(**extra: Any) -> dict[str, Any]:
    return {"sentiment": {"chain": ["small", "big"], "verifiers": [{"regex": "positive|negative"}],
                          "feedback": {"labels": {"good": 1, "bad": 0}}, **extra}}


async def test_feedback_is_recorded_replaced_and_kept(store: Store, upstream: ScriptedServer,
                                                      new_key: Callable[..., str]) -> None:
    key, other = new_key(), new_key()
    upstream.set_script(by_model("positive"))
    gw = make_gateway(store, base_config(upstream.base_url, auth=True, routes=route()))
    async with running(gw, key) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
        request_id = resp.headers["x-satisfice-request-id"]
        first = await client.post("/v1/feedback", json={"request_id": request_id, "score": 0.25})
        second = await client.post("/v1/feedback", json={"request_id": request_id, "score": "good",
                                                         "comment": "right answer"})
        third = await client.post("/feedback", json={"request_id": request_id, "score": 1})
        unknown = await client.post("/v1/feedback", json={"request_id": "gw_0123456789abcdef:99", "score": 1})
        stranger = await client.post("/v1/feedback", json={"request_id": request_id, "score": 0},
                                     headers={"Authorization": f"Bearer {other}"})
        nokey = await client.post("/v1/feedback", json={"request_id": request_id, "score": 0},
                                  headers={"Authorization": "Bearer sk-sat-nope"})
        label = await client.post("/v1/feedback", json={"request_id": request_id, "score": "meh"})
        out_of_range = await client.post("/v1/feedback", json={"request_id": request_id, "score": 1.5})
        boolean = await client.post("/v1/feedback", json={"request_id": request_id, "score": True})
        missing = await client.post("/v1/feedback", json={"score": 1})
        nested = await client.post("/v1/feedback", content=b'{"request_id": ' + b"[" * 100 + b"]" * 100 + b"}")
        wrong = await client.get("/v1/feedback")
    assert resp.status_code == 200 and request_id.startswith("gw_")
    assert first.status_code == 200 and first.json() == {"request_id": request_id, "recorded": True}
    assert second.status_code == 200 and third.status_code == 200
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "request_not_found"
    assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "request_not_found"
    assert nokey.status_code == 401
    assert label.status_code == 400 and "bad, good" in label.json()["error"]["message"]
    assert out_of_range.status_code == 400 and boolean.status_code == 400
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "request_id"
    assert nested.status_code == 400 and nested.json()["error"]["code"] == "nesting_too_deep"
    assert wrong.status_code == 405
    feedback = [o for o in outcomes(store) if o.kind == "feedback"]
    assert [(o.score, o.label, o.superseded) for o in feedback] == [(0.25, None, True), (1.0, "good", True),
                                                                   (1.0, None, False)]
    assert feedback[1].comment == "right answer" and all(o.route == "task/sentiment" for o in feedback)
    assert all(o.model == "small" and o.key_id == feedback[0].key_id for o in feedback)


async def test_feedback_right_after_the_answer_finds_a_queued_row(store: Store, upstream: ScriptedServer) -> None:
    cfg = base_config(upstream.base_url, spend_log={"flush_interval_s": 30})
    gw = make_gateway(store, cfg)
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
        fb = await client.post("/v1/feedback", json={"request_id": resp.headers["x-satisfice-request-id"],
                                                     "score": 0})
    assert fb.status_code == 200
    assert [(o.kind, o.model, o.route, o.score) for o in outcomes(store)] == [("feedback", "small", "small", 0.0)]


async def test_every_answer_carries_a_request_id(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(by_model("no idea", "no idea either"))
    gw = make_gateway(store, base_config(upstream.base_url, routes=route()))
    async with running(gw) as client:
        failed = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
        rejected = await client.post("/v1/chat/completions", json=chat("nope"))
        streamed = await client.post("/v1/chat/completions", json=chat(stream=True))
        fb = await client.post("/v1/feedback", json={"request_id": rejected.headers["x-satisfice-request-id"],
                                                     "score": 1})
    ids = [r.headers["x-satisfice-request-id"] for r in (failed, rejected, streamed)]
    assert failed.status_code == 502 and rejected.status_code == 404 and streamed.status_code == 200
    assert len(set(ids)) == 3 and all(i.startswith("gw_") for i in ids)
    assert fb.status_code == 404  # a rejected request has no spend row to score


async def test_verifier_verdicts_and_shadow_agreement_are_outcomes(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(by_model("nonsense"))
    cfg = base_config(upstream.base_url, routes=route(shadow={"share": 1.0, "reference": "big"}))
    gw = make_gateway(store, cfg, rng=lambda: 0.0)
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
        upstream.set_script(by_model("positive"))
        resp2 = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    first, second = resp.headers["x-satisfice-request-id"], resp2.headers["x-satisfice-request-id"]
    rows = [(o.request_id, o.kind, o.model, o.score) for o in outcomes(store)]
    assert (first, "verifier", "small", 0.0) in rows and (first, "verifier", "big", 1.0) in rows
    assert (second, "verifier", "small", 1.0) in rows and (second, "shadow", "small", 1.0) in rows
    assert len(rows) == 4  # big answered the first itself: no shadow check against itself


async def test_content_is_kept_only_for_routes_that_opt_in_and_masked(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(by_model("positive"))
    routes = route(log_content=True)
    routes["plain"] = {"chain": ["small"]}
    gw = make_gateway(store, base_config(upstream.base_url, routes=routes))
    secret = "sk-proj-" + "A1b2C3d4E5f6G7h8J9k0" * 2
    async with running(gw) as client:
        await client.post("/v1/chat/completions", json=chat("task/sentiment", text=f"my key is {secret}"))
        await client.post("/v1/chat/completions", json=chat("task/plain", text="not kept"))
    rows = contents(store)
    assert len(rows) == 1 and rows[0].route == "task/sentiment" and rows[0].answer == "positive"
    assert secret not in rows[0].prompt and rows[0].prompt.startswith("user: my key is")


async def test_feedback_takes_the_key_the_way_the_chat_endpoint_does(store: Store, upstream: ScriptedServer,
                                                                     new_key: Callable[..., str]) -> None:
    """Anthropic-style clients send ``x-api-key``: feedback reads the key by the same rule as every endpoint."""
    key = new_key()
    upstream.set_script(by_model("positive"))
    gw = make_gateway(store, base_config(upstream.base_url, auth=True, routes=route()))
    async with running(gw, key) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
        body = {"request_id": resp.headers["x-satisfice-request-id"], "score": 1}
        by_x_api_key = await client.post("/v1/feedback", json=body, headers={"Authorization": "", "x-api-key": key})
        wrong_x_api_key = await client.post("/v1/feedback", json=body,
                                            headers={"Authorization": "", "x-api-key": "sk-sat-nope"})
    assert by_x_api_key.status_code == 200 and by_x_api_key.json()["recorded"] is True
    assert wrong_x_api_key.status_code == 401
