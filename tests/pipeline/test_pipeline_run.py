"""Runs: history across runs, failures that change nothing, identical content, the run lock."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import zipfile
from pathlib import Path

import pytest
from pipeline_helpers import REAL, Clock, Server, openrouter_doc
from sqlalchemy import func, select

from satisfice.catalog.repository import load_catalog
from satisfice.pipeline import SOURCES, PipelineBusy, changes, run, status
from satisfice.pipeline.fetch import FetchError, fetch
from satisfice.pipeline.lock import run_lock
from satisfice.store import Store
from satisfice.store.schema import ModelRecord, OfferRecord
from satisfice.store.schema_pipeline import ChangeRecord, ListingRecord, SnapshotRecord


def counts(store: Store) -> tuple[int, ...]:
    with store.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) or 0
                     for t in (ModelRecord, OfferRecord, ListingRecord, SnapshotRecord, ChangeRecord))


def offers_of(store: Store, model: str, provider: str) -> list[OfferRecord]:
    with store.session() as s:
        return list(s.scalars(select(OfferRecord).where(OfferRecord.model_id == model, OfferRecord.provider == provider)
                              .order_by(OfferRecord.effective_date, OfferRecord.recorded_at)))


def test_full_run_on_real_snapshots_then_nothing_changed(bundled_store: Store, real: dict[str, str]) -> None:
    report = run(bundled_store, real)
    assert report["ok"] and report["failed"] == []
    by = {s["source"]: s for s in report["sources"]}
    assert all(s["outcome"] == "ok" and s["size"] > 0 and len(s["sha256"]) == 64 for s in by.values())
    assert by["genai-prices"]["version"] == "0.2.3"
    assert report["totals"]["new_models"] > 1000 and report["totals"]["scheduled"] > 0
    catalog = load_catalog(bundled_store)
    # a fresh store now knows a 2026 model from every source, one model id, prices per provider
    providers = {o.provider for o in catalog.offers_of("deepseek-v4-pro")}
    assert {"deepseek", "openrouter", "fireworks"} <= providers
    before = counts(bundled_store)
    again = run(bundled_store, real)
    assert [s["outcome"] for s in again["sources"]] == ["same"] * len(real)
    assert counts(bundled_store)[:4] == before[:4]


def test_history_same_day_change_unchanged_and_gone(store: Store, server: Server, clock: Clock) -> None:
    url = server.serve("/models", openrouter_doc({"deepseek/deepseek-v4-pro": (1.74, 3.48),
                                                   "moonshotai/kimi-k2.6": (0.95, 4.0)}))
    sel = {"openrouter": url}
    first = run(store, sel, now=clock)
    assert first["sources"][0]["new_models"] == 2 and first["sources"][0]["new_offers"] == 2
    clock.tick(hours=3)  # same day, a cut
    server.serve("/models", openrouter_doc({"deepseek/deepseek-v4-pro": (0.435, 0.87),
                                            "moonshotai/kimi-k2.6": (0.95, 4.0)}))
    second = run(store, sel, now=clock)["sources"][0]
    assert (second["changed_prices"], second["unchanged"], second["new_offers"]) == (1, 1, 0)
    history = offers_of(store, "deepseek-v4-pro", "openrouter")
    assert [(o.effective_date, o.input_per_m) for o in history] == [(clock.now.date(), 1.74),
                                                                     (clock.now.date(), 0.435)]
    assert history[1].recorded_at - history[0].recorded_at == dt.timedelta(hours=3)
    catalog = load_catalog(store)
    offer = catalog.price_at("deepseek-v4-pro", clock.now.date(), provider="openrouter")
    assert offer is not None and offer.input_per_m == 0.435  # the later observation is in force
    clock.tick(hours=1)  # same prices again, reordered document: nothing added
    server.serve("/models", openrouter_doc({"moonshotai/kimi-k2.6": (0.95, 4.0),
                                            "deepseek/deepseek-v4-pro": (0.435, 0.87)}))
    before = counts(store)
    third = run(store, sel, now=clock)["sources"][0]
    assert (third["outcome"], third["unchanged"], third["changed_prices"]) == ("ok", 2, 0)
    assert counts(store)[:2] == before[:2]
    clock.tick(days=1)  # kimi no longer listed: marked, never deleted
    server.serve("/models", openrouter_doc({"deepseek/deepseek-v4-pro": (0.435, 0.87)}))
    fourth = run(store, sel, now=clock)["sources"][0]
    assert fourth["gone"] == 1
    with store.session() as s:
        gone = s.scalars(select(ListingRecord).where(ListingRecord.model_id == "kimi-k2.6")).one()
        assert gone.gone_since == clock.now
    assert len(offers_of(store, "kimi-k2.6", "openrouter")) == 1
    doc = changes(store, dt.timedelta(days=7), now=clock.now)
    (cut,) = doc["price_cuts"]
    assert cut["model"] == "deepseek-v4-pro" and cut["pct"] == pytest.approx(-75.0)
    assert cut["old"] == {"input_per_m": 1.74, "output_per_m": 3.48}
    assert [g["model"] for g in doc["gone"]] == ["kimi-k2.6"]
    assert {m["model"] for m in doc["new_models"]} == {"deepseek-v4-pro", "kimi-k2.6"}
    json.dumps(doc)


def test_scheduled_future_price_is_stored_with_its_start_date(store: Store, server: Server, clock: Clock) -> None:
    data = [{"id": "deepseek", "name": "DeepSeek", "models": [{"id": "deepseek-v4-pro", "name": "DeepSeek V4 Pro",
             "prices": [{"prices": {"input_mtok": 0.435, "output_mtok": 0.87}},
                        {"constraint": {"start_date": "2026-12-15"},
                         "prices": {"input_mtok": 1.32, "output_mtok": 3.96}}]}]}]
    report = run(store, {"genai-prices": server.serve("/data.json", data)}, now=clock)
    src = report["sources"][0]
    assert (src["new_offers"], src["scheduled"]) == (1, 1)
    history = offers_of(store, "deepseek-v4-pro", "deepseek")
    assert [(o.effective_date, o.input_per_m) for o in history] == [(clock.now.date(), 0.435),
                                                                     (dt.date(2026, 12, 15), 1.32)]
    catalog = load_catalog(store)
    assert catalog.price_at("deepseek-v4-pro", clock.now.date()).input_per_m == 0.435  # type: ignore[union-attr]
    assert catalog.price_at("deepseek-v4-pro", dt.date(2026, 12, 20)).input_per_m == 1.32  # type: ignore[union-attr]
    (sched,) = changes(store, dt.timedelta(days=1), now=clock.now)["scheduled"]
    assert sched["effective_date"] == "2026-12-15"


GOOD = openrouter_doc({"deepseek/deepseek-v4-pro": (0.435, 0.87)})


@pytest.mark.parametrize(("fault", "message"), [
    ("down", "Connection refused"),
    ("hang", "timed out"),
    ("500", "HTTP 500"),
    ("truncated", "not valid JSON"),
    ("schema", "missing pricing object"),
    ("empty", "no prices or scores found"),
    ("bad-value", "expected a number"),
])
def test_one_failing_source_changes_nothing_and_others_go_on(store: Store, server: Server, clock: Clock,
                                                               fault: str, message: str) -> None:
    good = server.serve("/genai.json", [{"id": "moonshotai", "models": [
        {"id": "kimi-k2.6", "name": "Kimi K2.6", "prices": {"input_mtok": 0.95, "output_mtok": 4.0}}]}])
    text = json.dumps(GOOD)
    bad = {
        "down": "http://127.0.0.1:9/models",
        "hang": server.serve("/hang", GOOD, delay=2.0),
        "500": server.serve("/500", "oops", status=500),
        "truncated": server.serve("/trunc", text[: len(text) // 2]),
        "schema": server.serve("/schema", {"data": [{"id": "deepseek/deepseek-v4-pro", "price": {"in": 1}}]}),
        "empty": server.serve("/empty", {"data": []}),
        "bad-value": server.serve("/bad", {"data": [dict(GOOD["data"][0], pricing={"prompt": "cheap",
                                                                                   "completion": "1"})]}),
    }[fault]
    report = run(store, {"openrouter": bad, "genai-prices": good}, now=clock, timeout=0.5, attempts=2,
                 sleep=lambda s: None)
    assert not report["ok"] and report["failed"] == ["openrouter"]
    by = {s["source"]: s for s in report["sources"]}
    assert by["openrouter"]["outcome"] == "failed" and message in by["openrouter"]["error"]
    assert by["genai-prices"]["outcome"] == "ok" and by["genai-prices"]["new_offers"] == 1
    with store.session() as s:
        assert s.scalars(select(SnapshotRecord.source)).all() == ["genai-prices"]
        assert s.scalars(select(ListingRecord.source).distinct()).all() == ["genai-prices"]
        assert s.scalars(select(OfferRecord.provider).distinct()).all() == ["moonshot"]
    if fault == "500":
        assert server.hits["/500"] == 2  # retried, bounded
    assert status(store)["last_run"]["status"] == "failed"


def test_identical_content_costs_nothing(store: Store, server: Server, clock: Clock) -> None:
    url = server.serve("/m", GOOD)
    run(store, {"openrouter": url}, now=clock)
    clock.tick(hours=6)
    before = counts(store)
    report = run(store, {"openrouter": url}, now=clock)
    assert report["ok"] and report["sources"][0]["outcome"] == "same"
    assert counts(store) == before


def test_one_run_at_a_time(store: Store, server: Server, clock: Clock) -> None:
    url = server.serve("/m", GOOD)
    with run_lock(store, clock()), pytest.raises(PipelineBusy, match="another pipeline run is in progress"):
        run(store, {"openrouter": url}, now=clock)
    assert run(store, {"openrouter": url}, now=clock)["ok"]  # released
    with run_lock(store, clock() - dt.timedelta(hours=2)):  # a holder that crashed: its lease expired
        assert run(store, {"openrouter": url}, now=clock)["ok"]


def test_package_locations_read_an_installation(store: Store, clock: Clock, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "genai_prices").mkdir(parents=True)
    (site / "litellm").mkdir()
    with zipfile.ZipFile(REAL["genai-prices"]) as wheel:
        (site / "genai_prices" / "data.py").write_bytes(wheel.read("genai_prices/data.py"))
    (site / "genai_prices" / "__init__.py").write_text("")
    (site / "litellm" / "__init__.py").write_text("")
    (site / "litellm" / "model_prices_and_context_window_backup.json").write_bytes(REAL["litellm"].read_bytes())
    monkeypatch.syspath_prepend(str(site))
    report = run(store, {"genai-prices": "package:genai-prices", "litellm": "package:litellm"}, now=clock)
    assert report["ok"], [s["error"] for s in report["sources"]]
    assert [s["location"] for s in report["sources"]] == ["package:genai-prices", "package:litellm"]
    assert all(s["new_offers"] > 100 for s in report["sources"])


def test_missing_package_and_oversized_document_fail_cleanly(store: Store, server: Server, clock: Clock,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    report = run(store, {"litellm": "package:litellm"}, now=clock)
    assert "not installed (pip install litellm, or give --source litellm=URL_OR_FILE)" in report["sources"][0]["error"]
    with pytest.raises(FetchError, match="over the 100-byte limit"):
        fetch(SOURCES.get("openrouter"), server.serve("/big", GOOD), max_bytes=100)


def test_status_shows_a_run_in_progress_only_while_its_lock_is_held(store: Store) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with run_lock(store, now):
        assert status(store)["running_since"] == now.isoformat(timespec="seconds") + "Z"
    assert status(store)["running_since"] is None
    with run_lock(store, now - dt.timedelta(hours=2)):  # a lease that ran out: not running
        assert status(store)["running_since"] is None


def test_url_secrets_never_reach_the_store_or_the_report(store: Store, server: Server, clock: Clock) -> None:
    url = server.serve("/m", GOOD) + "?token=s3cret-tok"
    report = run(store, {"openrouter": url, "models-dev": "http://user:s3cret-pw@127.0.0.1:9/x?key=s3cret-tok"},
                 now=clock, attempts=1)
    text = json.dumps(report) + json.dumps(status(store)) + json.dumps(changes(store, dt.timedelta(days=1),
                                                                               now=clock.now))
    assert report["sources"][0]["outcome"] == "ok" and report["sources"][1]["outcome"] == "failed"
    assert "s3cret" not in text
    with store.session() as s:
        assert all("s3cret" not in loc for loc in s.scalars(select(SnapshotRecord.location)))
