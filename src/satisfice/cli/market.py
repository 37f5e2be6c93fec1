"""`satisfice market` commands: frontier, trends, gap, cost, pareto, lag over the stored catalog."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table

from satisfice.cli.catalog import ProviderOption, check_provider
from satisfice.cli.common import Chart, Json, console, err_console, in_range, parse_date, print_json, state
from satisfice.core import DEFAULT_INPUT_SHARE
from satisfice.formatting import listing, number, usd

if TYPE_CHECKING:
    from satisfice.catalog.rows import Catalog

market_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                         help="Cost at fixed performance: frontier, trends, open-vs-closed gap, bills, Pareto.")

Benchmark = Annotated[str, typer.Option("--benchmark", "-b", help="Benchmark slug or name, e.g. gpqa-diamond.")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="Use the catalog as it stood on this date (YYYY-MM-DD).")]
Share = Annotated[float, typer.Option("--input-share", callback=in_range("--input-share", 0, 1),
                                      help="Share of input tokens in the blended price (0.75 = 3:1, 0.5 = 1:1).")]
Kind = Annotated[str, typer.Option("--kind", help="Which models to consider: chat (default), embedding, image, "
                                   "audio, video, moderation, rerank, or all.")]
ShowUnscored = Annotated[bool, typer.Option("--show-unscored", help="List the models with no score on the "
                                            "benchmark (by default only counted).")]
HarnessOpt = Annotated[str | None, typer.Option(
    "--harness", help="Use only scores run by this harness (e.g. epoch, vendor, artificial-analysis); default: "
    "independent runs before vendor claims, the newest within one harness.")]
MAX_TOKENS_PER_DAY = 1e15
"""Workloads above a thousand trillion tokens a day are typos, not plans."""


def tokens_per_day_option(text: str) -> float:
    """``--tokens-per-day`` (``100M``, ``2.5B``, ``750k``), within 1 and :data:`MAX_TOKENS_PER_DAY`."""
    from satisfice.market.cost import parse_tokens

    try:
        tokens = parse_tokens(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--tokens-per-day") from None
    if tokens > MAX_TOKENS_PER_DAY:
        raise typer.BadParameter(f"must be between 1 and {MAX_TOKENS_PER_DAY:g} tokens per day, got {text}",
                                 param_hint="--tokens-per-day")
    return tokens


def _catalog(ctx: typer.Context, kind: str = "chat", provider: str | None = None,
             harness: str | None = None) -> Catalog:
    """The stored catalog: models of ``kind`` (``all``: every model), ``provider`` checked, scores of ``harness``."""
    from satisfice.catalog.kinds import MODEL_KINDS
    from satisfice.catalog.repository import load_catalog

    if kind != "all" and kind not in MODEL_KINDS:
        raise typer.BadParameter(f"unknown kind {kind!r}; known: {', '.join(MODEL_KINDS)}, all", param_hint="--kind")
    catalog = load_catalog(state(ctx).store())
    check_provider(catalog, provider)
    return with_harness(catalog.of_kind(None if kind == "all" else kind), harness)


def with_harness(catalog: Catalog, harness: str | None) -> Catalog:
    """The catalog restricted to one harness's scores; a harness no score has is a usage error listing them."""
    if harness is not None:
        known = sorted({s.harness for s in catalog.scores})
        if harness not in known:
            raise typer.BadParameter(f"no score was run by {harness!r}; harnesses in the catalog: "
                                     f"{', '.join(h or '(none)' for h in known)}", param_hint="--harness")
    return catalog.with_harness(harness)


def _money(value: float | None) -> str:
    return usd(value)


def _num(value: float | None) -> str:
    return number(value, 6)


def _scored(leader: Any) -> str:
    """A leader's score with who ran it."""
    return "-" if leader is None else f"{leader.score:g} ({leader.harness or '?'})"


def _factor(value: float) -> str:
    return number(value, 3)


def _report(result: Any, as_json: bool, chart: Path | None, draw: str, show: Callable[[], None]) -> None:
    """The chart first (with ``reports.charts.<draw>``), then JSON or the tables, then where the chart went."""
    if chart is not None:
        from satisfice.reports import charts

        getattr(charts, draw)(result, chart)
    if as_json:
        print_json(result.to_json())
    else:
        show()
    if chart is not None:
        (err_console if as_json else console).print(f"chart written to {chart}", highlight=False)


def _model_table(title: str, rows: list[Any], extra: dict[str, str] | None = None,
                 price_label: str = "blended $/M") -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("model", "released", "weights", "score", "harness", price_label, "note"):
        table.add_column(col, justify="right" if col in ("score", price_label) else "left")
    for m in rows:
        note = (extra or {}).get(m.model, "") or (m.price_note or "")
        table.add_row(m.name, str(m.release_date or "-"), m.weights, _num(m.score), m.harness or "-",
                      _money(m.blended_price), note)
    return table


