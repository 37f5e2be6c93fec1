"""What ``/catalog`` (models with filters) and ``/catalog/<model>`` (prices over time, scores, sources) show."""

from __future__ import annotations

import datetime as dt
from typing import Any

from satisfice.catalog.rows import Catalog
from satisfice.errors import NotFoundError
from satisfice.market.common import benchmark_name, openness, scored_benchmarks
from satisfice.web import charts
from satisfice.web.params import Params
from satisfice.web.readonly import CatalogCache

MAX_ROWS = 500
SORTS = ("release", "name", "price", "score")


def _rows(catalog: Catalog, share: float) -> list[dict[str, Any]]:
    """Every model with its latest cheapest blended price and its scores (one row each)."""
    rows = []
    benches = scored_benchmarks(catalog)
    for m in catalog.models.values():
        offer = catalog.price_at(m.id, dt.date.max, input_share=share)
        scores = {b: s.value for b in benches if (s := catalog.score(m.id, b)) is not None}
        rows.append({"model": m.id, "name": m.name, "organization": m.organization, "weights": openness(m),
                     "release_date": m.release_date.isoformat() if m.release_date else None,
                     "reasoning": m.reasoning, "blended_price": offer.blended(share) if offer else None,
                     "provider": offer.provider if offer else None, "scores": scores})
    return rows


def catalog_list(cache: CatalogCache, p: Params) -> dict[str, Any]:
    """Models filtered by name, organization, weights, a minimum score and a maximum price."""
    share = p.input_share()
    q, org = (p.text("q") or "").lower(), p.text("organization")
    weights = p.choice("weights", ("all", "open", "closed", "unknown"), "all")
    bench, min_score, max_price = p.text("benchmark"), p.number("min_score"), p.number("max_price")
    sort = p.choice("sort", SORTS, "release")
    fp, catalog = cache.catalog()
    benches = scored_benchmarks(catalog)
    if bench is not None and bench not in benches:
        from satisfice.web.params import BadParameter

        raise BadParameter(f"parameter 'benchmark' must be one of {', '.join(benches)}; got {bench!r}")
    rows = cache.derived(("catalog-rows", share), lambda c: _rows(c, share))
    out = []
    for r in rows:
        if q and q not in r["name"].lower() and q not in r["model"]:
            continue
        if org and (r["organization"] or "").lower() != org.lower():
            continue
        if weights != "all" and r["weights"] != weights:
            continue
        if bench and min_score is not None and (r["scores"].get(bench) is None or r["scores"][bench] < min_score):
            continue
        if max_price is not None and (r["blended_price"] is None or r["blended_price"] > max_price):
            continue
        out.append(r)
    keys = {"release": lambda r: (r["release_date"] or "", r["name"]), "name": lambda r: r["name"].lower(),
            "price": lambda r: (r["blended_price"] is None, r["blended_price"] or 0.0),
            "score": lambda r: (-(r["scores"].get(bench or (benches[0] if benches else ""), -1e9)))}
    out.sort(key=keys[sort], reverse=sort == "release")
    orgs = cache.derived("orgs", lambda c: sorted({m.organization for m in c.models.values() if m.organization}))
    return {"data": {"total": len(rows), "matched": len(out), "shown": min(len(out), MAX_ROWS),
                     "benchmarks": [{"slug": b, "name": benchmark_name(catalog, b)} for b in benches],
                     "organizations": orgs, "input_share": share, "models": out[:MAX_ROWS],
                     "filters": {"q": p.text("q"), "organization": org, "weights": weights, "benchmark": bench,
                                 "min_score": min_score, "max_price": max_price, "sort": sort}},
            "charts": {}}


def model_page(cache: CatalogCache, model_id: str, p: Params) -> dict[str, Any]:
    """One model: facts, price history per provider (chart and table), scores with sources."""
    share = p.input_share()
    _, catalog = cache.catalog()
    m = catalog.models.get(model_id)
    if m is None:
        raise NotFoundError(f"no model {model_id!r} in the catalog")
    offers = catalog.offers_of(m.id)
    series: dict[str, list[tuple[dt.date, float]]] = {}
    for o in offers:
        price = o.blended(share)
        if price is not None:
            series.setdefault(o.provider, []).append((o.effective_date, price))
    scores = [s for s in catalog.scores if s.model_id == m.id]
    from satisfice.core import blend_label

    data = {
        "model": m.id, "name": m.name, "organization": m.organization, "weights": openness(m),
        "release_date": m.release_date.isoformat() if m.release_date else None, "reasoning": m.reasoning,
        "licence": m.licence, "params_total_b": m.params_total_b, "params_active_b": m.params_active_b,
        "input_share": share, "blend": blend_label(share),
        "offers": [{"provider": o.provider, "provider_kind": o.provider_kind,
                    "effective_date": o.effective_date.isoformat(),
                    "input_per_m": o.input_per_m, "output_per_m": o.output_per_m,
                    "cached_input_per_m": o.cached_input_per_m, "blended_per_m": o.blended(share),
                    "note": o.blend_note(share), "source": o.source} for o in offers],
        "scores": [{**s.to_json(), "benchmark_name": benchmark_name(catalog, s.benchmark)} for s in scores],
        "sources": sorted({o.source for o in offers if o.source} | {s.source for s in scores if s.source}),
    }
    figure = charts.price_history_figure(m.name, series, blend_label(share), dt.date.today())
    return {"data": data, "charts": {"prices": figure}}
