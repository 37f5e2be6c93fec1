"""Fill a store with what the dashboard shows: a hostile catalog import, gateway traffic, keys, eval runs.

Used by the web tests and by benchmarks/web_pages.py (100,000 spend rows, 50 eval runs).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from sqlalchemy import insert

from satisfice.catalog.bundled import ensure_bundled
from satisfice.catalog.repository import apply_batch
from satisfice.catalog.sources import parse_file
from satisfice.core import Price
from satisfice.evals.cache import ResponseCache
from satisfice.evals.pricing import PriceInfo
from satisfice.evals.results import ItemOutcome, results_to_dict, summarise
from satisfice.gateway.money.keys import create_key, period_tag
from satisfice.store import Store
from satisfice.store.schema_evals import EvalDecisionRecord
from satisfice.store.schema_gateway import GatewayLedger, GatewayShadow, GatewaySpend
from satisfice.tasks.threshold import Threshold

HOSTILE_NAME = '<script>alert("pwned")</script>Evil</b>'
HOSTILE_ID = "evil-model"
HOSTILE_ORG = "<img src=x onerror=alert(2)>"
HOSTILE_ROUTE = "task/<script>alert(3)</script>"
HOSTILE_MODEL_IN_EVAL = "<b>bold</b><script>alert(4)</script>"
LEDGER_SPENT = 12.5
"""What the shared ledger says the first key spent this month (the page shows the ledger's figure)."""
NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def hostile_catalog_file(tmp: Path) -> Path:
    """A satisfice-format CSV with a model whose name and organization carry markup, clearing GPQA 90."""
    path = tmp / "hostile.csv"
    path.write_text(
        "id,name,organization,open_weights,release_date,provider,input_per_m,output_per_m,score:gpqa-diamond,"
        "price_source,score_source\n"
        f'{HOSTILE_ID},"{HOSTILE_NAME.replace(chr(34), chr(34) * 2)}",{HOSTILE_ORG},true,2026-01-10,'
        '<i>prov</i>,0.2,0.8,91.5,<script>alert(5)</script>,"<a href=javascript:alert(6)>src</a>"\n',
        encoding="utf-8")
    return path


def seed_catalog(store: Store, tmp: Path, *, hostile: bool = True) -> None:
    """The bundled catalog, plus (by default) the hostile model."""
    ensure_bundled(store)
    if hostile:
        apply_batch(store, parse_file(hostile_catalog_file(tmp)))


def seed_gateway(store: Store, rows: int, *, now: dt.datetime = NOW, days: int = 30, seed: int = 7,
                 hostile: bool = True) -> list[str]:
    """``rows`` spend rows over ``days`` days on three routes (one hostile name), shadow checks and two keys."""
    rng = random.Random(seed)
    team = "team <b>a</b>" if hostile else "team a"
    keys = [create_key(store, budget_usd=50.0, period="month", name=team).info.id,
            create_key(store, budget_usd=None, period="total", name="batch").info.id]
    routes = ["task/sentiment", "task/summaries", HOSTILE_ROUTE if hostile else "gpt-4o-mini"]
    start = now - dt.timedelta(days=days)
    span = days * 86400
    spend = []
    for i in range(rows):
        route = routes[i % 3]
        failed = rng.random() < 0.02
        cost = 0.0 if failed else rng.uniform(0.0001, 0.002)
        spend.append({
            "created_at": start + dt.timedelta(seconds=rng.uniform(0, span)), "key_id": keys[i % 2],
            "route": route, "endpoint": "chat", "stream": False, "models_tried": '["cheap"]', "model": "cheap",
            "upstream": "local", "input_tokens": 300, "output_tokens": 50, "tokens_estimated": False,
            "cost_usd": cost, "reference_cost_usd": None if failed else cost * 8, "latency_ms": 120.0,
            "escalations": 1 if rng.random() < 0.1 else 0, "errors": "[]", "status": 502 if failed else 200,
            "outcome": "error" if failed else "ok", "usage_invalid": i % 97 == 0, "over_reservation": i % 211 == 0})
    shadow = []
    for i in range(max(rows // 100, 30)):
        route = routes[i % 3]
        agree = rng.random() < (0.6 if route == "task/summaries" else 0.97)
        shadow.append({"created_at": start + dt.timedelta(seconds=rng.uniform(0, span)), "route": route,
                       "served_model": "cheap", "reference_model": "dear", "method": "exact",
                       "agreement": 1.0 if agree else 0.0, "threshold": 0.9, "cost_usd": 0.001, "latency_ms": 300.0,
                       "error": None})
    with store.transaction() as s:
        for chunk in range(0, len(spend), 5000):
            s.execute(insert(GatewaySpend), spend[chunk:chunk + 5000])
        s.execute(insert(GatewayShadow), shadow)
        s.add(GatewayLedger(key_id=keys[0], period=period_tag("month", now), spent_usd=LEDGER_SPENT))
    return keys


def _outcomes(model: str, n: int, accuracy: float, rng: random.Random) -> list[ItemOutcome]:
    return [ItemOutcome(model=model, index=i, item_id=str(i), status="scored",
                        score=1.0 if rng.random() < accuracy else 0.0, has_response=True, input_tokens=200,
                        output_tokens=20, latency_s=0.2 + rng.random() / 5, cost_usd=None)
            for i in range(n)]


def seed_evals(store: Store, runs: int, *, items: int = 60, seed: int = 11, hostile: bool = True) -> list[int]:
    """``runs`` finished eval runs of two tasks, three models each (one with a hostile name)."""
    rng = random.Random(seed)
    cache = ResponseCache(store)
    models = {"cheap-model": (0.82, Price(0.1, 0.4)), "dear-model": (0.9, Price(3.0, 15.0)),
              (HOSTILE_MODEL_IN_EVAL if hostile else "tiny-model"): (0.5, Price(0.05, 0.1))}
    prices = {m: PriceInfo(m, p, "override") for m, (_, p) in models.items()}
    ids = []
    for r in range(runs):
        task = "sentiment" if r % 2 == 0 else "extraction"
        outcomes = [o for m, (acc, _) in models.items() for o in _outcomes(m, items, acc, rng)]
        outcomes = [_priced(o, prices[o.model].price) for o in outcomes]
        res = summarise(task, outcomes, models=list(models), threshold=Threshold(bar=0.7), prices=prices,
                        items=items, reference="dear-model")
        run_id = cache.start_run(task, "0" * 64, f"{task}.yaml", list(models))
        res.run_id = run_id
        cache.finish_run(run_id, status="complete", spent_usd=0.01 * (r + 1), calls=items * 3, cache_hits=0,
                         summary=results_to_dict(res))
        with store.transaction() as s:
            s.add(EvalDecisionRecord(task=task, run_id=run_id, created_at=NOW, threshold="accuracy >= 0.7",
                                     passing=json.dumps([m.model for m in res.models if m.decision == "pass"]),
                                     reference="dear-model", recommended=res.recommended, candidates="{}"))
        ids.append(run_id)
    return ids


def _priced(o: ItemOutcome, price: Price | None) -> ItemOutcome:
    from dataclasses import replace

    if price is None:
        return o
    cost = (o.input_tokens * price.input_per_m + o.output_tokens * price.output_per_m) / 1e6
    return replace(o, cost_usd=cost)
