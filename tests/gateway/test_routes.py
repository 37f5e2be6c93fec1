"""Route policies: explicit chains, from_eval decisions, verifiers and escalation, streaming with and without."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from satisfice.clients.scripted_server import Received, ScriptedServer, Step
from satisfice.core import ModelRef
from satisfice.errors import ConfigError
from satisfice.store import Store

from .conftest import base_config, chat, errors_of, make_gateway, running, spend_rows


def by_model(answers: dict[str, str | Step]) -> Any:
    def script(received: Received) -> str | Step:
        return answers[received.body["model"]]

    return script


def sse_events(text: str) -> list[Any]:
    out = []
    for block in text.split("\n\n"):
        block = block.strip()
        if block.startswith("data: "):
            payload = block[6:]
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def route_cfg(url: str, **route: Any) -> dict[str, Any]:
    return base_config(url, routes={"sentiment": {"chain": ["small", "big"], **route}})


async def test_chain_without_verifiers_serves_first_model(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(by_model({"small-wire": "positive", "big": "negative"}))
    gw = make_gateway(store, route_cfg(upstream.base_url))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    assert resp.json()["choices"][0]["message"]["content"] == "positive"
    assert resp.headers["x-satisfice-route"] == "task/sentiment"
    row = spend_rows(store)[0]
    assert row.route == "task/sentiment" and row.model == "small" and row.escalations == 0
    # the reference is the chain's last model: what big would have cost for the same tokens (price 10/20 per M)
    assert row.reference_cost_usd == pytest.approx((row.input_tokens * 10 + row.output_tokens * 20) / 1e6)


@pytest.mark.parametrize(("verifier", "bad", "good"), [
    ("non_empty", "   ", "positive"),
    ({"regex": "positive|negative"}, "I think it is positive", "negative"),
    ({"max_length": 8}, "positive, clearly so", "positive"),
    ({"json": True}, "{'label': 1}", '{"label": "positive"}'),
    ({"json": {"schema": {"type": "object", "required": ["label"],
                          "properties": {"label": {"enum": ["positive", "negative"]}}}}},
     '{"label": "meh"}', '```json\n{"label": "positive"}\n```'),
])
async def test_verifier_failure_escalates(store: Store, upstream: ScriptedServer, verifier: Any, bad: str,
                                          good: str) -> None:
    upstream.set_script(by_model({"small-wire": bad, "big": good}))
    gw = make_gateway(store, route_cfg(upstream.base_url, verifiers=[verifier]))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
        escalations = gw.metrics.value("satisfice_gateway_escalations_total", {"route": "task/sentiment"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == good
    assert resp.headers["x-satisfice-model"] == "big" and resp.headers["x-satisfice-escalations"] == "1"
    row = spend_rows(store)[0]
    assert row.model == "big" and row.escalations == 1
    assert json.loads(row.models_tried) == ["small@a", "big@a"]
    assert "rejected by" in errors_of(row)[0]
    # both answers were paid for: the cheap one that failed and the one served
    assert row.cost_usd > row.reference_cost_usd > 0
    assert escalations == 1


async def test_passing_answer_is_not_escalated(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(by_model({"small-wire": "positive", "big": "negative"}))
    gw = make_gateway(store, route_cfg(upstream.base_url, verifiers=[{"regex": "positive|negative"}]))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    assert resp.headers["x-satisfice-model"] == "small"
    assert len(upstream.received) == 1


@pytest.mark.parametrize("on_exhausted", ["error", "last"])
async def test_every_model_fails_verification(store: Store, upstream: ScriptedServer, on_exhausted: str) -> None:
    upstream.set_script(by_model({"small-wire": "", "big": ""}))
    gw = make_gateway(store, route_cfg(upstream.base_url, verifiers=["non_empty"], on_exhausted=on_exhausted))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    row = spend_rows(store)[0]
    assert row.escalations == 2
    if on_exhausted == "error":
        assert resp.status_code == 502
        assert resp.json()["error"]["code"] == "verification_failed"
        assert row.status == 502 and row.model is None
    else:
        assert resp.status_code == 200 and resp.headers["x-satisfice-verified"] == "false"
        assert row.outcome == "unverified" and row.model == "big"


def check_is_yes(text: str, payload: dict[str, Any]) -> bool | str:
    return True if text == "yes" else f"wanted yes, got {text!r}"


async def test_custom_verifier(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(by_model({"small-wire": "no", "big": "yes"}))
    gw = make_gateway(store, route_cfg(upstream.base_url, verifiers=[{"custom": f"{__name__}:check_is_yes"}]))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    assert resp.json()["choices"][0]["message"]["content"] == "yes"
    assert "wanted yes, got 'no'" in errors_of(spend_rows(store)[0])[0]


async def test_streaming_with_verifiers_buffers_then_streams(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(by_model({"small-wire": "garbage", "big": "positive"}))
    gw = make_gateway(store, route_cfg(upstream.base_url, verifiers=[{"regex": "positive|negative"}]))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions",
                                 json=chat("task/sentiment", stream=True, stream_options={"include_usage": True}))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    events = sse_events(resp.text)
    assert events[-1] == "[DONE]"
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1] if e["choices"])
    assert text == "positive"
    assert events[-2]["usage"]["completion_tokens"] == 1
    # upstream was asked without streaming, so the answer could be verified before anything was sent
    assert all(r.body.get("stream") is None for r in upstream.received)
    assert spend_rows(store)[0].escalations == 1


async def test_streaming_without_verifiers_relays(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(["one two three"])
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat(stream=True))
    events = sse_events(resp.text)
    assert events[-1] == "[DONE]"
    # the usage chunk the gateway asked for is not forwarded (the client did not ask for it)
    assert all(e["choices"] for e in events[:-1])
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1]) == "one two three"
    assert upstream.received[0].body["stream_options"] == {"include_usage": True}
    row = spend_rows(store)[0]
    assert row.stream and row.outcome == "ok" and row.output_tokens == 3 and not row.tokens_estimated


async def test_streaming_completions_relay(store: Store, upstream: ScriptedServer) -> None:
    upstream.set_script(["a b"])
    gw = make_gateway(store, base_config(upstream.base_url))
    async with running(gw) as client:
        resp = await client.post("/v1/completions", json={"model": "small", "prompt": "x", "stream": True,
                                                          "stream_options": {"include_usage": True}})
    events = sse_events(resp.text)
    assert "".join(e["choices"][0]["text"] for e in events[:-1] if e["choices"]) == "a b"
    assert any(e.get("usage") for e in events[:-1])


def _save_decision(store: Store, url: str, *, passing: list[str], reference: str) -> None:
    from satisfice.evals.decisions import save_decision

    candidates = {m: ModelRef(m, base_url=url, api_key_env="GW_TEST_PROVIDER_KEY", provider_model=f"{m}-wire")
                  for m in (*passing, reference)}
    save_decision(store, task="sentiment", passing=passing, reference=reference, candidates=candidates,
                  recommended=passing[0] if passing else None, run_id=None)


async def test_from_eval_uses_latest_decision(store: Store, upstream: ScriptedServer) -> None:
    _save_decision(store, upstream.base_url, passing=["big"], reference="small")  # an older decision
    _save_decision(store, upstream.base_url, passing=["small", "mid"], reference="big")
    cfg = base_config(upstream.base_url, routes={"sentiment": {"from_eval": "sentiment", "verifiers": ["non_empty"]}})
    # "mid" is served by no upstream in the config: it is reached where the eval reached it
    cfg["prices"] = {"mid": {"input_per_m": 3, "output_per_m": 4}}
    gw = make_gateway(store, cfg)
    plan = gw.router.plan("task/sentiment")
    assert plan is not None
    assert [t.model for t in plan.targets] == ["small", "mid", "big"]
    assert plan.targets[1].upstreams[0].name == "eval:mid"
    upstream.set_script(by_model({"small-wire": "", "mid-wire": "fine", "big": "x"}))
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    assert resp.json()["choices"][0]["message"]["content"] == "fine"
    assert spend_rows(store)[0].model == "mid"


def test_from_eval_without_decision_is_a_config_error(store: Store, upstream: ScriptedServer) -> None:
    cfg = base_config("http://127.0.0.1:9/v1", routes={"sentiment": {"from_eval": "sentiment"}})
    with pytest.raises(ConfigError, match="no stored eval decision for task 'sentiment'"):
        make_gateway(store, cfg)


def test_model_without_price_is_a_config_error(store: Store) -> None:
    cfg = base_config("http://127.0.0.1:9/v1")
    cfg["upstreams"][0]["models"]["unpriced"] = None
    with pytest.raises(ConfigError, match="no price for model 'unpriced'"):
        make_gateway(store, cfg)


def test_scorer_verifier_needs_task_file(store: Store, tmp_path: Path) -> None:
    from satisfice.gateway.routes.config import parse_config

    text = orjson.dumps(route_cfg("http://127.0.0.1:9/v1", verifiers=[{"scorer": {"min_score": 1}}])).decode()
    with pytest.raises(ConfigError, match="task_file"):
        parse_config(text)


async def test_client_disconnect_mid_stream_stops_the_relay(store: Store, upstream: ScriptedServer) -> None:
    import asyncio

    upstream.set_script([Step.answer(" ".join(f"w{i}" for i in range(20)), chunk_delay_s=0.05)])
    gw = make_gateway(store, base_config(upstream.base_url))
    body = orjson.dumps(chat(stream=True))
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/v1/chat/completions", "raw_path": b"/v1/chat/completions",
             "query_string": b"", "root_path": "", "headers": [(b"content-type", b"application/json")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    gone = asyncio.Event()
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            if gone.is_set():
                return  # like uvicorn: sends after a disconnect go nowhere
            chunks.append(message["body"])
            if len(chunks) == 3:
                gone.set()

    async with gw.running():
        await gw.app(scope, receive, send)
    (row,) = spend_rows(store)
    assert row.outcome == "interrupted" and "client disconnected" in errors_of(row)
    assert b"[DONE]" not in b"".join(chunks)
    # the relay stopped early: far fewer of the 20 words were read than the upstream would have sent
    assert row.output_tokens < 10


LABEL_CHECK = """
from satisfice.core import Score


