"""The gateway as a real server process (``python -m satisfice gateway serve``) in front of a scripted upstream."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from satisfice.clients.scripted_server import ScriptedServerThread, Step
from satisfice.gateway.money.keys import create_key
from satisfice.store import open_store

from .conftest import FAKE_PROVIDER_KEY, base_config, spend_rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[Any], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gateway exited early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("gateway did not become ready")


def serve(config: Path, db: str, stdout: int) -> tuple[subprocess.Popen[str], str]:
    """``satisfice gateway serve`` in its own process on a free port (the provider key in its environment)."""
    port = free_port()
    env = {**os.environ, "SATISFICE_NO_BUNDLED": "1", "GW_TEST_PROVIDER_KEY": FAKE_PROVIDER_KEY}
    proc = subprocess.Popen([sys.executable, "-m", "satisfice", "--db", db, "gateway", "serve", "--config",
                             str(config), "--port", str(port)], env=env, stdout=stdout, stderr=subprocess.PIPE,
                            text=True)
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with ScriptedServerThread(default="hello from upstream") as upstream:
        cfg = base_config(upstream.base_url, auth=True, spend_log={"flush_interval_s": 60})  # rows wait for shutdown
        config = tmp_path / "gateway.yaml"
        config.write_text(yaml.safe_dump(cfg))
        db = f"sqlite:///{tmp_path / 'gw.db'}"
        store = open_store(db)
        key = create_key(store, budget_usd=10).key
        proc, url = serve(config, db, stdout=subprocess.PIPE)
        try:
            wait_ready(url, proc)
            yield {"url": url, "key": key, "proc": proc, "store": store, "upstream": upstream}
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
            store.close()


def test_real_server_serves_streams_and_flushes_on_shutdown(server: dict[str, Any]) -> None:
    url, key, proc, store = server["url"], server["key"], server["proc"], server["store"]
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "small", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        answers = [client.post("/v1/chat/completions", json=body) for _ in range(5)]
        assert all(r.status_code == 200 for r in answers)
        assert answers[0].json()["choices"][0]["message"]["content"] == "hello from upstream"
        server["upstream"].set_script([Step.answer("a b c d", chunk_delay_s=0.05)])
        pieces = []
        with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            for line in resp.iter_lines():
                if line.startswith("data: "):
                    pieces.append(line[6:])
        assert pieces[-1] == "[DONE]"
        assert "".join(json.loads(p)["choices"][0]["delta"].get("content") or "" for p in pieces[:-1]) == "a b c d"
        denied = client.post("/v1/chat/completions", json=body, headers={"Authorization": "Bearer nope"})
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "invalid_api_key"
        bad = client.post("/v1/chat/completions", content=b"{", headers={"content-type": "application/json"})
        assert bad.status_code == 400
        metrics = client.get("/metrics").text
        assert 'satisfice_gateway_requests_total{route="small",status="200"} 6.0' in metrics
    assert spend_rows(store) == []  # the writer interval is 60 s: nothing written yet
    proc.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully (lifespan included), then re-raises the signal: exit status -SIGTERM
    assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
    rows = spend_rows(store)
    assert len(rows) == 6  # every admitted request, none of the rejected ones, written at shutdown
    assert {r.stream for r in rows} == {False, True}
    output = (proc.stdout.read() if proc.stdout else "") + (proc.stderr.read() if proc.stderr else "")
    assert FAKE_PROVIDER_KEY not in output and "Traceback" not in output


def test_openai_sdk_works_unchanged(server: dict[str, Any]) -> None:
    import openai

    client = openai.OpenAI(base_url=server["url"] + "/v1", api_key=server["key"])
    answer = client.chat.completions.create(model="small", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "hello from upstream"
    stream = client.chat.completions.create(model="small", messages=[{"role": "user", "content": "hi"}],
                                            stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "hello from upstream"
    assert [m.id for m in client.models.list()] == ["big", "small"]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    stranger = openai.OpenAI(base_url=server["url"] + "/v1", api_key="sk-not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        stranger.chat.completions.create(model="small", messages=[{"role": "user", "content": "hi"}])
    assert refused.value.status_code == 401
