"""`satisfice selfhost`: benchmark a model you serve, save the result as its price, and weigh it against APIs."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from satisfice.cli.common import CHART_SUFFIXES, Json, console, err_console, print_json, state, writable_path
from satisfice.core import DEFAULT_INPUT_SHARE
from satisfice.errors import ConfigError, ProviderError
from satisfice.formatting import usd
from satisfice.selfhost.economics import LevelStats, RequestSample

selfhost_app = typer.Typer(help="Self-host economics: throughput -> $/M tokens -> a dated offer; buy or build.",
                           no_args_is_help=True)
Name = Annotated[str, typer.Option("--name", help="Saved as provider self-hosted:NAME (e.g. a100-box).")]


def register(root: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    root.add_typer(selfhost_app, name="selfhost")


class _RichProgress:
    """Bench progress on stderr: one bar per level with live errors and output tokens/s."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: Any = None
        self.tokens = 0
        self.errors = 0

    def level_started(self, concurrency: int, requests: int | None, duration_s: float | None) -> None:
        self.tokens = self.errors = 0
        what = f"{requests} requests" if requests is not None else f"{duration_s:g} s"
        self.task = self.progress.add_task(f"concurrency {concurrency:>4} ({what})", total=requests, errors=0,
                                           rate="")

    def sample(self, sample: RequestSample) -> None:
        self.tokens += sample.output_tokens
        self.errors += sample.error is not None
        self.progress.update(self.task, advance=1, errors=self.errors)

    def level_done(self, stats: LevelStats) -> None:
        self.progress.update(self.task, total=stats.requests + stats.errors,
                             completed=stats.requests + stats.errors,
                             rate=f"{stats.output_tokens_per_s:,.1f} out tok/s")


def _check_chart(chart: Path | None) -> None:
    from satisfice.reports.charts import FORMATS

    if chart is None:
        return
    if chart.suffix.lower() not in FORMATS:
        raise ConfigError(f"--chart {str(chart)!r} must end in {', '.join(FORMATS)}")
    if chart.exists() and chart.is_dir():
        raise ConfigError(f"--chart {str(chart)!r} is a directory")


def _streamer(model: str, base_url: str | None, *, prompt_tokens: int, output_tokens: int, slots: int,
              chat: bool, api_key_env: str | None, timeout_s: float) -> tuple[Any, Any]:
    """The streamer for ``model`` and what must be closed after the bench (transport or local pool)."""
    if base_url is None:
        if not model.startswith("local/"):
            raise ConfigError(f"{model!r} is not a local/... model: give --base-url URL of the server that serves it")
        from satisfice.selfhost.local_stream import LocalStreamer

        local = LocalStreamer(model, prompt_tokens=prompt_tokens, output_tokens=output_tokens, slots=slots)
        return local, local
    from satisfice.clients.http import HttpTransport
    from satisfice.selfhost.http_stream import HttpStreamer

    transport = HttpTransport(timeout_s=timeout_s, max_connections=max(16, slots + 8))
    return HttpStreamer(base_url, model, prompt_tokens=prompt_tokens, output_tokens=output_tokens, chat=chat,
                        api_key_env=api_key_env, transport=transport, timeout_s=timeout_s), transport


async def _bench(streamer: Any, closer: Any, config: Any, progress: Any) -> Any:
    from satisfice.selfhost.bench import run_bench

    load_s = None
    try:
        if hasattr(streamer, "load"):
            err_console.print(f"loading {config.model} ...", highlight=False)
            load_s = await asyncio.to_thread(streamer.load)
        return await run_bench(streamer, config, progress=progress, load_s=load_s)
    finally:
        close = closer.close()
        if asyncio.iscoroutine(close):
            await close


def _money(value: float | None) -> str:
    return usd(value)


