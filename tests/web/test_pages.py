"""The dashboard in-process: every page and its JSON twin, escaping, read-only store, parameters, token."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import MetaData, Table, func, select, text
from sqlalchemy.exc import DBAPIError
from starlette.testclient import TestClient

from satisfice.evals.results import results_from_dict
from satisfice.gateway.observability.report import gateway_report
from satisfice.reports.eval_report import to_html
from satisfice.store import Store
from satisfice.store.schema_evals import EvalRunRecord
from satisfice.web import create_app

from .seed import HOSTILE_ID, HOSTILE_MODEL_IN_EVAL, HOSTILE_NAME, HOSTILE_ORG, HOSTILE_ROUTE, LEDGER_SPENT

PAGES = ["/", "/market", "/catalog", f"/catalog/{HOSTILE_ID}", "/catalog/o1", "/evals", "/gateway", "/pipeline"]
RAW_MARKUP = re.compile(r"<script>alert|<img src=x|<b>bold</b>|<i>prov</i>|<a href=javascript")


def _pages(runs: list[int]) -> list[str]:
    return [*PAGES, f"/evals/{runs[0]}", "/market?benchmark=gpqa-diamond&threshold=90", "/gateway?days=all"]


def test_every_page_and_its_json_twin(client: TestClient, seeded: tuple[str, list[int]]) -> None:
    for path in _pages(seeded[1]):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        api = "/api/insights" if path == "/" else "/api" + path
        twin = client.get(api)
        assert twin.status_code == 200, (api, twin.text[:300])
        assert twin.headers["content-type"] == "application/json"
        assert isinstance(twin.json(), dict)
        assert 'href="' + api.replace("&", "&amp;") in page.text  # the page links its twin
    index = client.get("/api").json()
    assert {p["name"] for p in index["pages"]} >= {"insights", "market", "catalog", "evals", "gateway", "pipeline"}


def test_imported_markup_is_escaped_everywhere(client: TestClient, seeded: tuple[str, list[int]]) -> None:
    for path in _pages(seeded[1]) + ["/catalog?q=evil", "/gateway?route=" + HOSTILE_ROUTE]:
        body = client.get(path).text
        assert not RAW_MARKUP.search(body), (path, RAW_MARKUP.search(body))
    catalog = client.get("/catalog?q=evil").text
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;Evil&lt;/b&gt;" in catalog
    assert "&lt;img src=x onerror=alert(2)&gt;" in catalog
    model = client.get(f"/catalog/{HOSTILE_ID}").text
    assert "\\u0026lt;script\\u0026gt;" in model  # chart spec: the label entity-escaped, then JSON-escaped
    run = client.get(f"/evals/{seeded[1][0]}").text
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in run
    # the JSON twins carry the names as data, unchanged
    assert client.get(f"/api/catalog/{HOSTILE_ID}").json()["name"] == HOSTILE_NAME
    assert client.get(f"/api/catalog/{HOSTILE_ID}").json()["organization"] == HOSTILE_ORG
    routes = {r["route"] for r in client.get("/api/gateway?days=all").json()["routes"]}
    assert HOSTILE_ROUTE in routes
    models = {m["model"] for m in client.get(f"/api/evals/{seeded[1][0]}").json()["results"]["models"]}
    assert HOSTILE_MODEL_IN_EVAL in models


def _table_counts(store: Store) -> dict[str, tuple[int, object]]:
    meta = MetaData()
    meta.reflect(store.engine)
    out = {}
    with store.engine.connect() as conn:
        for name, table in meta.tables.items():
            assert isinstance(table, Table)
            out[name] = (conn.execute(select(func.count()).select_from(table)).scalar_one(), None)
    return out


def test_pages_never_write_and_the_store_refuses_writes(client: TestClient, ro_store: Store,
                                                        seeded: tuple[str, list[int]]) -> None:
    from satisfice.store import open_store

    rw = open_store(seeded[0])
    try:
        before = _table_counts(rw)
        for path in _pages(seeded[1]):
            assert client.get(path).status_code == 200
            assert client.post(path).status_code == 405
        assert _table_counts(rw) == before
    finally:
        rw.close()
    with pytest.raises(DBAPIError), ro_store.engine.begin() as conn:
        conn.execute(text("DELETE FROM gateway_spend"))


def test_bad_parameters_are_one_line_errors(client: TestClient) -> None:
    cases = {"/market?threshold=abc": "must be a number",
             "/market?input_share=2": "input share", "/market?as_of=2025-13-01": "YYYY-MM-DD",
             "/market?tokens_per_day=lots": "token count", "/catalog?weights=maybe": "must be one of",
             "/gateway?days=5": "must be one of", "/evals?page=0": "within", "/catalog?max_price=nan": "finite"}
    for path, message in cases.items():
        page = client.get(path)
        assert page.status_code == 400 and message in page.text, (path, page.text[:300])
        api = client.get("/api" + path)
        assert api.status_code == 400 and message in api.json()["error"]
    unknown = client.get("/market?benchmark=nope")
    assert unknown.status_code == 404 and "unknown benchmark" in unknown.text
    assert client.get("/catalog/no-such-model").status_code == 404
    assert client.get("/api/evals/999999").status_code == 404
    assert client.get("/evals/abc").status_code == 404


def test_market_pickers_change_the_analysis(client: TestClient) -> None:
    low = client.get("/api/market?benchmark=gpqa-diamond&threshold=50").json()
    high = client.get("/api/market?benchmark=gpqa-diamond&threshold=80").json()
    assert len(low["frontier"]["models"]) > len(high["frontier"]["models"]) > 0
    assert all(m["score"] >= 80 for m in high["frontier"]["models"])
    even = client.get("/api/market?benchmark=gpqa-diamond&threshold=80&input_share=0.5").json()
    assert even["blend"] == "1:1 input:output" and even["frontier"] != high["frontier"]
    past = client.get("/api/market?benchmark=gpqa-diamond&threshold=80&as_of=2025-03-01").json()
    assert all(m["release_date"] <= "2025-03-01" for m in past["frontier"]["models"])
    bill = client.get("/api/market?benchmark=gpqa-diamond&threshold=80&tokens_per_day=1B").json()
    first = bill["workload"]["rows"][0]
    assert first["annual_usd"] == pytest.approx(first["blended_price"] * 1000 * 365)


def test_catalog_filters(client: TestClient) -> None:
    every = client.get("/api/catalog").json()
    open_ = client.get("/api/catalog?weights=open").json()
    assert 0 < open_["matched"] < every["matched"] and all(m["weights"] == "open" for m in open_["models"])
    strong = client.get("/api/catalog?benchmark=gpqa-diamond&min_score=80").json()
    assert strong["matched"] > 0 and all(m["scores"]["gpqa-diamond"] >= 80 for m in strong["models"])
    cheap = client.get("/api/catalog?max_price=1&sort=price").json()
    prices = [m["blended_price"] for m in cheap["models"]]
    assert prices == sorted(prices) and max(prices) <= 1
    assert [m["model"] for m in client.get("/api/catalog?q=evil").json()["models"]] == [HOSTILE_ID]
    model = client.get("/api/catalog/deepseek-r1").json()
    assert model["offers"] and model["scores"] and all(s["source"] for s in model["scores"])


def test_insights_lag_analysis(client: TestClient) -> None:
    doc = client.get("/api/insights").json()
    lag = doc["lag"]
    assert lag["n_observed"] > 10 and lag["median_days"] is not None
    lo, hi = lag["median_ci90_days"]
    assert lo <= lag["median_days"] <= hi
    bars = lag["bars"]
    assert {b["benchmark"] for b in bars} >= {"gpqa-diamond", "mmlu"}
    observed = [b for b in bars if b["status"] == "observed"]
    assert all(b["lag_days"] is not None and b["first_open"] and b["first_closed"] for b in observed)
    assert doc["findings"] and "Median lag" in doc["findings"][0]
    assert doc["workload"]["rows"] and all(r["first_closed_annual"] > 0 for r in doc["workload"]["rows"])


def test_gateway_page_matches_gateway_report(client: TestClient, ro_store: Store) -> None:
    doc = client.get("/api/gateway?days=all").json()
    report = {r.route: r for r in gateway_report(ro_store).routes}
    assert {r["route"] for r in doc["routes"]} == set(report)
    for r in doc["routes"]:
        ref = report[r["route"]]
        assert r["requests"] == ref.requests and r["errors"] == ref.errors and r["escalated"] == ref.escalated
        assert r["spend_usd"] == pytest.approx(ref.spend_usd) and r["savings_usd"] == pytest.approx(ref.savings_usd)
        assert r["agreement"] == pytest.approx(ref.agreement) and r["flag"] == ref.flag
        assert r["agreement_low"] == pytest.approx(ref.agreement_low)
    assert {r["flag"] for r in doc["routes"]} & {"below", "watch"}  # task/summaries agrees ~60% under a 0.9 bar
    assert sum(r["requests"] for r in doc["series"]) == sum(r["requests"] for r in doc["routes"]) == 3000
    keys = doc["keys"]
    budgeted = next(k for k in keys if k["budget_usd"])
    assert budgeted["period_spend_source"] == "ledger" and budgeted["period_spend_usd"] == LEDGER_SPENT
    assert budgeted["budget_used"] == pytest.approx(LEDGER_SPENT / 50.0)
    for r in doc["routes"]:
        assert r["usage_invalid"] == report[r["route"]].usage_invalid > 0
        assert r["over_reservation"] == report[r["route"]].over_reservation > 0
    one = client.get("/api/gateway?days=all&route=task/sentiment").json()
    assert sum(r["requests"] for r in one["series"]) == next(
        r["requests"] for r in doc["routes"] if r["route"] == "task/sentiment")
    key_id = budgeted["key"]
    by_key = client.get(f"/api/gateway?days=all&key={key_id}").json()
    assert sum(r["requests"] for r in by_key["series"]) == budgeted["requests"] == 1500
    assert client.get(f"/api/gateway?route=task/sentiment&key={key_id}").status_code == 400
    day = client.get("/api/gateway?days=1").json()
    assert day["bucket"] == "hour" and 0 < sum(r["requests"] for r in day["series"]) < 3000


def test_eval_page_shares_the_report_template(client: TestClient, ro_store: Store,
                                              seeded: tuple[str, list[int]]) -> None:
    run_id = seeded[1][0]
    with ro_store.session() as s:
        record = s.get(EvalRunRecord, run_id)
        assert record is not None and record.summary
        results = results_from_dict(json.loads(record.summary))
    page = client.get(f"/evals/{run_id}").text
    standalone = to_html(results)
    for fragment in ('id="eval-table"', 'id="decision"', "chart-spec"):
        assert fragment in page and fragment in standalone
    assert results.sentence.split(" ")[0] in page
    assert "/static/plotly.min.js" in page and "<script src=" not in standalone  # self-contained: JS inline
    runs = client.get("/api/evals").json()
    assert runs["total"] == 6 and runs["runs"][0]["run"] == max(seeded[1])
    assert client.get("/api/evals?task=extraction").json()["total"] == 3


def test_pipeline_page_is_honest_without_a_pipeline(client: TestClient) -> None:
    doc = client.get("/api/pipeline").json()
    if not doc["set_up"]:
        assert "not set up" in doc["message"]
        assert "not set up" in client.get("/pipeline").text


def test_token_guard(ro_store: Store) -> None:
    token = "s3cret-token-0123456789"
    with TestClient(create_app(ro_store, token=token), follow_redirects=False) as c:
        assert c.get("/").status_code == 401 and c.get("/api/catalog").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer wrong-token-000000"}).status_code == 401
        assert c.get("/catalog", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        hop = c.get(f"/catalog?weights=open&token={token}")
        assert hop.status_code == 303 and hop.headers["location"] == "/catalog?weights=open"
        assert "httponly" in hop.headers["set-cookie"].lower()
        assert c.get("/catalog?weights=open").status_code == 200  # the cookie now
        assert c.get("/static/plotly.min.js").status_code == 200



def test_gateway_rollup_reads_new_rows(client: TestClient, ro_store: Store, seeded: tuple[str, list[int]]) -> None:
    from satisfice.store import open_store

    from .seed import seed_gateway

    before = client.get("/api/gateway?days=all").json()
    rw = open_store(seeded[0])
    try:
        seed_gateway(rw, 30, hostile=False, seed=99)
    finally:
        rw.close()
    after = client.get("/api/gateway?days=all").json()
    assert sum(r["requests"] for r in after["routes"]) == sum(r["requests"] for r in before["routes"]) + 30
    report = {r.route: r for r in gateway_report(ro_store).routes}
    for r in after["routes"]:
        assert r["requests"] == report[r["route"]].requests
        assert r["spend_usd"] == pytest.approx(report[r["route"]].spend_usd)
    assert len(after["keys"]) == len(before["keys"]) + 2


def test_host_check_against_dns_rebinding(ro_store: Store) -> None:
    hosts = frozenset({"127.0.0.1", "localhost", "::1"})
    with TestClient(create_app(ro_store, hosts=hosts), base_url="http://127.0.0.1:8090") as c:
        assert c.get("/api").status_code == 200
        assert c.get("/api", headers={"host": "localhost:8090"}).status_code == 200
        assert c.get("/api", headers={"host": "[::1]:8090"}).status_code == 200
        refused = c.get("/api", headers={"host": "attacker.example:8090"})
        assert refused.status_code == 400 and "Host" in refused.text
