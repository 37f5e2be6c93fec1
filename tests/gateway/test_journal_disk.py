"""Refuse before spending: a journal that cannot be written (disk full, read-only) gets 503 naming the cause before
any upstream call, recovers by itself when space returns, and no row claims a delivery that did not happen."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from satisfice.clients.scripted_server import ScriptedServer
from satisfice.gateway.http.app import Gateway
from satisfice.store import Store

from .conftest import base_config, chat, make_gateway, running, spend_rows
from .test_routes import sse_events


def _gateway(store: Store, upstream: ScriptedServer, journal: Path) -> Gateway:
    return make_gateway(store, base_config(upstream.base_url, ledger={"journal_dir": str(journal)}))


class DiskFull:
    """Points the journal's descriptor at /dev/full (every write fails with ENOSPC) until ``restore``."""

    def __init__(self, gw: Gateway) -> None:
        journal = gw.spend_log.journal
        assert journal is not None
        self.fd = journal._fd
        self.saved = os.dup(self.fd)
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, self.fd)
        os.close(full)

    def restore(self) -> None:
        os.dup2(self.saved, self.fd)
        os.close(self.saved)


async def _until_ok(client: httpx.AsyncClient, seconds: float = 5.0) -> httpx.Response:
    for _ in range(int(seconds / 0.1)):
        resp = await client.post("/v1/chat/completions", json=chat())
        if resp.status_code == 200:
            return resp
        await asyncio.sleep(0.1)
    raise AssertionError(f"still refused: {resp.text}")


async def test_disk_full_withholds_the_answer_refuses_the_next_and_recovers(store: Store, upstream: ScriptedServer,
                                                                           tmp_path: Path) -> None:
    gw = _gateway(store, upstream, tmp_path)
    async with running(gw) as client:
        assert (await client.post("/v1/chat/completions", json=chat())).status_code == 200
        full = DiskFull(gw)
        resp = await client.post("/v1/chat/completions", json=chat())  # the upstream answers; the row cannot
        assert resp.status_code == 503 and "disk full (ENOSPC)" in resp.json()["error"]["message"]
        calls = len(upstream.requests)
        refused = await client.post("/v1/chat/completions", json=chat())
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "journal_unwritable"
        assert "nothing was sent upstream" in refused.json()["error"]["message"]
        assert len(upstream.requests) == calls  # refused before any upstream call
        assert "satisfice_gateway_journal_unwritable 1.0" in (await client.get("/metrics")).text
        full.restore()
        await _until_ok(client)  # recovers by itself once the journal can be written
    rows = spend_rows(store)
    assert [(r.status, r.outcome) for r in rows] == [(200, "ok"), (503, "journal_failed"), (200, "ok")]
    assert all(r.cost_usd > 0 for r in rows)  # the withheld answer was still paid for upstream: it is billed


async def test_disk_full_ends_a_stream_with_an_error_and_its_row_says_so(store: Store, upstream: ScriptedServer,
                                                                         tmp_path: Path) -> None:
    gw = _gateway(store, upstream, tmp_path)
    async with running(gw) as client:
        full = DiskFull(gw)
        resp = await client.post("/v1/chat/completions", json=chat(stream=True))
        full.restore()
    events = sse_events(resp.text)
    assert events[-1] != "[DONE]" and "could not record" in resp.text
    [row] = spend_rows(store)
    assert row.outcome == "interrupted" and row.cost_usd > 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (needs root and mount; skipped elsewhere)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


async def test_a_full_disk_at_start_refuses_then_recovers(store: Store, upstream: ScriptedServer,
                                                          small_disk: Path) -> None:
    filler = small_disk / "filler"
    with filler.open("wb") as f, pytest.raises(OSError):
        f.write(b"x" * (1 << 20))  # fills the disk
    gw = _gateway(store, upstream, small_disk / "journal")
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
        assert resp.status_code == 503 and "disk full (ENOSPC)" in resp.text
        assert upstream.requests == []
        filler.unlink()
        await _until_ok(client)
    assert [r.status for r in spend_rows(store)] == [200]


async def test_a_read_only_journal_folder_is_named_not_a_traceback(store: Store, upstream: ScriptedServer,
                                                                   small_disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    gw = _gateway(store, upstream, small_disk / "journal")
    async with running(gw) as client:
        resp = await client.post("/v1/chat/completions", json=chat())
    assert resp.status_code == 503 and "read-only file system (EROFS)" in resp.text
    assert upstream.requests == [] and spend_rows(store) == []