def check(sample, completion):
    assert sample.target is None and sample.fields["input"] == "hello"
    return Score(1.0 if completion.text in ("positive", "negative") else 0.0, "label expected")


check.needs_reference = False
"""


async def test_scorer_verifier_uses_the_task_scorer(store: Store, upstream: ScriptedServer, tmp_path: Path) -> None:
    """The real path: task file -> custom scorer module beside it -> scorer verifier on the request's text."""
    (tmp_path / "label_check.py").write_text(LABEL_CHECK, encoding="utf-8")
    _write_task(tmp_path, "  type: label_check:check\n")
    upstream.set_script(by_model({"small-wire": "dunno", "big": "negative"}))
    cfg = route_cfg(upstream.base_url, verifiers=[{"scorer": {"min_score": 1.0}}], task_file="task.yaml")
    gw = make_gateway(store, cfg, tmp_path)
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    assert resp.json()["choices"][0]["message"]["content"] == "negative"
    assert "scorer gave 0 (< 1): label expected" in errors_of(spend_rows(store)[0])[0]


def test_scorer_verifier_refuses_a_scorer_that_needs_a_reference(store: Store, tmp_path: Path) -> None:
    _write_task(tmp_path, "  type: exact\n")
    cfg = route_cfg("http://127.0.0.1:9/v1", verifiers=["scorer"], task_file="task.yaml")
    with pytest.raises(ConfigError, match="needs a reference answer"):
        make_gateway(store, cfg, tmp_path)


