"""A journal that verifies itself: damaged records are quarantined and never credited, lost lines are reported,
and one bad journal never blocks a start."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from satisfice.clients.scripted_server import ScriptedServer
from satisfice.gateway.money.journal import Journal
from satisfice.gateway.money.keys import create_key, period_tag, utcnow
from satisfice.gateway.money.ledger import SharedLedger
from satisfice.gateway.money.spendlog import SpendLog
from satisfice.gateway.observability.report import gateway_report
from satisfice.store import Store

from .conftest import base_config, chat, make_gateway, running, spend_rows
from .test_ledger import _row, _spent


async def _dead_journal(directory: Path, rows: list[list[Any]]) -> Path:
    """A journal left by instance gw_dead (its process gone: the lock is released, the file stays)."""
    journal = Journal(directory, "gw_dead")
    journal.open()
    for row in rows:
        journal.append(row)
    await journal.durable()
    path = next(directory.glob("gw_dead.*.journal"))
    journal.close(remove=False)
    return path


def _live(store: Store, directory: Path) -> tuple[SharedLedger, SpendLog]:
    shared = SharedLedger(store)
    shared.journal_place = ("host", str(directory))
    return shared, SpendLog(shared, "gw_live", journal=Journal(directory, "gw_live"))


@pytest.mark.parametrize(("name", "cost"), [("negative cost", -0.5), ("string cost", "0.1"), ("huge cost", 1e9),
                                            ("NaN-like null cost", None)])
async def test_a_bad_record_is_quarantined_and_never_credited(store: Store, tmp_path: Path, name: str, cost: Any,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    key = create_key(store, budget_usd=5.0).info
    tag = period_tag(key.period, utcnow())
    good = [tag, *_row(key.id, 0.1, "gw_dead:1")]
    bad = [tag, *_row(key.id, 0.1, "gw_dead:2")]
    bad[12] = cost  # cost_usd
    await _dead_journal(tmp_path, [good, bad, [tag, *_row(key.id, 0.1, "gw_dead:3")]])
    shared, log = _live(store, tmp_path)
    with caplog.at_level(logging.ERROR, "satisfice.gateway"):
        assert log.replay_orphans() == 2
    assert _spent(store, key) == pytest.approx(0.2)  # the bad record credited nothing
    assert len(spend_rows(store)) == 2 and log.quarantined == 1
    [side] = (tmp_path / "quarantine").iterdir()
    assert b"cost_usd" in side.read_bytes()
    [line] = [r for r in caplog.records if "quarantined" in r.getMessage()]
    assert "cost_usd" in line.getMessage() and "not credited" in line.getMessage()
    report = gateway_report(store)
    assert report.journal_records_quarantined == 1 and report.journal_incidents[0].kind == "quarantined"


async def test_an_edited_record_fails_its_checksum(store: Store, tmp_path: Path) -> None:
    key = create_key(store, budget_usd=5.0).info
    tag = period_tag(key.period, utcnow())
    path = await _dead_journal(tmp_path, [[tag, *_row(key.id, 0.25, "gw_dead:1")]])
    path.write_bytes(path.read_bytes().replace(b"0.25", b"0.05"))  # someone lowers a cost by hand
    _, log = _live(store, tmp_path)
    assert log.replay_orphans() == 0 and log.quarantined == 1
    assert b"checksum mismatch" in next((tmp_path / "quarantine").iterdir()).read_bytes()


async def test_lines_removed_from_the_middle_are_a_gap(store: Store, tmp_path: Path) -> None:
    key = create_key(store, budget_usd=5.0).info
    tag = period_tag(key.period, utcnow())
    path = await _dead_journal(tmp_path, [[tag, *_row(key.id, 0.1, f"gw_dead:{n}")] for n in range(1, 6)])
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2] + lines[4:]))  # base mark, line 1, then 4 and 5
    _, log = _live(store, tmp_path)
    assert log.replay_orphans() == 3 and log.lost == 2
    report = gateway_report(store)
    assert report.journal_records_lost == 2 and report.journal_incidents[0].kind == "gap"


async def test_a_truncated_journal_is_detected_from_the_store_mark(store: Store, tmp_path: Path) -> None:
    key = create_key(store, budget_usd=5.0).info
    tag = period_tag(key.period, utcnow())
    path = await _dead_journal(tmp_path, [[tag, *_row(key.id, 0.1, f"gw_dead:{n}")] for n in range(1, 6)])
    shared, log = _live(store, tmp_path)
    shared.mark_journaled("gw_dead", 5)  # what the dead instance reported before it died
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]))  # the tail is cut: lines 3 to 5 are gone
    assert log.replay_orphans() == 2 and log.lost == 3
    assert gateway_report(store).journal_records_lost == 3
    assert shared.journal_marks() == {}


async def test_a_deleted_journal_is_reported(store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    shared, log = _live(store, tmp_path)
    shared.mark_journaled("gw_gone", 7)
    shared.write([], mark=("gw_gone", 4))  # 4 of its 7 lines had reached the store
    with store.engine.begin() as conn:  # it stopped reporting a while ago
        conn.execute(text("UPDATE gateway_journal_marks SET updated_at = :t"), {"t": time.time() - 120})
    with caplog.at_level(logging.ERROR, "satisfice.gateway"):
        log.replay_orphans()
    assert log.lost == 3 and any("gw_gone is gone" in r.getMessage() for r in caplog.records)
    [incident] = gateway_report(store).journal_incidents
    assert incident.kind == "missing" and incident.records == 3
    log.replay_orphans()  # reported once
    assert len(gateway_report(store).journal_incidents) == 1


async def test_a_live_instance_that_stopped_reporting_is_not_a_lost_journal(store: Store, tmp_path: Path) -> None:
    shared, log = _live(store, tmp_path)
    paused = Journal(tmp_path, "gw_paused")
    paused.open()  # its file is there (and locked): paused, not gone
    shared.mark_journaled("gw_paused", 3)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE gateway_journal_marks SET updated_at = :t"), {"t": time.time() - 120})
    log.replay_orphans()
    paused.close(remove=True)
    assert log.lost == 0 and gateway_report(store).journal_incidents == []


async def test_a_bad_journal_never_blocks_the_start(store: Store, tmp_path: Path, upstream: ScriptedServer) -> None:
    tag = period_tag("month", utcnow())
    bad = [tag, *_row(None, 0.1, "gw_dead:1")]
    bad[12] = "0.1"
    path = await _dead_journal(tmp_path, [bad])
    with path.open("ab") as f:
        f.write(b"garbage that is not a journal line\n")
    cfg = base_config(upstream.base_url, ledger={"journal_dir": str(tmp_path)})
    gw = make_gateway(store, cfg)
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
        assert resp.status_code == 200, resp.text
        metrics = (await client.get("/metrics")).text
    assert "satisfice_gateway_journal_records_quarantined 2.0" in metrics
    assert "satisfice_gateway_journal_unwritable 0.0" in metrics
    assert [r.status for r in spend_rows(store)] == [200]


async def test_a_segment_deleted_under_a_live_instance_is_replaced(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal(tmp_path, "gw_live")
    journal.open()
    journal.append(["total", 1])
    await journal.durable()
    [first] = tmp_path.glob("*.journal")
    first.unlink()
    with caplog.at_level(logging.ERROR, "satisfice.gateway"):
        journal.probe()
    assert journal.damaged == 1 and any("was deleted while in use" in r.getMessage() for r in caplog.records)
    journal.append(["total", 2])
    await journal.durable()
    [second] = tmp_path.glob("*.journal")
    assert second != first and second.read_bytes().endswith(b'"total",2]\n')
    journal.close(remove=True)
