"""Fencing for leases: spend admitted under a lease the store no longer counts is re-charged against the key's
headroom, and whatever goes past the budget is billed in full and flagged ``over_reservation``.

The process test pauses one of two real gateway processes with SIGSTOP past the lease TTL (SQLite here; the
``db`` marker reruns it on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from satisfice.clients.scripted_server import ScriptedServerThread, Step
from satisfice.gateway.money.keys import create_key, period_tag, utcnow
from satisfice.gateway.money.ledger import SharedLedger
from satisfice.store import Store

from .conftest import base_config, chat, make_gateway, running, spend_rows
from .test_ledger import _row, _spent
from .test_ledger_procs import COST, Fleet, _load


def test_rows_under_an_expired_lease_are_recharged_and_flagged_past_the_budget(store: Store) -> None:
    key = create_key(store, budget_usd=1.0).info
    tag = period_tag(key.period, utcnow())
    shared = SharedLedger(store, ttl_s=3.0)
    paused = shared.grant("gw_a", key.id, tag, 0.5, 0.0, now=time.time() - 10)  # its lease has lapsed since
    assert paused.granted == pytest.approx(0.5) and paused.epoch is not None
    assert shared.grant("gw_b", key.id, tag, 0.7, 0.0).granted == pytest.approx(0.7)
    shared.write([(tag, _row(key.id, 0.7, "gw_b:1")._replace(lease_epoch=None))])  # b spends its lease
    late = [(tag, _row(key.id, 0.1, f"gw_a:{n}")._replace(lease_epoch=paused.epoch)) for n in range(1, 6)]
    shared.write(late)  # a resumes and settles five answers of its old lease
    rows = {r.entry_id: r for r in spend_rows(store)}
    assert [rows[f"gw_a:{n}"].over_reservation for n in range(1, 6)] == [False, False, False, True, True]
    assert _spent(store, key) == pytest.approx(1.2)  # billed in full: the upstream answered
    flagged = sum(r.cost_usd for r in rows.values() if r.over_reservation)
    assert _spent(store, key) <= 1.0 + flagged + 1e-9


def test_rows_under_a_live_lease_settle_as_before(store: Store) -> None:
    key = create_key(store, budget_usd=1.0).info
    tag = period_tag(key.period, utcnow())
    shared = SharedLedger(store)
    grant = shared.grant("gw_a", key.id, tag, 0.5, 0.0)
    shared.write([(tag, _row(key.id, 0.1, "gw_a:1")._replace(lease_epoch=grant.epoch))])
    [row] = spend_rows(store)
    assert not row.over_reservation and _spent(store, key) == pytest.approx(0.1)


@pytest.fixture
def slow_upstream() -> Iterator[ScriptedServerThread]:
    with ScriptedServerThread(default="ok") as server:
        server.set_script(lambda r: Step.answer("ok", prompt_tokens=0, completion_tokens=10_000, delay_s=1.0))
        yield server


async def test_a_paused_instance_overspends_only_in_flagged_rows(tmp_path: Path, db_url: str, store: Store,
                                                                slow_upstream: ScriptedServerThread) -> None:
    cfg = base_config(slow_upstream.base_url, auth=True, spend_log={"flush_interval_s": 0.2},
                      ledger={"lease_ttl_s": 3.0})
    cfg["upstreams"][0]["timeout_s"] = 60.0
    fleet = Fleet(tmp_path, db_url, cfg)
    try:
        key = create_key(store, budget_usd=1.0).key
        a, b = fleet.start(), fleet.start()
        paused = fleet.procs[0]
        in_flight = asyncio.create_task(_load([a], key, total=20, concurrency=20))
        await asyncio.sleep(0.5)  # twenty requests admitted by a, waiting for their answers
        os.kill(paused.pid, signal.SIGSTOP)
        await asyncio.sleep(5.0)  # past the 3 s lease TTL: the store no longer counts a's lease
        statuses_b = await _load([b], key, total=200, concurrency=20)
        os.kill(paused.pid, signal.SIGCONT)
        statuses_a = await in_flight
        answered = statuses_a.count(200) + statuses_b.count(200)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and sum(r.status == 200 for r in spend_rows(store)) < answered:
            await asyncio.sleep(0.2)
    finally:
        fleet.stop()
    rows = [r for r in spend_rows(store) if r.status == 200]
    assert len(rows) == answered and statuses_a.count(200) == 20  # a's answers all arrived, all billed
    spent = sum(r.cost_usd for r in rows)
    flagged = sum(r.cost_usd for r in rows if r.over_reservation)
    assert spent == pytest.approx(answered * COST)
    assert spent > 1.0 and flagged > 0  # b used the headroom a's lapsed lease held
    assert spent <= 1.0 + flagged + 1e-9  # the bound: past the budget only in flagged rows


def test_a_call_timed_out_across_a_pause_is_billed_its_reservation(store: Store) -> None:
    with ScriptedServerThread(default="ok") as upstream:  # its own thread: it keeps running while the loop stalls
        upstream.set_script(lambda r: Step.answer("late", completion_tokens=10, delay_s=3.0))
        cfg = base_config(upstream.base_url)
        cfg["upstreams"] = cfg["upstreams"][:1]
        cfg["upstreams"][0]["timeout_s"] = 0.5
        gw = make_gateway(store, cfg)

        async def scenario() -> int:
            async with running(gw) as client:
                await asyncio.sleep(0.3)  # the stall watch is ticking

                async def stall() -> None:
                    await asyncio.sleep(0.1)
                    time.sleep(1.5)  # the whole loop stops, as under SIGSTOP or a long GC pause

                stalling = asyncio.create_task(stall())
                resp = await client.post("/v1/chat/completions", json=chat(max_tokens=100))
                await stalling
                return resp.status_code

        status = asyncio.run(scenario())
    [row] = spend_rows(store)
    assert status == row.status == 504
    assert row.reserved_usd is not None and row.cost_usd == pytest.approx(row.reserved_usd) and row.cost_usd > 0
    assert row.tokens_estimated and not row.usage_invalid and "paused" in row.errors
