"""`satisfice catalog import / list / show`: load price and score files, browse models, prices and sources."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from satisfice.catalog.harness import PRECEDENCE, rank
from satisfice.cli.common import Json, console, in_range, parse_date, print_json, state
from satisfice.core import DEFAULT_INPUT_SHARE, blend_label
from satisfice.errors import NotFoundError
from satisfice.formatting import usd

if TYPE_CHECKING:
    from satisfice.catalog.rows import Catalog, ModelRow, OfferRow

MAIN_BENCHMARKS = ("mmlu", "gpqa-diamond", "swe-bench-verified")
PRICE_RULE = ("the model's first-party offer in force on the date (no first-party offer: the cheapest serving "
              "provider's); resellers and subscription bundles are never the default")
ANY_RULE = "the cheapest per-token list price (first-party or serving) in force on the date"


def price_rule(provider: str | None) -> str:
    """The price rule a ``--provider`` value selects, in words."""
    if provider is None:
        return PRICE_RULE
    return ANY_RULE if provider == "any" else f"provider {provider}'s offer in force on the date"


def check_provider(catalog: Catalog, provider: str | None) -> None:
    """A ``--provider`` that names no provider of the catalog is an error naming close ones (a typo is not $0)."""
    if provider is None or provider == "any":
        return
    known = sorted({o.provider for o in catalog.offers})
    if provider not in known:
        close = difflib.get_close_matches(provider, known, n=5)
        raise typer.BadParameter(f"no offer from provider {provider!r}" + (
            f"; did you mean {', '.join(close)}?" if close else "; give 'any' or a provider id"),
            param_hint="--provider")


ProviderOption = Annotated[str | None, typer.Option(
    "--provider", help="Whose price: default the first-party offer; 'any' compares every per-token list price "
    "(first-party and serving); or a provider id. Resellers and subscriptions are only shown when named.")]


def register(root: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    group = typer.Typer(name="catalog", rich_markup_mode=None, no_args_is_help=True,
                        help="Models, dated prices and scores, each with its source.")
    group.command("import")(import_file)
    group.command("list")(list_models)
    group.command("show")(show_model)
    root.add_typer(group, name="catalog")


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="File to import.")],
    fmt: Annotated[str | None, typer.Option("--format", help="File format (default: detected); "
                                            "`satisfice plugins` lists them.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Effective date of undated prices (litellm, "
                                              "openrouter, models-dev, genai-prices); default today.")] = None,
    json_out: Json = False,
) -> None:
    """Import prices and scores from FILE (atomic; importing the same file again adds nothing)."""
    from satisfice.catalog.repository import apply_batch
    from satisfice.catalog.sources import SOURCES, detect_format, parse_file

    day = parse_date(as_of)
    name = SOURCES.get(fmt, "import format").format_name if fmt is not None else detect_format(file)
    batch = parse_file(file, name, day)
    result = apply_batch(state(ctx).store(), batch)
    added = {"models": result.models_added, "offers": result.offers_added, "scores": result.scores_added}
    if json_out:
        print_json({"file": str(file), "format": name, "as_of": day, "read": batch.counts(), "added": added})
        return
    read = batch.counts()
    console.print(Text(f"{file} ({name}): read {read['models']} models, {read['offers']} prices, {read['scores']} "
                       f"scores; added {added['models']} models, {added['offers']} prices, {added['scores']} scores"
                       + (" (nothing new)" if not any(added.values()) else "")))


def _benchmark(catalog: Catalog, value: str) -> str:
    from satisfice.catalog.batch import BENCHMARKS, slugify

    known = {**{b: b for b in BENCHMARKS}, **{b: b for b in catalog.benchmarks}}
    slug = slugify(value)
    if slug in known:
        return slug
    by_name = {slugify(b.name): b.slug for b in [*BENCHMARKS.values(), *catalog.benchmarks.values()]}
    if slug in by_name:
        return by_name[slug]
    raise typer.BadParameter(f"unknown benchmark {value!r}; known: {', '.join(sorted(known))}",
                             param_hint="--benchmark")


def _offer_json(offer: OfferRow | None, share: float) -> dict[str, Any] | None:
    if offer is None:
        return None
    return {"provider": offer.provider, "provider_kind": offer.provider_kind,
            "effective_date": offer.effective_date, "blended_price": offer.blended(share),
            "input_per_m": offer.input_per_m, "output_per_m": offer.output_per_m,
            "cached_input_per_m": offer.cached_input_per_m, "blended_per_m_given": offer.blended_per_m,
            "blend_input_share_given": offer.blend_input_share, "blend_note": offer.blend_note(share),
            "source": offer.source}


def _model_json(model: ModelRow) -> dict[str, Any]:
    return {"id": model.id, "name": model.name, "kind": model.model_kind, "organization": model.organization,
            "open_weights": model.open_weights, "release_date": model.release_date, "reasoning": model.reasoning,
            "licence": model.licence, "params_total_b": model.params_total_b,
            "params_active_b": model.params_active_b}


def _fmt_price(value: float | None) -> str:
    return usd(value)


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("open" if value else "closed")


def list_models(
    ctx: typer.Context,
    open_weights: Annotated[bool | None, typer.Option("--open/--closed", help="Only open-weights / closed models.")]
    = None,
    benchmark: Annotated[str | None, typer.Option("--benchmark", help="Show (and filter on) this benchmark.")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score", callback=in_range("--min-score", 0),
                                                    help="Keep models scoring at least this on --benchmark.")] = None,
    max_price: Annotated[float | None, typer.Option("--max-price", callback=in_range("--max-price", 0, what="USD "
                                                    "per 1M tokens"), help="Keep models whose blended price (USD "
                                                    "per 1M tokens) at the date is at most this.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The catalog as it stood on this date (default "
                                              "today).")] = None,
    input_share: Annotated[float, typer.Option("--input-share", min=0.0, max=1.0, help="Input share of the "
                                               "blended price.")] = DEFAULT_INPUT_SHARE,
    provider: ProviderOption = None,
    json_out: Json = False,
) -> None:
    """List models with their blended price at a date and their scores."""
    from satisfice.catalog.repository import load_catalog

    day = parse_date(as_of) or dt.date.today()
    if min_score is not None and benchmark is None:
        raise typer.BadParameter("--min-score needs --benchmark", param_hint="--min-score")
    catalog = load_catalog(state(ctx).store())
    check_provider(catalog, provider)
    slug = _benchmark(catalog, benchmark) if benchmark else None
    if as_of is not None:
        catalog = catalog.as_of(day)
    shown = (slug,) if slug else MAIN_BENCHMARKS
    excluded = {"open_weights_unknown": 0, "no_score": 0, "unpriced": 0}
    rows: list[dict[str, Any]] = []
    for model in sorted(catalog.models.values(), key=lambda m: (m.release_date or dt.date.max, m.name.lower())):
        if open_weights is not None and model.open_weights is not open_weights:
            excluded["open_weights_unknown"] += model.open_weights is None
            continue
        scores = {b: (s.value if (s := catalog.score(model.id, b)) else None) for b in shown}
        if slug is not None and min_score is not None:
            if scores[slug] is None:
                excluded["no_score"] += 1
                continue
            if scores[slug] < min_score:  # type: ignore[operator]
                continue
        offer = catalog.price_at(model.id, day, input_share=input_share, provider=provider)
        price = offer.blended(input_share) if offer else None
        if max_price is not None:
            if price is None:
                excluded["unpriced"] += 1
                continue
            if price > max_price:
                continue
        rows.append({**_model_json(model), "blended_price": price, "price": _offer_json(offer, input_share),
                     "scores": scores})
        rows[-1]["score_harness"] = {b: (s.harness if (s := catalog.score(model.id, b)) else None) for b in shown}
    blend = blend_label(input_share)
    if json_out:
        print_json({"as_of": day, "input_share": input_share, "blend": blend, "price_rule": price_rule(provider),
                    "filters": {"open_weights": open_weights, "benchmark": slug, "min_score": min_score,
                                "max_price": max_price},
                    "excluded": excluded, "count": len(rows), "models": rows})
        return
    caption = _list_caption(input_share, blend, day, excluded, slug, rows, price_rule(provider))
    table = Table(title=f"{len(rows)} models on {day}", caption=caption, caption_justify="left")
    table.add_column("id", no_wrap=True)
    for col in ("name", "org", "weights", "released"):
        table.add_column(col)
    table.add_column("$/1M blended", justify="right")
    for b in shown:
        table.add_column(b, justify="right")
    for r in rows:
        note = "*" if r["price"] and r["price"]["blend_note"] else ""
        table.add_row(Text(r["id"]), Text(r["name"]), Text(r["organization"] or "-"), _yes_no(r["open_weights"]),
                      str(r["release_date"] or "-"), _fmt_price(r["blended_price"]) + note,
                      *("-" if r["scores"][b] is None else f"{r['scores'][b]:g} ({r['score_harness'][b] or '?'})"
                        for b in shown))
    console.print(table)


def _list_caption(share: float, blend: str, day: dt.date, excluded: dict[str, int], slug: str | None,
                  rows: list[dict[str, Any]], rule: str) -> Text:
    lines = [f"Blended price: input share {share:g} ({blend}), USD per 1M tokens, {rule} ({day}).",
             "* = a source's own blended price, used as given."]
    if not any(r["price"] and r["price"]["blend_note"] for r in rows):
        lines.pop()
    if excluded["no_score"]:
        lines.append(f"{excluded['no_score']} model(s) have no {slug} score (left out, not counted as failing).")
    if excluded["unpriced"]:
        lines.append(f"{excluded['unpriced']} model(s) have no price on {day} (left out).")
    if excluded["open_weights_unknown"]:
        lines.append(f"{excluded['open_weights_unknown']} model(s) with unknown weights status left out.")
    return Text("\n".join(lines))


def resolve_model(catalog: Catalog, query: str) -> ModelRow:
    """A model by id, slug of a name, or name (any case); unknown -> NotFoundError with close matches."""
    from satisfice.catalog.batch import slugify
    from satisfice.catalog.sources import model_slug

    q = query.strip()
    for candidate in (q, q.lower(), model_slug(q), slugify(q)):
        if candidate in catalog.models:
            return catalog.models[candidate]
    by_name = {m.name.lower(): m for m in catalog.models.values()}
    if q.lower() in by_name:
        return by_name[q.lower()]
    raise NotFoundError(f"no model {query!r} in the catalog" + _suggest(catalog, q))


def _suggest(catalog: Catalog, query: str) -> str:
    """'; did you mean ...?' with up to 5 models whose id contains the query's slug or is close to it."""
    from satisfice.catalog.sources import model_slug

    slug = model_slug(query)
    ids = sorted(catalog.models)
    found = [i for i in ids if slug and slug in i]
    names = {m.name.lower(): m.id for m in catalog.models.values()}
    found += difflib.get_close_matches(slug, ids, n=5, cutoff=0.6)
    found += [names[n] for n in difflib.get_close_matches(query.lower(), list(names), n=5, cutoff=0.6)]
    picks = list(dict.fromkeys(found))[:5]
    if not picks:
        return ""
    return "; did you mean " + ", ".join(f"{i} ({catalog.models[i].name})" for i in picks) + "?"


