"""The schedule (with an injected clock), status, and watches reported when newly satisfied."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pipeline_helpers import Clock, Server, modelsdev_doc, openrouter_doc

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.repository import apply_batch
from satisfice.catalog.rows import ModelRow, ScoreRow
from satisfice.errors import ConfigError
from satisfice.pipeline import Schedule, add_watch, list_watches, run, run_scheduled, status
from satisfice.store import Store


def test_status_before_and_after_a_run(store: Store, server: Server, clock: Clock) -> None:
    empty = status(store)
    assert empty["last_run"] is None and empty["next_run"] is None and empty["runs"] == 0
    run(store, {"openrouter": server.serve("/m", openrouter_doc({"x/model-a": (1, 2)}))}, now=clock)
    doc = status(store)
    last = doc["last_run"]
    assert last["status"] == "ok" and last["started_at"] == "2026-11-29T09:00:00Z"
    (src,) = last["sources"]
    assert (src["source"], src["outcome"], src["new_models"], src["new_offers"]) == ("openrouter", "ok", 1, 1)
    assert doc["snapshots"]["openrouter"]["size"] > 0 and doc["next_run"] is None
    with store.session() as session:  # the dashboard may pass its own session
        assert status(session) == doc


def test_schedule_runs_at_start_then_every_interval(store: Store, server: Server, clock: Clock) -> None:
    url = server.serve("/m", openrouter_doc({"x/model-a": (1, 2)}))
    starts: list[str] = []
    next_runs: list[str | None] = []

    def seen(report: dict[str, Any]) -> None:
        starts.append(report["started_at"])

    def stop() -> bool:
        next_runs.append(status(store)["next_run"])
        return len(starts) >= 3

    runs = run_scheduled(store, Schedule.parse("6h", None), selection={"openrouter": url}, clock=clock,
                         sleep=clock.sleep, stop=stop, on_report=seen)
    assert runs == 3
    assert starts == ["2026-11-29T09:00:00Z", "2026-11-29T15:00:00Z", "2026-11-29T21:00:00Z"]
    assert next_runs[0] == "2026-11-29T15:00:00Z"
    assert status(store)["next_run"] is None  # cleared when the loop stops
    assert status(store)["runs"] == 3


def test_cron_schedule(clock: Clock) -> None:
    plan = Schedule.parse(None, "0 */6 * * *")
    assert plan.next_after(clock(), clock()) == dt.datetime(2026, 11, 29, 12, 0)
    assert Schedule.parse("90m", None).next_after(clock(), clock()) == clock() + dt.timedelta(minutes=90)
    for every, cron in (("6h", "0 * * * *"), (None, None), ("soon", None), ("10s", None), (None, "every day")):
        with pytest.raises(ConfigError):
            Schedule.parse(every, cron)


def _scores(store: Store, model: str, value: float, open_weights: bool) -> None:
    apply_batch(store, ImportBatch("test", models=[ModelRow(model, model, open_weights=open_weights)],
                                   scores=[ScoreRow(model, "swe-bench-verified", value, source="test card")]))


def test_watch_reports_models_newly_satisfying_once(store: Store, server: Server, clock: Clock) -> None:
    _scores(store, "deepseek-v4-pro", 80.6, True)
    _scores(store, "claude-opus-4.7", 87.6, False)
    result = add_watch(store, "swe-bench-verified", 75, max_price=1.0, open_only=True, now=clock())
    assert result["satisfied_now"] == []  # no price known yet: a price cap is never met by an unknown price
    assert result["watch"]["description"] == "an open-weights model clears SWE-bench Verified 75 under $1/M"
    url = server.serve("/m", modelsdev_doc({"deepseek": {"deepseek-v4-pro": (0.435, 0.87)},
                                            "anthropic": {"claude-opus-4-7": (5, 25)}}))
    report = run(store, {"models-dev": url}, now=clock)
    (hit,) = report["watches"]
    assert [m["model"] for m in hit["models"]] == ["deepseek-v4-pro"]
    assert hit["models"][0]["blended_per_m"] == pytest.approx(0.544, abs=1e-3)
    clock.tick(hours=1)
    server.serve("/m", modelsdev_doc({"deepseek": {"deepseek-v4-pro": (0.4, 0.8)},
                                      "anthropic": {"claude-opus-4-7": (5, 25)}}))
    assert run(store, {"models-dev": url}, now=clock)["watches"] == []  # reported once
    assert list_watches(store)[0]["satisfied"] == ["deepseek-v4-pro"]
    with pytest.raises(ConfigError, match="unknown benchmark"):
        add_watch(store, "swe-bench-unverified", 1)


def _schedule_entry(store: Store, heartbeat: dt.datetime) -> None:
    import json

    from satisfice.pipeline.views import SCHEDULE_KEY
    from satisfice.store.schema import Meta

    with store.transaction() as s:
        s.add(Meta(key=SCHEDULE_KEY, value=json.dumps({
            "every_s": 21600.0, "next_run": "2026-11-29T15:00:00Z", "last_started_at": "2026-11-29T09:00:00Z",
            "heartbeat_at": heartbeat.isoformat(timespec="seconds") + "Z"})))


def test_a_killed_scheduler_shows_as_stopped(store: Store) -> None:
    """A scheduler killed without its ``finally`` leaves its entry: a stale heartbeat means stopped, no next run."""
    from satisfice.pipeline.views import HEARTBEAT_STALE_S

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    _schedule_entry(store, now - dt.timedelta(seconds=HEARTBEAT_STALE_S + 60))
    doc = status(store)
    assert doc["scheduler"] == "stopped" and doc["next_run"] is None
    assert doc["scheduler_last_seen"] == (now - dt.timedelta(seconds=HEARTBEAT_STALE_S + 60)).isoformat() + "Z"


def test_a_live_scheduler_shows_its_next_run(store: Store) -> None:
    _schedule_entry(store, dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=5))
    doc = status(store)
    assert doc["scheduler"] == "running" and doc["next_run"] == "2026-11-29T15:00:00Z"


def test_no_schedule_is_not_scheduled(store: Store) -> None:
    assert status(store)["scheduler"] == "not scheduled"
