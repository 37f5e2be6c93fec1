"""`satisfice market run-cost / saturation`: what a benchmark costs to run, and how close it is to its ceiling."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from satisfice.cli.catalog import ProviderOption
from satisfice.cli.common import Json, console, money, parse_date, print_json
from satisfice.cli.market import (
    AsOf,
    Benchmark,
    HarnessOpt,
    Share,
    _catalog,
    market_app,
    with_harness,
)
from satisfice.core import DEFAULT_INPUT_SHARE


def _tokens(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


@market_app.command("run-cost")
def run_cost_cmd(
    ctx: typer.Context,
    benchmark: Benchmark,
    as_of: AsOf = None,
    input_share: Share = DEFAULT_INPUT_SHARE,
    harness: HarnessOpt = None,
    provider: ProviderOption = None,
    as_json: Json = False,
) -> None:
    """Cost to run a benchmark once per model: tokens per task x the price in force x the item count.

    Token counts come from score sources that publish them and from satisfice's own eval runs (harness
    ``satisfice``; the benchmark is the task's name).
    """
    from dataclasses import replace

    from satisfice.cli.common import state
    from satisfice.evals.observations import eval_observations
    from satisfice.market.runcost import run_cost

    catalog = _catalog(ctx, "all", provider)
    catalog = with_harness(replace(catalog, scores=(*catalog.scores, *eval_observations(state(ctx).store()))),
                           harness)
    result = run_cost(catalog, benchmark, parse_date(as_of), input_share, provider=provider)
    if as_json:
        print_json(result.to_json())
        return
    table = Table(title=f"Cost to run {result.benchmark_name} once, prices in force on {result.as_of}",
                  title_justify="left")
    for col in ("model", "score", "harness", "effort", "items", "in tok/task", "out tok/task", "blended $/M",
                "run cost", "basis", "source"):
        table.add_column(col, justify="right" if col in ("score", "items", "in tok/task", "out tok/task",
                                                         "blended $/M", "run cost") else "left")
    for r in result.rows:
        table.add_row(r.name, f"{r.score:.4g}", r.harness or "-", r.effort or "-", f"{r.items:,}",
                      _tokens(r.input_tokens), _tokens(r.output_tokens), money(r.blended_price),
                      money(r.run_cost_usd), r.basis, r.source)
    console.print(table)
    for rev in result.reversals[:5]:
        console.print(f"{rev.cheaper_per_token} is {rev.price_ratio:.3g}x cheaper per token than "
                      f"{rev.dearer_to_run} but {rev.run_cost_ratio:.3g}x dearer to run.", highlight=False)
    if result.without_tokens:
        console.print(f"{len(result.without_tokens)} scored model(s) have no published tokens or cost per task "
                      f"(left out).", highlight=False)
    console.print(result.summary(), highlight=False)


@market_app.command("saturation")
def saturation_cmd(
    ctx: typer.Context,
    benchmark: Annotated[str | None, typer.Option("--benchmark", "-b", help="One benchmark (default: all).")] = None,
    harness: HarnessOpt = None,
    as_json: Json = False,
) -> None:
    """Top score over time per benchmark, against its ceiling and its human baseline."""
    from satisfice.market.saturation import saturation

    result = saturation(_catalog(ctx, harness=harness), benchmark)
    if as_json:
        print_json(result.to_json())
        return
    table = Table(title="Record score per benchmark against its ceiling and human baseline", title_justify="left")
    for col in ("benchmark", "record", "by", "harness", "since", "ceiling", "headroom", "human", "passed human",
                "status"):
        table.add_column(col, justify="right" if col in ("record", "ceiling", "headroom", "human") else "left")
    for b in result.benchmarks:
        top = b.top
        table.add_row(b.benchmark, f"{top.score:g}" if top else "-", top.name if top else "-",
                      top.harness if top else "-", str(top.date) if top else "-",
                      "-" if b.ceiling is None else f"{b.ceiling:g}",
                      "-" if b.headroom is None else f"{b.headroom:.3g}",
                      "-" if b.human is None else f"{b.human.value:g}",
                      str(b.human_passed_on or "-"), b.status)
    console.print(table)
    console.print(result.summary(), highlight=False)