def test_a_bad_task_file_is_a_config_error_naming_it(store: Store, tmp_path: Path) -> None:
    _write_task(tmp_path, "  type: exakt\n")
    cfg = route_cfg("http://127.0.0.1:9/v1", verifiers=["scorer"], task_file="task.yaml")
    with pytest.raises(ConfigError, match=r"task.yaml, line 8, field 'scorer.type': unknown scorer 'exakt'"):
        make_gateway(store, cfg, tmp_path)


async def test_price_from_the_catalog_when_the_config_sets_none(store: Store, upstream: ScriptedServer) -> None:
    import datetime as dt

    from satisfice.catalog.batch import ImportBatch
    from satisfice.catalog.repository import apply_batch
    from satisfice.catalog.rows import ModelRow, OfferRow

    apply_batch(store, ImportBatch("test", models=[ModelRow("cataloged", "Cataloged")],
                                   offers=[OfferRow("cataloged", "acme", dt.date(2024, 1, 1), 5.0, 7.0)]))
    cfg = base_config(upstream.base_url)
    cfg["upstreams"][0]["models"]["cataloged"] = None
    upstream.set_script([Step.answer("x", prompt_tokens=1000, completion_tokens=1000)])
    gw = make_gateway(store, cfg)
    async with running(gw) as client:
        assert (await client.post("/v1/chat/completions", json=chat("cataloged"))).status_code == 200
    assert spend_rows(store)[0].cost_usd == pytest.approx((1000 * 5.0 + 1000 * 7.0) / 1e6)