def show_model(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model id or name.")],
    input_share: Annotated[float, typer.Option("--input-share", min=0.0, max=1.0, help="Input share of the "
                                               "blended price.")] = DEFAULT_INPUT_SHARE,
    json_out: Json = False,
) -> None:
    """Show one model: facts, prices over time per provider, scores with harness and sources."""
    from satisfice.catalog.repository import load_catalog

    catalog = load_catalog(state(ctx).store())
    found = resolve_model(catalog, model)
    offers = sorted(catalog.offers_of(found.id), key=lambda o: (o.provider, o.effective_date))
    scores = _score_rows(catalog, found.id)
    today = dt.date.today()
    price = _offer_json(catalog.price_at(found.id, today, input_share=input_share), input_share)
    payload = {
        "model": _model_json(found), "input_share": input_share, "blend": blend_label(input_share),
        "price_rule": PRICE_RULE, "price": price, "price_today": price,
        "cheapest_list_price": _offer_json(catalog.price_at(found.id, today, input_share=input_share,
                                                            provider="any"), input_share),
        "launch_price": _offer_json(catalog.launch_price(found.id, input_share=input_share), input_share),
        "prices": [_offer_json(o, input_share) for o in offers],
        "harness_precedence": list(PRECEDENCE),
        "scores": scores,
    }
    if json_out:
        print_json(payload)
        return
    _print_model(payload, input_share)