def _check_threshold(benchmark: str, threshold: float) -> None:
    """Scores are percentages (0-100), except Elo ratings (0-4000)."""
    high = 4000.0 if "elo" in benchmark.lower() else 100.0
    in_range("--threshold", 0, high, "an Elo rating" if high > 100 else "a score in percent")(threshold)


@market_app.command("frontier")
def frontier_cmd(
    ctx: typer.Context,
    benchmark: Benchmark,
    threshold: Annotated[float, typer.Option("--threshold", "-t", help="Score a model must reach (>=).")],
    as_of: AsOf = None,
    input_share: Share = DEFAULT_INPUT_SHARE,
    provider: ProviderOption = None,
    kind: Kind = "chat",
    show_unscored: ShowUnscored = False,
    measure: Annotated[str, typer.Option("--measure", help="Rank by blended-price ($/M at launch) or run-cost "
                                         "(USD to run the benchmark once, from published tokens per task).")
                       ] = "blended-price",
    harness: HarnessOpt = None,
    as_json: Json = False,
    chart: Chart = None,
) -> None:
    """Models that clear a bar, the cost frontier, and the first closed vs first open model to clear it."""
    from satisfice.market.frontier import frontier

    _check_threshold(benchmark, threshold)
    result = frontier(_catalog(ctx, kind, provider, harness), benchmark, threshold, parse_date(as_of), input_share,
                      measure, provider=provider, show_unscored=show_unscored)

    def show() -> None:
        marks = {m.model: "frontier" for m in result.frontier}
        for label, m in (("first closed", result.first_closed), ("first open", result.first_open)):
            if m is not None:
                marks[m.model] = ", ".join(x for x in (marks.get(m.model), label) if x)
        basis = (f"blended price at release, {result.blend.label}" if result.measure == "blended-price"
                 else "USD to run the benchmark once, at prices in force")
        shown = [m for m in result.models if m.model in marks]
        console.print(_model_table(f"{result.benchmark_name} >= {threshold:g}: the cost frontier and the first "
                                   f"closed and open models to clear the bar ({basis})", shown, marks,
                                   "blended $/M" if result.measure == "blended-price" else "run cost $"))
        others = len(result.models) - len(shown)
        if others:
            console.print(f"{others:,} other model{'s' if others != 1 else ''} clear the bar; `--json` lists "
                          "every one.", highlight=False)
        if result.unscored_count:
            console.print(result.unscored_line() + (": " + ", ".join(m.name for m in result.no_score)
                                                    if result.no_score else "."), highlight=False)
        if result.trend is not None:
            t = result.trend
            console.print(f"Frontier price falls {number(t.factor_per_year)}x per year (90% CI {number(t.ci90[0])}x to "
                          f"{number(t.ci90[1])}x, R² {t.r2:.2f}, n={t.n}).", highlight=False)
        else:
            console.print(f"No trend: {len(result.frontier)} frontier points (4 needed).", highlight=False)
        for note in result.notes:
            console.print(f"Note: {note}", highlight=False)
        console.print(result.summary(), highlight=False)

    _report(result, as_json, chart, "frontier_chart", show)


@market_app.command("trends")
def trends_cmd(
    ctx: typer.Context,
    benchmark: Annotated[str, typer.Option("--benchmark", "-b", help="Benchmark slug, or 'all'.")] = "all",
    method: Annotated[str, typer.Option("--method", help="Trend method (only 'epoch').")] = "epoch",
    input_share: Share = DEFAULT_INPUT_SHARE,
    as_of: AsOf = None,
    kind: Kind = "chat",
    harness: HarnessOpt = None,
    as_json: Json = False,
    chart: Chart = None,
) -> None:
    """Price decline at fixed capability, by Epoch AI's method (2025)."""
    from satisfice.errors import ConfigError
    from satisfice.market.trends import epoch_trends

    if method != "epoch":
        raise ConfigError(f"unknown trend method {method!r}; available: epoch")
    result = epoch_trends(_catalog(ctx, kind, harness=harness), benchmark, input_share, parse_date(as_of))

    def show() -> None:
        table = Table(title=f"Price decline at fixed capability, Epoch AI method ({result.blend.label} blend)",
                      title_justify="left")
        for col in ("benchmark", ">=", "threshold model", "n", "period", "x/year", "90% CI", "R²"):
            table.add_column(col, justify="right" if col in (">=", "n", "x/year", "R²") else "left")
        for row in result.trends:
            assert row.fit is not None
            table.add_row(row.benchmark, f"{row.threshold:g}", row.threshold_model, str(row.n),
                          f"{row.points[0].date:%Y-%m}..{row.points[-1].date:%Y-%m}", _factor(row.fit.factor_per_year),
                          f"{_factor(row.fit.ci90[0])}-{_factor(row.fit.ci90[1])}", f"{row.fit.r2:.2f}")
        console.print(table)
        if result.skipped:
            console.print("Fewer than 4 points, no trend: " + ", ".join(
                f"{r.benchmark} >= {r.threshold:g} ({r.threshold_model}, n={r.n})" for r in result.skipped),
                highlight=False)
        factors = sorted(r.fit.factor_per_year for r in result.trends if r.fit)
        if factors:
            console.print(f"{len(factors)} trends over {len(result.benchmarks)} benchmark(s): prices at a fixed bar "
                          f"fell {number(factors[0])}x to {number(factors[-1])}x per year "
                          f"(median {number(statistics.median(factors))}x; {result.blend.label} blend; reasoning "
                          f"models excluded).", highlight=False)
        else:
            console.print(f"No threshold had 4 or more points ({result.blend.label} blend).", highlight=False)

    _report(result, as_json, chart, "trends_chart", show)


