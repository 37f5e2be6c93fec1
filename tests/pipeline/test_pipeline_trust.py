"""Prices a user can trust after a full pipeline run on the recorded real snapshots.

No reseller or subscription bundle is any model's default price; the names the issue found twice are
one model each; ``market frontier`` stays short; a price in force before a dated change keeps its history.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

from pipeline_helpers import REAL, Clock
from starlette.testclient import TestClient
from typer.testing import CliRunner

from satisfice.catalog.repository import load_catalog
from satisfice.cli import app
from satisfice.market.cost import cost
from satisfice.pipeline import run
from satisfice.store import Store
from satisfice.web import create_app


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def test_full_run_defaults_to_first_party_prices_and_joins_duplicates(bundled_store: Store, db_url: str,
                                                                       clock: Clock) -> None:
    report = run(bundled_store, {name: str(path) for name, path in REAL.items()}, now=clock)
    assert report["ok"], report["failed"]
    catalog = load_catalog(bundled_store)
    day = dt.date.fromisoformat(report["sources"][-1]["fetched_at"][:10])  # after the bundled import's time
    kinds = {o.provider_kind for o in catalog.offers}
    assert kinds == {"first-party", "serving", "reseller", "subscription"}  # every kind is present and labelled
    for model in catalog.models:
        offer = catalog.price_at(model, day)
        assert offer is None or offer.provider_kind in ("first-party", "serving"), (model, offer)
        cheapest = catalog.price_at(model, day, provider="any")
        assert cheapest is None or cheapest.provider_kind in ("first-party", "serving"), (model, cheapest)
    # Claude Opus 5: $10 blended at Anthropic, although quicksilverpro lists $2.50
    opus = catalog.price_at("claude-opus-5", day)
    assert opus is not None and (opus.provider, opus.blended()) == ("anthropic", 10.0)
    resold = catalog.price_at("claude-opus-5", day, provider="quicksilverpro")
    assert resold is not None and resold.provider_kind == "reseller" and resold.blended() == 2.5
    copilot = catalog.price_at("claude-opus-5", day, provider="github-copilot")
    assert copilot is not None and copilot.provider_kind == "subscription"
    # the workload calculator bills the first-party price, never a subscription bundle
    (row,) = cost(catalog, ["claude-opus-5"], 1e8, as_of=day).rows
    assert (row.provider, row.provider_kind) == ("anthropic", "first-party")
    # one model per real model, one spelling per organization
    names: dict[str, set[str]] = {}
    for m in catalog.models.values():
        names.setdefault(_key(m.name), set()).add(m.id)
    for name in ("GLM 5.2", "GLM-5.2", "Qwen3.7 Plus", "Kimi K2.7 Code", "Kimi K2.6", "GLM-4.7"):
        assert len(names[_key(name)]) == 1, (name, names[_key(name)])
    orgs: dict[str, set[str]] = {}
    for m in catalog.models.values():
        if m.organization:
            orgs.setdefault(m.organization.lower(), set()).add(m.organization)
    assert all(len(spellings) == 1 for spellings in orgs.values()), [s for s in orgs.values() if len(s) > 1]
    assert catalog.models["claude-opus-5"].organization == "Anthropic"
    assert catalog.models["glm-5.2"].model_kind == "chat"


def test_frontier_after_a_full_run_is_short_and_counts_the_unscored(bundled_store: Store, db_url: str,
                                                                    clock: Clock) -> None:
    run(bundled_store, {name: str(path) for name, path in REAL.items()}, now=clock)
    runner = CliRunner()
    args = ["--db", db_url, "market", "frontier", "--benchmark", "gpqa-diamond", "--threshold", "70"]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert len(text.output.encode()) < 3000, len(text.output.encode())
    match = re.search(r"([\d,]+) models have no GPQA Diamond score .*`--show-unscored` lists them", text.output)
    assert match is not None and int(match.group(1).replace(",", "")) > 500
    doc = json.loads(runner.invoke(app, [*args, "--json"]).output)
    assert doc["unscored_count"] == int(match.group(1).replace(",", "")) and doc["no_score"] == []
    listed = json.loads(runner.invoke(app, [*args, "--json", "--show-unscored"]).output)
    assert len(listed["no_score"]) == doc["unscored_count"]
    every = json.loads(runner.invoke(app, [*args, "--json", "--kind", "all"]).output)
    assert every["unscored_count"] > doc["unscored_count"]  # image, audio ... models are left out by default
    show = json.loads(runner.invoke(app, ["--db", db_url, "catalog", "show", "claude-opus-5", "--json"]).output)
    assert show["price"]["provider"] == "anthropic" and show["price"]["provider_kind"] == "first-party"
    assert {p["provider_kind"] for p in show["prices"]} == {"first-party", "serving", "reseller", "subscription"}
    # the /market page: one line with a link, the names only when asked
    with TestClient(create_app(bundled_store)) as client:
        page = client.get("/market?benchmark=gpqa-diamond&threshold=70").text
        assert "no GPQA Diamond score" in page and "show_unscored=1" in page
        assert len(page) < len(client.get("/market?benchmark=gpqa-diamond&threshold=70&show_unscored=1").text)
        workload = client.get("/api/market?benchmark=gpqa-diamond&threshold=70").json()["workload"]
        assert all(r["provider_kind"] in ("first-party", "serving", None) for r in workload["rows"])


def test_a_price_before_a_dated_change_keeps_its_history(store: Store, clock: Clock) -> None:
    """genai-prices lists Claude Sonnet 5 at $2/$10 until 2026-08-31 and $3/$15 from 2026-09-01."""
    data = REAL["genai-prices"].parent / "genai_prices_data.json"
    run(store, {"models-dev": str(REAL["models-dev"]), "genai-prices": str(data)}, now=clock)
    catalog = load_catalog(store)
    before = catalog.price_at("claude-sonnet-5", dt.date(2026, 8, 15))
    after = catalog.price_at("claude-sonnet-5", dt.date(2026, 9, 15))
    assert before is not None and (before.input_per_m, before.output_per_m) == (2.0, 10.0)
    assert after is not None and (after.input_per_m, after.output_per_m) == (3.0, 15.0)
    assert before.provider == after.provider == "anthropic" and "start not given" in before.source


def test_a_release_date_learned_later_does_not_renew_known_listings(bundled_store: Store, clock: Clock,
                                                                   tmp_path: Path) -> None:
    """genai-prices lists models whose release date only OpenRouter gives: the first run dates their prices on the
    run day; once OpenRouter taught the release date, re-reading the same prices must change nothing (it used to
    count 75 new offers and 75 gone listings, and the pipeline benchmark failed its own check)."""
    sources = {name: str(REAL[name]) for name in ("models-dev", "genai-prices", "litellm", "openrouter")}
    assert run(bundled_store, sources, now=clock)["ok"]
    data = tmp_path / "data.py"
    with zipfile.ZipFile(REAL["genai-prices"]) as wheel:
        data.write_bytes(wheel.read("genai_prices/data.py") + b"\n# same prices, other bytes\n")
    again = run(bundled_store, {**sources, "genai-prices": str(data)}, now=clock)
    assert again["ok"]
    totals = again["totals"]
    assert (totals["new_offers"], totals["gone"], totals["changed_prices"]) == (0, 0, 0), totals