def _signed(value: float) -> str:
    return usd(round(value))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _print_bench(doc: dict[str, Any]) -> None:
    best = (doc["best"] or {}).get("concurrency")
    speed = Table(title=f"{doc['model']} on {doc['machine']} (prompt ~{doc['prompt_tokens']}, output "
                        f"{doc['output_tokens']} tokens); latencies in ms", title_justify="left")
    for col in ("conc.", "req", "err", "req/s", "out tok/s", "in tok/s", "TTFT p50/p95", "ITL p50/p95",
                "e2e p50/p95"):
        speed.add_column(col, justify="right")
    prices = Table(title=f"USD per million tokens at {usd(doc['usd_per_hour'])}/hour", title_justify="left")
    for col in ("conc.", "input", "output", "blended 3:1"):
        prices.add_column(col, justify="right")
    for lv in doc["levels"]:
        conc = f"{lv['concurrency']}{'*' if lv['concurrency'] == best else ''}"
        speed.add_row(conc, str(lv["requests"]), str(lv["errors"]), f"{lv['requests_per_s']:.3g}",
                      f"{lv['output_tokens_per_s']:,.1f}", f"{lv['input_tokens_per_s']:,.1f}",
                      f"{_ms(lv['ttft_p50_ms'])}/{_ms(lv['ttft_p95_ms'])}",
                      f"{_ms(lv['itl_p50_ms'])}/{_ms(lv['itl_p95_ms'])}",
                      f"{_ms(lv['e2e_p50_ms'])}/{_ms(lv['e2e_p95_ms'])}")
        prices.add_row(conc, _money(lv["usd_per_m_input"]), _money(lv["usd_per_m_output"]),
                       _money(lv["usd_per_m_blended"]))
    console.print(speed)
    console.print(prices)
    console.print(f"Input token = {doc['input_weight']:.3g} x an output token's machine time "
                  f"({doc['input_weight_source']}).", highlight=False)
    if doc["best"] is None:
        console.print(f"No best level: {doc['best_reason']}.", highlight=False)
    else:
        b = doc["best"]
        console.print(f"Best (*): concurrency {b['concurrency']}, {_money(b['usd_per_m_blended'])}/M blended "
                      f"({_money(b['usd_per_m_input'])} in, {_money(b['usd_per_m_output'])} out); "
                      f"{doc['best_reason']}.", highlight=False)
    if doc["saved"]:
        s = doc["saved"]
        console.print(f"Saved: {s['model_id']} at {s['provider']} from {s['effective_date']} "
                      f"({_money(s['input_per_m'])}/{_money(s['output_per_m'])} per M in/out).", highlight=False)


@selfhost_app.command("bench")
def bench_cmd(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="local/... model, or the model name the server at --base-url serves.")],
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server, ending in /v1.")] = None,
    usd_per_hour: Annotated[float | None, typer.Option(
        "--usd-per-hour", help="Price of the machine per hour (default SATISFICE_MACHINE_USD_PER_HOUR).")] = None,
    concurrency: Annotated[str, typer.Option("--concurrency", help="Levels, e.g. 1,4,16,64.")] = "1,4,16,64",
    prompt_tokens: Annotated[int, typer.Option("--prompt-tokens", help="About this many tokens per prompt.")] = 512,
    output_tokens: Annotated[int, typer.Option("--output-tokens", help="Tokens generated per request.")] = 256,
    requests: Annotated[int | None, typer.Option("--requests", help="Measured requests per level.")] = None,
    duration: Annotated[float | None, typer.Option("--duration", help="Seconds per level instead.")] = None,
    repeat: Annotated[int, typer.Option("--repeat", help="Run each level this many times and keep the fastest run "
                                                         "(a shared machine only ever slows a run down).")] = 1,
    max_p95_ms: Annotated[float | None, typer.Option("--max-p95-ms", help="Latency limit (end-to-end p95) "
                                                                          "for the best level.")] = None,
    save: Annotated[bool, typer.Option("--save", help="Save the best level as a dated self-hosted offer.")] = False,
    name: Name = "this-machine",
    replace: Annotated[bool, typer.Option("--replace", help="Replace a calibration saved the same day.")] = False,
    catalog_id: Annotated[str | None, typer.Option("--catalog-id", help="Catalog model id to save under "
                                                                        "(default: the model's slug).")] = None,
    machine: Annotated[str | None, typer.Option("--machine", help="What the server runs on, for the record "
                                                                  "(default: this machine).")] = None,
    chat: Annotated[bool, typer.Option("--chat", help="Use /chat/completions instead of /completions.")] = False,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="Variable holding the server's key.")] = None,
    input_weight: Annotated[float | None, typer.Option(
        "--input-weight", help="Machine time of an input token / an output token (default: measured).")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for headers or the next chunk.")] = 300.0,
    as_json: Json = False,
    chart: Annotated[Path | None, typer.Option("--chart", help="Throughput and $/M chart (.png/.svg/.pdf).",
                                               callback=writable_path("--chart", CHART_SUFFIXES))] = None,
) -> None:
    """Measure throughput and latency per concurrency level and turn them into USD per million tokens."""
    from satisfice.selfhost.bench import BenchConfig, all_failed, describe_machine
    from satisfice.selfhost.calibration import catalog_id as default_id
    from satisfice.selfhost.calibration import check_free, provider_name, save_calibration
    from satisfice.selfhost.driver import LoadPlan, parse_levels

    st = state(ctx)
    levels = parse_levels(concurrency)
    _check_chart(chart)
    if save:
        provider_name(name)  # a bad name fails before any request is sent
    where = machine or (describe_machine() if base_url is None else f"server at {base_url}")
    config = BenchConfig(model=model, levels=levels, plan=LoadPlan(requests=requests, duration_s=duration),
                         usd_per_hour=usd_per_hour if usd_per_hour is not None else st.settings.machine_usd_per_hour,
                         prompt_tokens=prompt_tokens, output_tokens=output_tokens, max_p95_ms=max_p95_ms,
                         base_url=base_url, machine=where, weight=input_weight, repeat=repeat)
    store = st.store() if save else None  # open (and migrate) the store before spending time on the bench
    save_as = catalog_id or default_id(model, base_url)
    if store is not None and not replace:
        check_free(store, save_as, name, dt.datetime.now(dt.UTC).date())
    streamer, closer = _streamer(model, base_url, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                                 slots=max(levels), chat=chat, api_key_env=api_key_env, timeout_s=timeout)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("[red]{task.fields[errors]} err"), TextColumn("{task.fields[rate]}"),
                   TimeElapsedColumn(), console=err_console)
    with bar:
        result = asyncio.run(_bench(streamer, closer, config, _RichProgress(bar)))
    failed = all_failed(result)
    if failed is not None:
        raise ProviderError(failed)
    if store is not None:
        result.saved = save_calibration(store, result, name=name, model_id=save_as, replace=replace)
    doc = result.to_json()
    if chart is not None:
        from satisfice.reports.selfhost_chart import selfhost_chart

        selfhost_chart(doc["levels"], chart, title=f"{model}: throughput and price vs concurrency "
                                                   f"({usd(config.usd_per_hour)}/hour, {where})",
                       best_concurrency=(doc["best"] or {}).get("concurrency"))
        (err_console if as_json else console).print(f"chart written to {chart}", highlight=False)
    if as_json:
        print_json(doc)
    else:
        _print_bench(doc)