@market_app.command("gap")
def gap_cmd(
    ctx: typer.Context,
    benchmark: Benchmark,
    under: Annotated[float | None, typer.Option("--under", callback=in_range("--under", 0, 100, "score points"),
                                                help="Report when the gap first fell below N points.")] = None,
    as_of: AsOf = None,
    kind: Kind = "chat",
    harness: HarnessOpt = None,
    as_json: Json = False,
    chart: Chart = None,
) -> None:
    """Best closed vs best open score over time, and the gap between them."""
    from satisfice.market.gap import gap

    result = gap(_catalog(ctx, kind, harness=harness), benchmark, under, parse_date(as_of))

    def show() -> None:
        table = Table(title=f"{result.benchmark_name}: best closed vs best open, when a leader changed",
                      title_justify="left")
        for col in ("date", "best closed", "score", "best open", "score", "gap"):
            table.add_column(col, justify="right" if col in ("score", "gap") else "left")
        previous: tuple[str | None, str | None] = (None, None)
        for s in result.steps:  # rows where a leader changed; --json has every release date
            c, o = s.best_closed, s.best_open
            leaders = (c.model if c else None, o.model if o else None)
            if leaders == previous:
                continue
            previous = leaders
            table.add_row(str(s.date), c.name if c else "-", _scored(c), o.name if o else "-", _scored(o),
                          "-" if s.gap is None else f"{s.gap:+.3g}")
        console.print(table)
        if result.left_out:
            console.print("Left out (openness or release date unknown): " + ", ".join(result.left_out),
                          highlight=False)
        console.print(result.summary(), highlight=False)

    _report(result, as_json, chart, "gap_chart", show)


@market_app.command("cost")
def cost_cmd(
    ctx: typer.Context,
    models: Annotated[list[str], typer.Argument(help="Model ids or names; ratios are against the first.")],
    tokens_per_day: Annotated[str, typer.Option("--tokens-per-day", help="Workload, e.g. 100M, 2.5B, 750k.")],
    input_share: Share = DEFAULT_INPUT_SHARE,
    as_of: AsOf = None,
    provider: ProviderOption = None,
    as_json: Json = False,
    chart: Chart = None,
) -> None:
    """Annual bill of a workload per model at the blended price in force (first-party by default)."""
    from satisfice.market.cost import cost

    tokens = tokens_per_day_option(tokens_per_day)
    result = cost(_catalog(ctx, "all", provider), models, tokens, input_share, parse_date(as_of), provider=provider)

    def show() -> None:
        table = Table(title=f"Annual bill for {tokens:,.0f} tokens/day ({result.blend.label} blend)",
                      title_justify="left")
        for col in ("model", "provider", "price date", "blended $/M", "per year", "ratio"):
            table.add_column(col, justify="right" if col in ("blended $/M", "per year", "ratio") else "left")
        for r in result.rows:
            table.add_row(r.model.name, f"{r.provider} ({r.provider_kind})" if r.provider else "-",
                          str(r.model.price_date or "-"), _money(r.model.blended_price), usd(r.annual_usd),
                          "-" if r.ratio_to_first is None else f"{number(r.ratio_to_first)}x")
        console.print(table)
        console.print(result.summary(), highlight=False)

    _report(result, as_json, chart, "cost_chart", show)


