"""`satisfice select`: the cheapest model that clears a threshold, decided from recorded outcomes (no model calls)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from satisfice.cli.common import Json, console, in_range, print_json
from satisfice.errors import ConfigError

if TYPE_CHECKING:  # the statistics stack loads when the command runs, not with `satisfice --help`
    from satisfice.evals.select import Selection


class Missing(StrEnum):
    """How missing outcomes count."""

    observed = "observed"
    conservative = "conservative"


def register(root: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    root.command("select")(select)


def parse_bar(text: str) -> tuple[float, float | None]:
    """``0.9``, ``90%`` or ``accuracy >= 0.9 at 95% confidence`` -> (bar, confidence given or None)."""
    from satisfice.tasks.threshold import parse_fraction, parse_threshold

    stripped = text.strip()
    if any(ch.isalpha() for ch in stripped):
        threshold = parse_threshold(stripped)
        if threshold.bar is None:  # pragma: no cover - parse_threshold always sets a bar
            raise ConfigError(f"threshold {text!r} has no bar")
        explicit = " at " in f" {stripped.lower()} " or "confidence" in stripped.lower()
        return threshold.bar, threshold.confidence if explicit else None
    try:
        return parse_fraction(stripped, what="threshold"), None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _confidence(value: str | None, from_threshold: float | None) -> float:
    from satisfice.tasks.threshold import DEFAULT_CONFIDENCE, parse_fraction

    if value is None:
        return from_threshold if from_threshold is not None else DEFAULT_CONFIDENCE
    try:
        number = parse_fraction(value, what="confidence")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if not 0.0 < number < 1.0:
        raise ConfigError(f"confidence must lie strictly between 0 and 1 (e.g. 0.95 or 95%), got {value!r}")
    return number


def select(
    outcomes: Annotated[Path, typer.Option("--outcomes", help="Wide outcomes CSV (RouterBench format: '<model>' "
                                           "score and '<model>|total_cost' columns).")],
    threshold: Annotated[str, typer.Option("--threshold", help="Bar to clear: 0.9, 90% or "
                                           "'accuracy >= 0.9 at 95% confidence'.")],
    confidence: Annotated[str | None, typer.Option("--confidence", help="Confidence, e.g. 0.95 or 95% "
                                                   "(default: from the threshold, else 95%).")] = None,
    adaptive: Annotated[bool, typer.Option("--adaptive", help="Examine models cheapest first and stop each as soon "
                                           "as it is decided; reports the evaluation spend saved.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random item order (--adaptive).")] = 0,
    full_report: Annotated[bool, typer.Option("--full-report", help="With --adaptive, keep examining dearer "
                                              "models after one passes.")] = False,
    missing: Annotated[Missing, typer.Option("--missing", help="Missing outcomes: 'observed' decides on observed "
                                             "items; 'conservative' counts them against each decision.")
                       ] = Missing.observed,
    reference: Annotated[str | None, typer.Option("--non-inferior-to", help="Also require no worse than this "
                                                  "model by more than --margin (paired, same items).")] = None,
    margin: Annotated[float | None, typer.Option("--margin", callback=in_range("--margin", 0, 1), help="Allowed "
                                                 "shortfall against --non-inferior-to, e.g. 0.03.")] = None,
    requests_per_day: Annotated[float | None, typer.Option("--requests-per-day", min=0.0,
                                                           help="Workload for yearly cost projections.")] = None,
    json_out: Json = False,
) -> None:
    """Decide every model against a threshold from recorded outcomes and name the cheapest one that passes."""
    from satisfice.evals.adaptive import select_adaptive
    from satisfice.evals.outcomes import load_outcomes
    from satisfice.evals.select import select_from_outcomes

    bar, conf_in_threshold = parse_bar(threshold)
    conf = _confidence(confidence, conf_in_threshold)
    if (reference is None) != (margin is None):
        raise ConfigError("--non-inferior-to and --margin go together")
    if adaptive and reference is not None:
        raise ConfigError("--adaptive decides against a bar only; drop --non-inferior-to or --adaptive")
    if full_report and not adaptive:
        raise ConfigError("--full-report only applies with --adaptive")
    table = load_outcomes(outcomes)
    if reference is not None and reference not in table.scores:
        raise ConfigError(f"--non-inferior-to {reference!r} is not a model of {outcomes} "
                          f"(models: {', '.join(table.models)})")
    if adaptive:
        selection = select_adaptive(table, bar, conf, seed=seed, full_report=full_report, missing=missing.value)
    else:
        selection = select_from_outcomes(table, bar, conf, reference=reference, margin=margin,
                                         missing=missing.value)
    if json_out:
        print_json(to_json(selection, adaptive=adaptive))
        return
    _print(selection, adaptive=adaptive, requests_per_day=requests_per_day, source=str(outcomes))


def to_json(selection: Selection, *, adaptive: bool) -> dict[str, Any]:
    """The agreed JSON shape; --adaptive adds eval_spend, exhaustive_spend and per-model items_used."""
    doc = selection.to_json()
    if adaptive:
        doc["eval_spend"] = selection.extras.get("eval_spend")
        doc["exhaustive_spend"] = selection.extras.get("exhaustive_spend")
        for row, result in zip(doc["models"], selection.models, strict=True):
            row["items_used"] = result.items_used or 0
    return doc


_STYLE = {"pass": "bold green", "fail": "red", "undecided": "yellow"}


def _print(selection: Selection, *, adaptive: bool, requests_per_day: float | None, source: str) -> None:
    from satisfice.evals.select import format_percent, format_usd

    title = f"{source}: accuracy >= {format_percent(selection.threshold or 0.0)} at " \
            f"{format_percent(selection.confidence)} confidence"
    any_missing = any(r.n_missing for r in selection.models)
    bounds = [r.pass_bound for r in selection.models]
    show_bound = any(b is not None for b in bounds)
    table = Table(title=title, title_justify="left")
    table.add_column("model", no_wrap=True)
    for name in ("n", *(("missing",) if any_missing else ()), "acc", "interval", *(("pass bound",) if show_bound
                                                                                    else ()), "$/1k req"):
        table.add_column(name, justify="right")
    table.add_column("decision")
    if adaptive:
        table.add_column("full data")
    flips = False
    for r in selection.models:
        interval = f"{r.ci_low:.3f}-{r.ci_high:.3f}" if r.ci_low is not None and r.ci_high is not None else "-"
        shown = "not run" if r.extras.get("status") == "not examined" else r.decision
        decision = f"[{_STYLE[r.decision]}]{shown}[/]"
        if r.extras.get("missing_could_flip"):
            decision += " *"
            flips = True
        cost = format_usd(r.cost_per_request * 1000) if r.cost_per_request is not None else "unknown"
        bound = r.pass_bound
        row = [r.model, str(r.n), *((str(r.n_missing),) if any_missing else ()),
               f"{r.accuracy:.3f}" if r.accuracy is not None else "-", interval,
               *((f"{bound:.3f}" if bound is not None else "-",) if show_bound else ()), cost, decision]
        if adaptive:
            row.append(str(r.extras.get("exhaustive_decision", "")))
        table.add_row(*row)
    console.print(table)
    if flips:
        console.print("* the missing outcomes could flip this decision (try --missing conservative)")
    levels = [r.extras["pass_level"] for r in selection.models if "pass_level" in r.extras]
    if show_bound and levels:
        console.print(f"A model passes when its pass bound (one-sided at {1 - max(levels):.2%}: the "
                      f"{1 - selection.confidence:.0%} error budget split over {len(selection.models)} candidates) "
                      "clears the bar, so the chance of recommending a model truly below it is at most "
                      f"{1 - selection.confidence:.0%}; the interval is the plain {selection.confidence:.0%} one.",
                      highlight=False)
    if adaptive:
        spend, full = selection.extras.get("eval_spend"), selection.extras.get("exhaustive_spend")
        if spend is not None and full:
            console.print(f"Evaluation spend {format_usd(spend)} against {format_usd(full)} for every model on "
                          f"every item ({spend / full:.1%}). Intervals are anytime-valid; 'full data' is the "
                          f"decision of plain 'satisfice select' (same rule, every item); n counts the items each "
                          f"model was run on.", highlight=False)
    console.print(selection.sentence(requests_per_day=requests_per_day), highlight=False)