def _write_task(tmp_path: Path, scorer: str) -> None:
    (tmp_path / "data.jsonl").write_text('{"review": "great", "label": "positive"}\n', encoding="utf-8")
    (tmp_path / "task.yaml").write_text(
        "name: sentiment\ndataset:\n  path: data.jsonl\n  fields: {text: review, target: label}\n"
        f"prompt:\n  user: 'Review: {{{{ text }}}}'\nscorer:\n{scorer}", encoding="utf-8")


async def test_real_task_scorer_as_verifier(store: Store, upstream: ScriptedServer,
                                                       tmp_path: Path) -> None:
    _write_task(tmp_path, "  type: regex\n  options: {pattern: '^(positive|negative)$', match_only: true}\n")
    upstream.set_script(by_model({"small-wire": "maybe", "big": "negative"}))
    cfg = route_cfg(upstream.base_url, verifiers=[{"scorer": {"min_score": 1}}], task_file="task.yaml")
    gw = make_gateway(store, cfg, tmp_path)
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    assert resp.json()["choices"][0]["message"]["content"] == "negative"
    assert "rejected by scorer: scorer gave 0" in errors_of(spend_rows(store)[0])[0]


async def test_real_task_scorer_scores_shadow_agreement(store: Store, upstream: ScriptedServer,
                                                        tmp_path: Path) -> None:
    from .conftest import shadow_rows

    _write_task(tmp_path, "  type: normalized\n")  # needs a reference: fine for shadows, not for verifiers
    upstream.set_script(by_model({"small-wire": "Positive!", "big": "positive"}))
    cfg = route_cfg(upstream.base_url, task_file="task.yaml", shadow={"share": 1.0, "reference": "big"})
    gw = make_gateway(store, cfg, tmp_path, rng=lambda: 0.0)
    async with running(gw) as client:
        await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    (row,) = shadow_rows(store)
    assert row.method == "scorer" and row.agreement == 1.0
    cfg["routes"]["sentiment"]["verifiers"] = ["scorer"]
    with pytest.raises(ConfigError, match="needs a reference answer"):
        make_gateway(store, cfg, tmp_path)


async def test_from_eval_routes_follow_a_newer_decision(store: Store, upstream: ScriptedServer) -> None:
    _save_decision(store, upstream.base_url, passing=["small"], reference="big")
    cfg = base_config(upstream.base_url, routes={"sentiment": {"from_eval": "sentiment"}})
    gw = make_gateway(store, cfg)
    upstream.set_script(by_model({"small-wire": "from small", "big": "from big"}))
    async with running(gw) as client:
        assert not await gw.refresh_routes()  # nothing new
        first = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
        _save_decision(store, upstream.base_url, passing=[], reference="big")  # small no longer passes
        assert await gw.refresh_routes()
        second = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
        _save_decision(store, upstream.base_url, passing=["unpriced"], reference="big")
        assert not await gw.refresh_routes()  # cannot be served (no price): the current routes stay
        third = await client.post("/v1/chat/completions", json=chat("task/sentiment"))
    assert first.json()["choices"][0]["message"]["content"] == "from small"
    assert second.json()["choices"][0]["message"]["content"] == "from big"
    assert third.json()["choices"][0]["message"]["content"] == "from big"
    assert [r.model for r in spend_rows(store)] == ["small", "big", "big"]
