"""Every endpoint in-process (httpx.ASGITransport): answers, auth, bad input, metrics, spend rows."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from satisfice.clients.scripted_server import ScriptedServer
from satisfice.store import Store

from .conftest import FAKE_PROVIDER_KEY, base_config, chat, errors_of, make_gateway, running, spend_rows


def _assert_openai_error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in resp.text
    return body["error"]


async def test_chat_passthrough_relays_answer_and_logs_one_row(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(["hi there"])
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("small", "say hi", max_tokens=5))
    assert resp.status_code == 200
    data = resp.json()
    assert data["choices"][0]["message"]["content"] == "hi there"
    assert resp.headers["x-satisfice-model"] == "small"
    # the provider's own model name and key went upstream
    sent = upstream.received[0]
    assert sent.body["model"] == "small-wire"
    assert sent.headers["Authorization"] == f"Bearer {FAKE_PROVIDER_KEY}"
    rows = spend_rows(store)
    assert len(rows) == 1
    row = rows[0]
    assert (row.route, row.model, row.upstream, row.status, row.outcome) == ("small", "small", "a", 200, "ok")
    assert json.loads(row.models_tried) == ["small@a"]
    # scripted usage: prompt = 2 words, completion = 2 words; price 1/2 per M
    assert (row.input_tokens, row.output_tokens) == (2, 2)
    assert row.cost_usd == pytest.approx((2 * 1.0 + 2 * 2.0) / 1e6)
    assert row.key_id is None and row.escalations == 0 and errors_of(row) == []


async def test_completions_endpoint(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(["four"])
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        resp = await client.post("/v1/completions", json={"model": "big", "prompt": "2+2=", "max_tokens": 3})
    assert resp.status_code == 200
    assert resp.json()["choices"][0]["text"] == "four"
    assert upstream.received[0].path == "/v1/completions"
    assert spend_rows(store)[0].endpoint == "completions"


async def test_models_healthz_metrics(store: Store, upstream: ScriptedServer) -> None:
    cfg = base_config(upstream.base_url, routes={"sentiment": {"chain": ["small", "big"]}})
    gw = make_gateway(store, cfg)
    async with running(gw) as client:
        models = (await client.get("/v1/models")).json()
        assert models["object"] == "list"
        assert [m["id"] for m in models["data"]] == ["task/sentiment", "big", "small"]
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        await client.post("/v1/chat/completions", json=chat("task/sentiment"))
        await client.post("/v1/chat/completions", content=b"{nope")
        metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert 'satisfice_gateway_requests_total{route="task/sentiment",status="200"} 1.0' in text
    assert 'satisfice_gateway_rejections_total{reason="invalid_request"} 1.0' in text
    assert "satisfice_gateway_request_seconds_bucket" in text


async def test_auth_required_by_default(store: Store, upstream: ScriptedServer, new_key: Any) -> None:
    cfg = base_config(upstream.base_url, auth=True)
    key = new_key()
    gw = make_gateway(store, cfg)
    async with running(gw) as client:
        missing = await client.post("/v1/chat/completions", json=chat())
        wrong = await client.post("/v1/chat/completions", json=chat(), headers={"Authorization": "Bearer sk-sat-no"})
        other_scheme = await client.post("/v1/chat/completions", json=chat(), headers={"Authorization": key})
        models_denied = await client.get("/v1/models")
        ok = await client.post("/v1/chat/completions", json=chat(), headers={"Authorization": f"Bearer {key}"})
        models_ok = await client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
        metrics = gw.metrics.value("satisfice_gateway_rejections_total", {"reason": "invalid_api_key"})
    for resp in (missing, wrong, other_scheme, models_denied):
        assert _assert_openai_error(resp, 401)["code"] == "invalid_api_key"
    assert ok.status_code == 200 and models_ok.status_code == 200
    rows = spend_rows(store)
    assert len(rows) == 1 and rows[0].key_id is not None
    assert metrics == 4


async def test_revoked_key_is_refused_after_refresh(store: Store, upstream: ScriptedServer, new_key: Any) -> None:
    from satisfice.gateway.money.keys import list_keys, revoke_key

    key = new_key()
    gw = make_gateway(store, base_config(upstream.base_url, auth=True))
    async with running(gw, key) as client:
        assert (await client.post("/v1/chat/completions", json=chat())).status_code == 200
        revoke_key(store, list_keys(store)[0].id)
        await gw.refresh_keys()
        assert (await client.post("/v1/chat/completions", json=chat())).status_code == 401


BAD_BODIES: list[tuple[str, bytes, int, str | None]] = [
    ("invalid json", b"{not json", 400, None),
    ("not an object", b"[1, 2]", 400, None),
    ("missing model", orjson.dumps({"messages": [{"role": "user", "content": "x"}]}), 400, "model"),
    ("model wrong type", orjson.dumps({"model": 3, "messages": [{"role": "user", "content": "x"}]}), 400, "model"),
    ("missing messages", orjson.dumps({"model": "small"}), 400, "messages"),
    ("messages not list", orjson.dumps({"model": "small", "messages": "hi"}), 400, "messages"),
    ("empty messages", orjson.dumps({"model": "small", "messages": []}), 400, "messages"),
    ("message without role", orjson.dumps({"model": "small", "messages": [{"content": "x"}]}), 400, "messages[0]"),
    ("content wrong type", orjson.dumps({"model": "small", "messages": [{"role": "user", "content": 5}]}), 400,
     "messages[0].content"),
    ("stream wrong type", orjson.dumps(chat(stream="yes")), 400, "stream"),
    ("max_tokens wrong type", orjson.dumps(chat(max_tokens="10")), 400, "max_tokens"),
    ("max_tokens negative", orjson.dumps(chat(max_tokens=-1)), 400, "max_tokens"),
    ("temperature wrong type", orjson.dumps(chat(temperature="hot")), 400, "temperature"),
    ("unknown model", orjson.dumps(chat("no-such-model")), 404, "model"),
    ("unknown route", orjson.dumps(chat("task/nope")), 404, "model"),
]


@pytest.mark.parametrize(("name", "body", "status", "param"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
async def test_bad_input_is_rejected_without_spend_rows(store: Store, upstream: ScriptedServer, name: str,
                                                        body: bytes, status: int, param: str | None) -> None:
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", content=body,
                                 headers={"content-type": "application/json"})
        rejected = sum(s.value for m in gw.metrics.registry.collect() for s in m.samples
                       if s.name == "satisfice_gateway_rejections_total")
    err = _assert_openai_error(resp, status)
    assert err["param"] == param
    assert upstream.received == []
    assert spend_rows(store) == []
    assert rejected == 1


async def test_completions_bad_prompt(store: Store, upstream: ScriptedServer) -> None:
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        missing = await client.post("/v1/completions", json={"model": "small"})
        wrong = await client.post("/v1/completions", json={"model": "small", "prompt": {"a": 1}})
    assert _assert_openai_error(missing, 400)["param"] == "prompt"
    assert _assert_openai_error(wrong, 400)["param"] == "prompt"
    assert spend_rows(store) == []


async def test_oversized_body_413(store: Store, upstream: ScriptedServer) -> None:
    gw = make_gateway(store, base_config(upstream.base_url, limits={"max_body_bytes": 2000}))
    big = orjson.dumps(chat(text="x" * 5000))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", content=big)

        async def chunks() -> Any:  # no content-length: the limit is enforced while reading
            for i in range(0, len(big), 500):
                yield big[i:i + 500]

        chunked = await client.post("/v1/chat/completions", content=chunks())
        fits = await client.post("/v1/chat/completions", json=chat(text="x" * 100))
    assert _assert_openai_error(resp, 413)["code"] == "body_too_large"
    assert _assert_openai_error(chunked, 413)["code"] == "body_too_large"
    assert fits.status_code == 200
    assert len(spend_rows(store)) == 1


async def test_unknown_path_and_method(store: Store, upstream: ScriptedServer) -> None:
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        missing = await client.get("/v1/nothing")
        method = await client.get("/v1/chat/completions")
    _assert_openai_error(missing, 404)
    _assert_openai_error(method, 405)


async def test_upstream_client_error_is_returned_not_retried(store: Store, upstream: ScriptedServer,
                                                             upstream2: ScriptedServer) -> None:
    from satisfice.clients.scripted_server import Step

    upstream.set_script([Step.error(400, "context length exceeded")])
    gw = make_gateway(store, base_config(upstream.base_url, upstream2.base_url))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
    err = _assert_openai_error(resp, 400)
    assert err["code"] == "upstream_rejected" and "context length exceeded" in err["message"]
    assert upstream2.received == []
    rows = spend_rows(store)
    assert len(rows) == 1 and rows[0].status == 400
