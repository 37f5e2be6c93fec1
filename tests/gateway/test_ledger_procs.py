"""Real gateway processes on one store: one budget across them, kill -9 under load, restart after a crash.

Each test runs on SQLite, and on PostgreSQL when ``SATISFICE_TEST_PG_URL`` is set (scripts/with_postgres.sh).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from satisfice.clients.scripted_server import ScriptedServerThread, Step
from satisfice.gateway.money.keys import create_key, revoke_key, set_budget
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewayLease

from .conftest import FAKE_PROVIDER_KEY, base_config, spend_rows
from .test_server import free_port, wait_ready

COST = 0.02  # each answer: 10,000 completion tokens at $2 per million
BODY = {"model": "small", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10_000}


class Fleet:
    """Gateway processes started from one config on one store, sharing SATISFICE_HOME (the journal folder)."""

    def __init__(self, tmp: Path, db_url: str, cfg: dict[str, Any]) -> None:
        self.config = tmp / "gateway.yaml"
        self.config.write_text(yaml.safe_dump(cfg))
        self.db_url = db_url
        self.env = {**os.environ, "SATISFICE_NO_BUNDLED": "1", "GW_TEST_PROVIDER_KEY": FAKE_PROVIDER_KEY,
                    "SATISFICE_HOME": str(tmp / "home")}
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, workers: int = 1) -> str:
        port = free_port()
        self.log = self.config.parent / f"gateway-{len(self.procs)}.log"
        proc = subprocess.Popen([sys.executable, "-m", "satisfice", "--db", self.db_url, "gateway", "serve",
                                 "--config", str(self.config), "--port", str(port), "--workers", str(workers)],
                                env=self.env, stdout=subprocess.DEVNULL, stderr=self.log.open("w"), text=True,
                                start_new_session=True)
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, proc)
        return url

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def upstream() -> Iterator[ScriptedServerThread]:
    with ScriptedServerThread(default="ok") as server:
        server.set_script(lambda r: Step.answer("ok", prompt_tokens=0, completion_tokens=10_000, delay_s=0.005))
        yield server


@pytest.fixture
def fleet(tmp_path: Path, db_url: str, upstream: ScriptedServerThread) -> Iterator[Fleet]:
    cfg = base_config(upstream.base_url, auth=True, spend_log={"flush_interval_s": 0.2})
    f = Fleet(tmp_path, db_url, cfg)
    try:
        yield f
    finally:
        f.stop()


async def _load(urls: list[str], key: str, total: int, concurrency: int,
                stop_after: int | None = None, body: dict[str, Any] = BODY) -> list[int]:
    """``total`` requests spread over ``urls``; statuses of the answers received (-1: no answer).

    A streamed answer counts as received (200) only when its final ``[DONE]`` event arrived.
    """
    statuses: list[int] = []
    queue = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        for n in queue:
            if stop_after is not None and statuses.count(200) >= stop_after:
                return
            try:
                r = await client.post(urls[n % len(urls)] + "/v1/chat/completions", json=body)
                complete = not body.get("stream") or r.text.rstrip().endswith("data: [DONE]")
                statuses.append(r.status_code if complete else -1)
                if not complete:
                    return
            except httpx.HTTPError:
                statuses.append(-1)
                return  # the gateway is gone

    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=20, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return statuses


def _spent(store: Store, key_id: str | None = None) -> float:
    return sum(r.cost_usd for r in spend_rows(store) if key_id is None or r.key_id == key_id)


def _wait_rows(store: Store, n: int, timeout_s: float = 10.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(spend_rows(store)) < n:
        time.sleep(0.1)
    return len(spend_rows(store))


async def test_two_processes_hold_one_budget(fleet: Fleet, store: Store) -> None:
    key = create_key(store, budget_usd=1.0).key
    urls = [fleet.start(), fleet.start()]
    statuses = await _load(urls, key, total=600, concurrency=30)
    answered = statuses.count(200)
    assert set(statuses) <= {200, 429}
    assert answered * COST <= 1.0 + 1e-9
    assert answered >= 40  # leases come back when idle: the budget is used, not stranded in one process
    assert _wait_rows(store, answered) == answered  # one row per admitted request; refusals write none
    assert _spent(store) == pytest.approx(answered * COST)


async def test_workers_flag_holds_one_budget_and_sees_revocation_within_a_second(fleet: Fleet,
                                                                                   store: Store) -> None:
    new = create_key(store, budget_usd=0.5)
    url = fleet.start(workers=2)
    statuses = await _load([url], new.key, total=200, concurrency=20)
    assert statuses.count(200) * COST <= 0.5 + 1e-9 and statuses.count(200) >= 20
    other = create_key(store, budget_usd=100.0)
    await asyncio.sleep(1.0)  # a new key, like a revocation, reaches every worker within a second
    assert (await _load([url], other.key, total=20, concurrency=4)).count(200) == 20
    set_budget(store, other.info.id, 0.0)
    await asyncio.sleep(1.0)
    assert set(await _load([url], other.key, total=20, concurrency=4)) == {429}
    set_budget(store, other.info.id, 100.0)
    revoke_key(store, other.info.id)
    await asyncio.sleep(1.0)
    assert set(await _load([url], other.key, total=20, concurrency=4)) == {401}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_kill_9_under_load_loses_no_answered_row(fleet: Fleet, store: Store, stream: bool) -> None:
    key = create_key(store).key  # no limit: as many answers as the load produces
    url = fleet.start()
    proc = fleet.procs[-1]

    async def kill_soon() -> None:
        await asyncio.sleep(1.5)
        os.killpg(proc.pid, signal.SIGKILL)

    killer = asyncio.create_task(kill_soon())
    statuses = await _load([url], key, total=100_000, concurrency=20, body={**BODY, "stream": stream})
    await killer
    answered = statuses.count(200)
    assert answered > 50 and -1 in statuses  # killed mid-load
    fleet.start()  # the next start replays the dead process's journal before serving
    rows = spend_rows(store)
    ok_rows = sum(1 for r in rows if r.status == 200)
    assert ok_rows >= answered  # every answer received has its row
    assert ok_rows <= answered + 20  # at most the requests in flight at the kill (answered, never received)
    assert len({r.entry_id for r in rows}) == len(rows)


async def test_restart_after_crash_rebuilds_spend(fleet: Fleet, store: Store,
                                                  upstream: ScriptedServerThread) -> None:
    cfg = yaml.safe_load(fleet.config.read_text())
    cfg["spend_log"] = {"flush_interval_s": 3600}  # rows reach the store only through the journal replay
    fleet.config.write_text(yaml.safe_dump(cfg))
    key = create_key(store, budget_usd=1.0).key
    url = fleet.start()
    first = await _load([url], key, total=30, concurrency=5)
    assert first.count(200) == 30
    os.killpg(fleet.procs[-1].pid, signal.SIGKILL)
    fleet.procs[-1].wait()
    assert spend_rows(store) == []
    url = fleet.start()
    assert _spent(store) == pytest.approx(30 * COST)
    second = await _load([url], key, total=100, concurrency=10)
    assert (30 + second.count(200)) * COST <= 1.0 + 1e-9
    assert second.count(200) >= 15


async def test_sigterm_drains_writes_every_row_and_gives_back_the_leases(fleet: Fleet, store: Store) -> None:
    cfg = yaml.safe_load(fleet.config.read_text())
    cfg["spend_log"] = {"flush_interval_s": 3600}  # nothing is written before the shutdown
    fleet.config.write_text(yaml.safe_dump(cfg))
    key = create_key(store, budget_usd=5.0).key
    url = fleet.start()
    statuses = await _load([url], key, total=40, concurrency=8)
    assert statuses.count(200) == 40 and spend_rows(store) == []
    proc = fleet.procs[-1]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after its shutdown
    assert len(spend_rows(store)) == 40, fleet.log.read_text()
    assert _spent(store) == pytest.approx(40 * COST)
    assert list((fleet.config.parent / "home").rglob("*.journal")) == []
    with store.session() as s:
        assert s.scalars(select(GatewayLease)).all() == []
