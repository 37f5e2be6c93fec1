"""The shared ledger and the journal, in one process: leases, expiry, budget changes, replay after a crash."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from satisfice.gateway.money.budgets import BudgetLedger
from satisfice.gateway.money.journal import Journal, orphans
from satisfice.gateway.money.journal_records import base_line, encode
from satisfice.gateway.money.keys import KeyInfo, create_key, period_tag, set_budget, utcnow
from satisfice.gateway.money.ledger import SharedLedger, SpendRow
from satisfice.gateway.money.spendlog import SpendLog
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewayLease, GatewayLedger

from .conftest import spend_rows


def _row(key_id: str | None, cost: float, entry: str) -> SpendRow:
    return SpendRow(created_at=time.time(), key_id=key_id, route="small", endpoint="chat", stream=False,
                    models_tried="[]", model="small", upstream="a", input_tokens=1, output_tokens=1,
                    tokens_estimated=False, cost_usd=cost, reference_cost_usd=None, latency_ms=1.0, escalations=0,
                    errors="[]", status=200, outcome="ok", entry_id=entry, reserved_usd=cost)


def _leases(store: Store) -> list[GatewayLease]:
    with store.session() as s:
        return list(s.scalars(select(GatewayLease)))


def _spent(store: Store, key: KeyInfo) -> float:
    with store.session() as s:
        row = s.get(GatewayLedger, (key.id, period_tag(key.period, utcnow())))
        return row.spent_usd if row is not None else 0.0


async def test_instances_never_lease_more_than_the_budget(store: Store) -> None:
    key = create_key(store, budget_usd=1.0).info
    shared = SharedLedger(store)
    a, b = BudgetLedger(shared, "gw_a", lease_fraction=1.0), BudgetLedger(shared, "gw_b", lease_fraction=1.0)
    await a.renew()
    await b.renew()
    assert await a.reserve(key, 0.1) is not None
    assert a.lease_of(key.id) == pytest.approx(0.9)  # a took all the headroom (fraction 1.0)
    assert await b.reserve(key, 0.1) is None  # ... so b gets none
    await a.close()  # a gives back what it does not use
    assert await b.reserve(key, 0.85) is not None
    assert await a.reserve(key, 0.1) is None  # 0.1 reserved by a + 0.85 by b: 0.05 left


async def test_spend_moves_from_lease_to_spent(store: Store) -> None:
    key = create_key(store, budget_usd=1.0).info
    shared = SharedLedger(store)
    a = BudgetLedger(shared, "gw_a", lease_fraction=0.5)
    await a.renew()
    r = await a.reserve(key, 0.2)
    assert r is not None and r.period is not None
    a.settle(r, 0.15)
    assert shared.write([(r.period, _row(key.id, 0.15, "gw_a:1"))]) == 1
    [lease] = _leases(store)
    assert lease.amount_usd == pytest.approx(0.2 + 0.5 * 0.8 - 0.15)
    assert _spent(store, key) == pytest.approx(0.15)
    assert a.lease_of(key.id) == pytest.approx(lease.amount_usd)  # the instance and the store agree


async def test_expired_lease_no_longer_counts_and_is_written_off(store: Store) -> None:
    key = create_key(store, budget_usd=1.0).info
    shared = SharedLedger(store, ttl_s=30)
    tag = period_tag(key.period, utcnow())
    assert shared.grant("gw_dead", key.id, tag, 0.9, 0.0, now=time.time() - 31).granted == pytest.approx(0.9)
    assert shared.grant("gw_b", key.id, tag, 0.5, 0.0).granted == pytest.approx(0.5)  # the dead lease lapsed
    assert shared.heartbeat("gw_dead") == {(key.id, tag): pytest.approx(0.9)}  # the holder learns it lost it
    assert [lease.instance_id for lease in _leases(store)] == ["gw_b"]


async def test_lowered_budget_and_revocation_apply_to_the_next_grant(store: Store) -> None:
    new = create_key(store, budget_usd=10.0)
    shared = SharedLedger(store)
    a = BudgetLedger(shared, "gw_a", lease_fraction=1.0)
    await a.renew()
    assert await a.reserve(new.info, 1.0) is not None
    lowered = set_budget(store, new.info.id, 0.5)
    await a.keys_changed({new.info.id: new.info}, {new.info.id: lowered})
    assert a.lease_of(new.info.id) == pytest.approx(0.0)  # given back
    assert await a.reserve(lowered, 0.1) is None  # 1.0 already reserved > 0.5


async def test_journal_replay_writes_each_row_once(store: Store, tmp_path: Path) -> None:
    key = create_key(store, budget_usd=5.0).info
    shared = SharedLedger(store)
    tag = period_tag(key.period, utcnow())
    shared.grant("gw_dead", key.id, tag, 1.0, 0.0)
    journal = Journal(tmp_path, "gw_dead")
    journal.open()
    for n in range(1, 6):
        journal.append([tag, *_row(key.id, 0.1, f"gw_dead:{n}")])
    await journal.durable()
    shared.write([(tag, _row(key.id, 0.1, "gw_dead:1"))])  # one row had reached the store before the crash
    path = next(tmp_path.glob("*.journal"))
    with path.open("ab") as f:
        f.write(b'["' + tag.encode() + b'", 17')  # a line cut short by the crash
    copy = path.read_bytes()
    journal.close(remove=False)  # the process dies: the lock goes, the file stays
    log = SpendLog(shared, "gw_live", journal=Journal(tmp_path, "gw_live"))
    assert log.replay_orphans() == 4
    assert not path.exists() and _leases(store) == []
    assert len(spend_rows(store)) == 5 and _spent(store, key) == pytest.approx(0.5)
    path.write_bytes(copy)  # the same journal again: nothing counts twice
    assert log.replay_orphans() == 0
    assert len(spend_rows(store)) == 5 and _spent(store, key) == pytest.approx(0.5)


async def test_a_live_journal_is_not_an_orphan(tmp_path: Path) -> None:
    live = Journal(tmp_path, "gw_live")
    live.open()
    live.append(["total", *_row(None, 0.1, "gw_live:1")])
    await live.durable()
    assert orphans(tmp_path, "gw_other") == []
    live.close(remove=False)
    [orphan] = orphans(tmp_path, "gw_other")
    assert orphan.instance_id == "gw_live"
    assert [row[11] for _, row in orphan.scan(tmp_path / "quarantine").entries] == [0.1]
    orphan.close(remove=True)
    assert list(tmp_path.iterdir()) == []


async def test_journal_rotates_and_truncates(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "gw_x", segment_bytes=100)
    journal.open()
    for n in range(10):
        journal.append(["total", "x" * 30, n])
        await journal.durable()
    assert len(list(tmp_path.glob("*.journal"))) > 2
    journal.append(["total", "not yet in the store"])
    await journal.durable()
    journal.written(journal.seq - 1)  # the writer keeps the segment holding the newer line
    journal.close(remove=False)
    [left] = tmp_path.glob("*.journal")  # the segments holding only stored lines are gone
    assert left.read_bytes().endswith(b'"total","not yet in the store"]\n')
    left.unlink()


async def test_written_truncates_once_everything_is_stored(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "gw_y")
    journal.open()
    journal.append(["total", 1])
    await journal.durable()
    journal.written(journal.seq)
    journal.close(remove=False)
    [left] = tmp_path.glob("*.journal")
    assert left.read_bytes() == base_line(1)  # every line is in the store


async def test_fsync_durability_waits_for_the_disk(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "gw_f", fsync=True)
    journal.open()
    journal.append(["total", 1])
    await journal.durable()
    assert next(tmp_path.glob("*.journal")).read_bytes() == base_line(0) + encode([1, "total", 1])
    journal.close(remove=True)


async def test_an_unreachable_store_refuses_budgeted_requests_with_503(store: Store) -> None:
    from satisfice.clients.scripted_server import ScriptedServer

    from .conftest import base_config, chat, make_gateway, running

    new = create_key(store, budget_usd=5.0)
    async with ScriptedServer(default="ok") as upstream:
        gw = make_gateway(store, base_config(upstream.base_url, auth=True))
        async with running(gw, new.key) as client:

            def down(*args: object, **kwargs: object) -> None:
                raise OSError("database is down")

            gw.books.shared.grant = down  # type: ignore[method-assign]
            r = await client.post("/v1/chat/completions", json=chat())
            assert r.status_code == 503 and r.json()["error"]["code"] == "ledger_unavailable"
            del gw.books.shared.grant  # the class's method again
            assert (await client.post("/v1/chat/completions", json=chat())).status_code == 200