@selfhost_app.command("compare")
def compare_cmd(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Calibrated model id (local/... or the catalog id it was saved as).")],
    tokens_per_day: Annotated[str, typer.Option("--tokens-per-day", help="Workload, e.g. 100M, 2.5B, 750k.")],
    usd_per_hour: Annotated[float | None, typer.Option(
        "--usd-per-hour", help="Machine price per hour (default: the calibration's).")] = None,
    input_share: Annotated[float, typer.Option("--input-share", help="Share of input tokens (0.75 = 3:1).")]
    = DEFAULT_INPUT_SHARE,
    peak_factor: Annotated[float, typer.Option("--peak-factor", help="Peak rate / average rate of the workload.")]
    = 1.0,
    benchmark: Annotated[str | None, typer.Option("--benchmark", "-b", help="Benchmark slug of the bar.")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", "-t", help="Score the bar needs (>=).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Use the calibration at self-hosted:NAME.")] = None,
    as_json: Json = False,
) -> None:
    """Annual bill self-hosted (whole machines for the peak) vs API offers and the cheapest model clearing a bar."""
    from satisfice.catalog.repository import load_catalog
    from satisfice.cli.market import tokens_per_day_option
    from satisfice.market.buy_or_build import Workload, compare
    from satisfice.selfhost.calibration import find_calibration

    work = Workload(tokens_per_day_option(tokens_per_day), input_share, peak_factor)
    catalog = load_catalog(state(ctx).store())
    cal = find_calibration(catalog, model, name=name)
    doc = compare(catalog, cal, model, work, usd_per_hour=usd_per_hour, benchmark=benchmark, threshold=threshold)
    if as_json:
        print_json(doc)
        return
    _print_compare(doc)


def _print_compare(doc: dict[str, Any]) -> None:
    host, cal = doc["self_hosted"], doc["calibration"]
    console.print(f"{doc['model']}: {doc['tokens_per_day']:,.0f} tokens/day, input share {doc['input_share']:g}, "
                  f"peak {doc['peak_factor']:g}x average", highlight=False)
    console.print(f"Self-hosted ({cal['provider']}, benched {cal['effective_date']}, "
                  f"{cal['output_tokens_per_s']:,.1f} out + {cal['input_tokens_per_s']:,.1f} in tok/s per machine "
                  f"at concurrency {cal['concurrency']}): {host['machines']} machine(s) x "
                  f"{usd(host['usd_per_hour'])}/h = {usd(host['annual_usd'])}/year at {host['utilisation']:.1%} "
                  f"utilisation ({usd(host['usd_per_m_effective'])}/M; {usd(host['usd_per_m_full_load'])}/M if "
                  "fully used)", highlight=False)
    table = Table(title="Against API offers", title_justify="left")
    for col in ("model", "provider", "blended $/M", "per year", "self-hosting saves", "break-even tokens/day"):
        table.add_column(col, justify="left" if col in ("model", "provider") else "right")
    rows = list(doc["api_offers"]) + ([doc["bar"]] if doc["bar"] and doc["bar"].get("model") else [])
    for r in rows:
        be = r["break_even"]["tokens_per_day"]
        label = r["model"] if "benchmark" not in r else f"{r['name']} (cheapest >= {r['threshold']:g} {r['benchmark']})"
        table.add_row(label, r["provider"], _money(r["blended_per_m"]), usd(r['annual_usd']),
                      _signed(r["self_hosted_saves_usd"]), "never" if be is None else f"{be:,.0f}")
    if rows:
        console.print(table)
    else:
        console.print("No API offer of this model in the catalog.", highlight=False)
    if doc["bar"] and not doc["bar"].get("model"):
        console.print(f"Bar {doc['bar']['benchmark']} >= {doc['bar']['threshold']:g}: {doc['bar']['note']}.",
                      highlight=False)