def _score_rows(catalog: Catalog, model_id: str) -> list[dict[str, Any]]:
    """Every score observation of a model, per benchmark in precedence order; ``default`` marks the one used."""
    rows: list[dict[str, Any]] = []
    for slug in sorted({s.benchmark for s in catalog.scores if s.model_id == model_id}):
        observed = catalog.observations(model_id, slug)
        used = catalog.score(model_id, slug)
        for s in sorted(observed, key=lambda o: (rank(o.harness), o.harness, -(o.date or dt.date.min).toordinal())):
            rows.append({**s.to_json(), "benchmark_name": _bench_name(catalog, slug), "default": s is used})
    return rows


def _bench_name(catalog: Catalog, slug: str) -> str:
    from satisfice.catalog.batch import BENCHMARKS

    bench = catalog.benchmarks.get(slug) or BENCHMARKS.get(slug)
    return bench.name if bench else slug


def _print_model(payload: dict[str, Any], share: float) -> None:
    m = payload["model"]
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for label, value in (("id", m["id"]), ("organization", m["organization"]), ("weights", _yes_no(
            m["open_weights"])), ("licence", m["licence"]), ("released", m["release_date"]),
            ("reasoning", "yes" if m["reasoning"] else "no"), ("parameters (B)", _params(m))):
        facts.add_row(label, Text(str(value) if value is not None else "unknown"))
    console.print(Text(m["name"], style="bold"))
    console.print(facts)
    prices = Table(title=f"Prices (USD per 1M tokens; blended at input share {share:g}, {payload['blend']})",
                   title_justify="left")
    for col in ("provider", "kind", "from", "input", "output", "cached in", "blended", "source"):
        prices.add_column(col, justify="right" if col in ("input", "output", "cached in", "blended") else "left")
    for o in payload["prices"]:
        prices.add_row(Text(o["provider"]), Text(o["provider_kind"] or "-"), str(o["effective_date"]),
                       _fmt_price(o["input_per_m"]), _fmt_price(o["output_per_m"]), _fmt_price(o["cached_input_per_m"]),
                       _fmt_price(o["blended_price"]) + ("*" if o["blend_note"] else ""), Text(o["source"]))
    console.print(prices if payload["prices"] else Text("No prices known."))
    default = payload["price"]
    console.print(Text(f"Price today: {_fmt_price(default['blended_price'])} $/1M blended at {default['provider']} "
                       f"({default['provider_kind']})" if default else "Price today: no first-party or serving offer "
                       "(resellers and subscriptions are listed above, never the default)."))
    if any(o["blend_note"] for o in payload["prices"]):
        console.print(Text("* a source's own blended price, used as given"))
    scores = Table(title="Scores (* = the one analyses use: independent runs before vendor claims, newest first)",
                   title_justify="left")
    for col in ("benchmark", "score", "harness", "effort", "date", "source"):
        scores.add_column(col, justify="right" if col == "score" else "left")
    for s in payload["scores"]:
        scores.add_row(Text(s["benchmark"]), f"{s['value']:g}" + ("*" if s["default"] else ""),
                       Text(s["harness"] or "-"), Text(s["effort"] or "-"), s["date"] or "-", Text(s["source"]))
    console.print(scores if payload["scores"] else Text("No scores known."))


def _params(m: dict[str, Any]) -> str | None:
    total, active = m["params_total_b"], m["params_active_b"]
    if total is None:
        return None
    return f"{total:g}" + (f" ({active:g} active)" if active is not None else "")
