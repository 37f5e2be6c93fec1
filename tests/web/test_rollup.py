"""The gateway rollup: built once, then only new rows; a periodic full rebuild in the background."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from satisfice.store import Store, open_store
from satisfice.web import gateway_rollup
from satisfice.web.gateway_rollup import GatewayRollup

from .seed import seed_gateway


def _totals(r: gateway_rollup.Rollup) -> tuple[float, float]:
    return sum(v[0] for v in r.route_day.values()), sum(v[0] for v in r.shadow_day.values())


def test_rollup_increments_and_rebuilds(ro_store: Store, seeded: tuple[str, list[int]],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    roll = GatewayRollup(ro_store)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    first = roll.read(now, _totals)
    assert first[0] == 3000 and first[1] > 0
    hours = roll.read(now, lambda r: sum(v[0] for v in r.route_hour.values()))
    assert 0 < hours < 3000  # hourly totals only for the last days
    rw = open_store(seeded[0])
    try:
        seed_gateway(rw, 12, hostile=False, seed=5)
    finally:
        rw.close()
    assert roll.read(now, _totals)[0] == 3012
    monkeypatch.setattr(gateway_rollup, "REBUILD_S", 0.0)
    old = roll.read(now, lambda r: r)
    deadline = time.monotonic() + 20
    while roll.read(now, lambda r: r) is old:
        assert time.monotonic() < deadline, "no rebuild"
        time.sleep(0.05)
    monkeypatch.setattr(gateway_rollup, "REBUILD_S", 3600.0)
    while roll._rebuilding:  # let a rebuild still running finish before the database goes
        assert time.monotonic() < deadline, "rebuild did not finish"
        time.sleep(0.05)
    assert roll.read(now, _totals)[0] == 3012