@market_app.command("pareto")
def pareto_cmd(
    ctx: typer.Context,
    benchmark: Benchmark,
    as_of: AsOf = None,
    input_share: Share = DEFAULT_INPUT_SHARE,
    provider: ProviderOption = None,
    kind: Kind = "chat",
    harness: HarnessOpt = None,
    as_json: Json = False,
    chart: Chart = None,
) -> None:
    """Score-vs-price Pareto frontier on a date (price in force on that date)."""
    from satisfice.market.pareto import pareto

    result = pareto(_catalog(ctx, kind, provider, harness), benchmark, parse_date(as_of), input_share,
                    provider=provider)

    def show() -> None:
        console.print(_model_table(f"{result.benchmark_name} Pareto frontier, cheapest first "
                                   f"({result.blend.label} blend)", list(result.frontier)))
        console.print(result.summary(), highlight=False)

    _report(result, as_json, chart, "pareto_chart", show)


@market_app.command("lag")
def lag_cmd(
    ctx: typer.Context,
    benchmark: Annotated[str, typer.Option("--benchmark", "-b", help="Benchmark slug, or 'all'.")] = "all",
    as_of: AsOf = None,
    input_share: Share = DEFAULT_INPUT_SHARE,
    kind: Kind = "chat",
    harness: HarnessOpt = None,
    as_json: Json = False,
) -> None:
    """Days from the first closed to the first open model clearing each bar; median, trend, expected dates."""
    from satisfice.market.lag import lag_analysis

    result = lag_analysis(_catalog(ctx, kind, harness=harness), benchmark, parse_date(as_of), input_share)
    if as_json:
        print_json(result.to_json())
        return
    table = Table(title=f"Lag from first closed to first open model per bar ({result.blend.label} blend)",
                  title_justify="left")
    for col in ("benchmark", ">=", "first closed", "first open", "lag days", "price ratio", "x/year",
                "expected open (90% CI)"):
        table.add_column(col, justify="right" if col in (">=", "lag days", "price ratio", "x/year") else "left")
    for b in result.bars:
        expected = ""
        if b.status == "waiting":
            expected = (f"{b.expected} ({b.expected_low or '?'} to {b.expected_high or 'beyond data'})"
                        if b.expected is not None else "unknown (too few longer lags observed)")
        lag = str(b.lag_days) if b.lag_days is not None else (f"waiting {b.elapsed_days}" if b.elapsed_days
                                                              is not None else "-")
        table.add_row(b.benchmark, f"{b.threshold:g}", b.first_closed.name if b.first_closed else "-",
                      b.first_open.name if b.first_open else "-", lag,
                      f"{number(b.price_ratio)}x" if b.price_ratio else "-",
                      _factor(b.factor_per_year) if b.factor_per_year else "-", expected)
    console.print(table)
    if result.trend is not None:
        t = result.trend
        console.print(f"Trend: {t.slope_days_per_year:+.0f} days of lag per year (90% CI {t.ci90[0]:+.0f} to "
                      f"{t.ci90[1]:+.0f}, n={t.n}).", highlight=False)
    console.print(result.summary(), highlight=False)


@market_app.command("watch")
def watch_cmd(
    ctx: typer.Context,
    benchmark: Annotated[str | None, typer.Option("--benchmark", "-b", help="Benchmark slug or name.")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", "-t", help="Score to reach (>=).")] = None,
    max_price: Annotated[float | None, typer.Option("--max-price", help="Blended $/M cap.", min=0)] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Open-weights models only.")] = False,
    input_share: Share = DEFAULT_INPUT_SHARE,
    list_all: Annotated[bool, typer.Option("--list", help="List the watches instead.")] = False,
    as_json: Json = False,
) -> None:
    """Watch a bar: every pipeline run reports the models that newly clear it."""
    from satisfice.market.common import check_input_share, resolve_benchmark
    from satisfice.pipeline import add_watch, list_watches

    store = state(ctx).store()
    if list_all:
        watches = list_watches(store)
        if as_json:
            print_json({"watches": watches})
        for w in [] if as_json else watches:
            console.print(f"{w['id']}: {w['description']} ({len(w['satisfied'])} models so far)", highlight=False)
        return
    if benchmark is None or threshold is None:
        raise typer.BadParameter("give --benchmark and --threshold (or --list)", param_hint="--benchmark")
    slug = resolve_benchmark(_catalog(ctx), benchmark)
    _check_threshold(slug, threshold)
    result = add_watch(store, slug, threshold, max_price=max_price, open_only=open_only,
                       input_share=check_input_share(input_share))
    if as_json:
        print_json(result)
        return
    console.print(f"watch {result['watch']['id']}: {result['watch']['description']}", highlight=False)
    now = result["satisfied_now"]
    console.print(f"already satisfied by {len(now)}: " + listing([m["name"] for m in now], most=10) if now
                  else "no model satisfies it yet", highlight=False)
    console.print("each `satisfice pipeline run` reports the models that newly satisfy it", highlight=False)


def register(root: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    root.add_typer(market_app, name="market")
