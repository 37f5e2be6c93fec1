"""Render evaluation results: a Rich terminal table, the JSON document, and a self-contained HTML page.

Values in, text out: this module takes :class:`~satisfice.evals.results.EvalResults` and never touches the
store or a model. The JSON has the shape of ``satisfice select --json`` plus the eval's own fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from satisfice.evals.model_result import ModelResult
from satisfice.evals.results import ERRORS_RULE, EvalResults, format_usd
from satisfice.formatting import usd_tick
from satisfice.reports.plot_axes import layout as plot_layout
from satisfice.reports.plot_axes import log_axis, money_hover, plot_text

_DECISION_STYLE = {"pass": "bold green", "fail": "red", "undecided": "yellow"}
_DECISION_COLOR = {"pass": "#1a9850", "fail": "#d73027", "undecided": "#7f7f7f"}
TEMPLATES = Path(__file__).parent / "templates"
"""The HTML templates of the eval report (the web dashboard renders the same ``eval_body.html``)."""


def _pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x * 100:.{digits}f}%"


def _secs(x: float | None) -> str:
    return "-" if x is None else (f"{x * 1000:.0f}ms" if x < 1 else f"{x:.2f}s")


def _usd(m: ModelResult, value: float | None) -> str:
    """Dollars; ``-`` when the model answered nothing (nothing to price), ``unknown`` when it has no price."""
    return "-" if value is None and m.n_responses == 0 else format_usd(value)


def _decision(m: ModelResult) -> str:
    return m.decision + (" (not run)" if m.items_used == 0 or (m.n + m.n_errors == 0 and m.n_not_run) else "")


def model_json(m: ModelResult) -> dict[str, Any]:
    """One model in the ``select --json`` shape, plus the eval's extra fields."""
    return {
        **m.to_json(), "n_errors": m.n_errors, "n_not_run": m.n_not_run, "errors_by_kind": m.errors_by_kind,
        "error_example": m.error_example, "retries": m.retries,
        "decision_note": m.decision_note, "price_source": m.price_source, "price": m.price_note,
        "cost_known": m.cost_run is not None, "cost_run": m.cost_run, "cost_per_1k": m.cost_per_1k,
        "annual_cost": m.annual_cost, "annual_basis": m.annual_basis, "latency_p50_s": m.latency_p50_s,
        "latency_p95_s": m.latency_p95_s, "tokens_in": m.tokens_in, "tokens_out": m.tokens_out,
        "judge_cost": m.judge_cost, "spent_usd": m.spent_usd, "cache_hits": m.cache_hits,
        "savings_per_year": m.savings_per_year, "savings_per_1k": m.savings_per_1k,
        "savings_fraction": m.savings_fraction, "ni_diff": m.ni_diff, "ni_lower": m.ni_lower,
        "items_used": m.items_used, "pass_bound": m.pass_bound,
    }


def pareto_set(models: list[ModelResult]) -> set[str]:
    """Models no other model beats on both cost and accuracy (known cost and accuracy only)."""
    pts = [m for m in models if m.cost_per_request is not None and m.accuracy is not None]
    keep: set[str] = set()
    for m in pts:
        assert m.cost_per_request is not None and m.accuracy is not None
        dominated = any(
            o is not m and o.cost_per_request is not None and o.accuracy is not None
            and o.cost_per_request <= m.cost_per_request and o.accuracy >= m.accuracy
            and (o.cost_per_request < m.cost_per_request or o.accuracy > m.accuracy)
            for o in pts)
        if not dominated:
            keep.add(m.model)
    return keep


def to_json(r: EvalResults) -> dict[str, Any]:
    """The document printed by ``satisfice eval --json``."""
    t = r.threshold
    front = pareto_set(r.models)
    models = []
    for m in r.models:
        doc = model_json(m)
        doc["pareto"] = m.model in front
        models.append(doc)
    return {
        "threshold": t.bar if t is not None else None,
        "confidence": r.confidence,
        "models": models,
        "recommended": r.recommended,
        "sentence": r.sentence,
        "recommended_basis": r.basis,
        "task": r.task,
        "run_id": r.run_id,
        "status": r.status,
        "stopped_by_budget": r.status == "stopped_budget",
        "criterion": t.describe() if t is not None else None,
        "non_inferior_to": t.non_inferior_to if t is not None else None,
        "margin": t.margin if t is not None else None,
        "errors_rule": ERRORS_RULE,
        "baseline": r.baseline,
        "items": r.items,
        "spent_usd": r.spent_usd,
        "max_spend": r.max_spend,
        "calls": r.calls,
        "cache_hits": r.cache_hits,
        "workload": r.workload.model_dump() if r.workload is not None else None,
        "notes": list(r.notes),
        "method": r.method,
        "eval_spend": r.eval_spend,
        "exhaustive_spend": r.exhaustive_spend,
    }


def render_table(r: EvalResults, width: int = 200, *, replay: bool = False) -> Group:
    """The terminal view: one row per model, the recommendation and the notes.

    Below about 120 columns plus the longest model name, the table is split in three narrower ones. With
    ``replay`` (``satisfice eval show``) the spend line describes that run, not money spent now.
    """
    conf = f"{r.confidence:.0%}"
    title = f"{r.task}: " + (r.threshold.describe() if r.threshold is not None else "no threshold")
    table = Table(title=title, title_justify="left", header_style="bold")
    names = ("model", "n", "err", "acc.", f"{conf} CI", "decision", "$ run", "$/1k", "$/year", "p50/p95",
             "tok in/out", "saves")
    longest = max((len(m.model) + 1 for m in r.models), default=6)
    groups = ([list(range(len(names)))] if width >= 120 + longest
              else [[0, 1, 2, 3, 4, 5], [0, 6, 7, 8], [0, 9, 10, 11]])
    tables = [table] + [Table(header_style="bold") for _ in groups[1:]]
    for t, group in zip(tables, groups, strict=True):
        for i in group:
            t.add_column(names[i], justify="left" if i in (0, 5) else "right", no_wrap=i in (0, 4, 5),
                         min_width=longest if i == 0 else None)

    def annual(m: ModelResult) -> str:
        return "-" if r.workload is None else _usd(m, m.annual_cost)

    for m in r.models:
        mark = "*" if m.model == r.recommended else ""
        errors = str(m.n_errors) + (f" ({m.retries} retries)" if m.retries else "")
        if m.n_not_run:
            errors += f", {m.n_not_run} not run"
        savings = "-"
        if m.model != r.baseline and m.decision == "pass":  # an undecided or failing model saves nothing usable
            if m.savings_per_year is not None:
                savings = format_usd(m.savings_per_year) + "/yr"
            elif m.savings_per_1k is not None:
                savings = format_usd(m.savings_per_1k) + "/1k"
            if m.savings_fraction is not None:
                savings += f" ({m.savings_fraction:.0%})"
        ci = "-" if m.ci_low is None or m.ci_high is None else f"{m.ci_low * 100:.1f}-{m.ci_high * 100:.1f}%"
        latency = "-" if m.latency_p50_s is None else f"{_secs(m.latency_p50_s)}/{_secs(m.latency_p95_s)}"
        cells: list[str | Text] = [
            m.model + mark, str(m.n), errors, _pct(m.accuracy), ci,
            Text(_decision(m), style=_DECISION_STYLE.get(m.decision, "")),
            _usd(m, m.cost_run), _usd(m, m.cost_per_1k), annual(m), latency,
            f"{m.tokens_in:,}/{m.tokens_out:,}", savings]
        for t, group in zip(tables, groups, strict=True):
            t.add_row(*(cells[i] for i in group))
    legend = ("* recommended. " if r.recommended is not None else "") + \
        "$ run: this evaluation at today's prices; $/1k: per 1,000 requests"
    compared = any(m.model != r.baseline and m.decision == "pass" and m.savings_fraction is not None
                   for m in r.models)
    legend += f"; saves: against {r.baseline}." if r.baseline and compared else "."
    lines = [Text(legend, style="dim"), Text(r.sentence, style="bold")]
    if r.workload is None:
        lines.append(Text("No workload in the task file: add workload.requests_per_day for $/year.", style="dim"))
    if r.status == "stopped_budget":
        lines.append(Text(f"Stopped by --max-spend {format_usd(r.max_spend)}: decisions use the items evaluated.",
                          style="yellow"))
    if r.method == "adaptive":
        used = ", ".join(f"{m.model} {m.items_used}" for m in r.models)
        every = (f"against about {format_usd(r.exhaustive_spend)} for every model on every item"
                 if r.exhaustive_spend is not None else
                 "(every model on every item: cost unknown, a model not run has no token price)")
        lines.append(Text(f"Adaptive: items used per model: {used}; evaluation cost {format_usd(r.eval_spend)} "
                          f"{every}."))
    spent = (f"Stored run {r.run_id}: it spent {format_usd(r.spent_usd)} when it ran ({r.calls} calls, "
             f"{r.cache_hits} cached)" if replay else
             f"Spent now {format_usd(r.spent_usd)}; {r.calls} new calls, {r.cache_hits} cached")
    lines.append(Text(f"{spent}; {ERRORS_RULE}.", style="dim"))
    for m in r.models:
        if m.n_errors:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(m.errors_by_kind.items()))
            example = f"; first: {m.error_example}" if m.error_example else ""
            lines.append(Text(f"{m.model}: {m.n_errors} error(s) after retries ({kinds}){example}", style="yellow"))
    unknown = [m.model for m in r.models if m.cost_run is None and m.n_responses]
    if unknown:
        lines.append(Text(f"Cost unknown (no price) for: {', '.join(unknown)}.", style="yellow"))
    lines.extend(Text(n, style="dim") for n in r.notes)
    return Group(*tables, *lines)


def print_table(r: EvalResults, console: Console, *, replay: bool = False) -> None:
    """Print :func:`render_table` on ``console`` (150 columns when it is not a terminal: a file or a pipe)."""
    if not console.is_terminal:
        console = Console(file=console.file, width=150, color_system=None)
    console.print(render_table(r, console.width, replay=replay))


def figure_spec(r: EvalResults) -> dict[str, Any]:
    """The cost-vs-accuracy chart as a Plotly figure (plain dict): intervals, the Pareto set and the bar."""
    front = pareto_set(r.models)
    pts = [m for m in r.models if m.cost_per_1k is not None and m.accuracy is not None]
    positive = [m.cost_per_1k for m in pts if m.cost_per_1k]
    floor = min(positive) / 10 if positive else 1e-6
    data: list[dict[str, Any]] = []
    for decision in ("pass", "undecided", "fail"):
        group = [m for m in pts if m.decision == decision]
        if not group:
            continue
        data.append({
            "type": "scatter", "mode": "markers+text", "name": decision, "textposition": "top center",
            "x": [max(m.cost_per_1k or 0.0, floor) for m in group], "y": [(m.accuracy or 0) * 100 for m in group],
            "text": [plot_text(m.model) for m in group], "customdata": money_hover([m.cost_per_1k for m in group]),
            "hovertemplate": "%{text}<br>%{customdata} per 1,000 requests<br>accuracy %{y:.1f}%<extra></extra>",
            "marker": {"size": [16 if m.model in front else 10 for m in group], "color": _DECISION_COLOR[decision],
                       "symbol": ["star" if m.model in front else "circle" for m in group]},
            "error_y": {"type": "data", "symmetric": False,
                        "array": [((m.ci_high or 0) - (m.accuracy or 0)) * 100 for m in group],
                        "arrayminus": [((m.accuracy or 0) - (m.ci_low or 0)) * 100 for m in group]}})
    frontier = sorted((m for m in pts if m.model in front), key=lambda m: m.cost_per_1k or 0.0)
    if frontier:
        data.append({"type": "scatter", "mode": "lines", "name": "Pareto set (stars)", "hoverinfo": "skip",
                     "x": [max(m.cost_per_1k or 0.0, floor) for m in frontier],
                     "y": [(m.accuracy or 0) * 100 for m in frontier], "line": {"dash": "dot", "color": "#4575b4"}})
    xs = [max(m.cost_per_1k or 0.0, floor) for m in pts]
    layout: dict[str, Any] = plot_layout(
        f"{r.task}: accuracy ({r.confidence:.0%} intervals) vs cost; stars: the Pareto set",
        # half a decade of room either side so labels are not cut off
        log_axis("USD per 1,000 requests (log scale)", xs, usd_tick, pad_decades=0.5),
        {"title": {"text": "accuracy (%)"}, "range": [-2, 112], "ticksuffix": "%"}, height=520,
        shapes=[], annotations=[])
    if r.threshold is not None and r.threshold.bar is not None:
        bar = r.threshold.bar * 100
        layout["shapes"].append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": bar, "y1": bar,
                                 "line": {"dash": "dash", "color": "#d73027"}})
        layout["annotations"].append({"xref": "paper", "x": 1, "y": bar, "yanchor": "top", "xanchor": "right",
                                      "showarrow": False, "text": f"bar {r.threshold.bar:.0%}"})
    return {"data": data, "layout": layout}


def report_context(r: EvalResults) -> dict[str, Any]:
    """The values the eval templates show (``eval_body.html``): shared by ``eval --html`` and the web page."""
    head = ["model", "n", "errors", "accuracy", f"{r.confidence:.0%} interval", "decision", "$ run", "$/1k req",
            "$/year", "latency p50", "latency p95", "tokens in", "tokens out", "Pareto"]
    front = pareto_set(r.models)
    rows = []
    for m in r.models:
        rows.append({"decision": m.decision, "recommended": m.model == r.recommended, "cells": [
            m.model + (" (recommended)" if m.model == r.recommended else ""), str(m.n), str(m.n_errors),
            _pct(m.accuracy), "-" if m.ci_low is None else f"{_pct(m.ci_low)} - {_pct(m.ci_high)}",
            _decision(m), _usd(m, m.cost_run), _usd(m, m.cost_per_1k),
            "-" if r.workload is None else _usd(m, m.annual_cost),
            _secs(m.latency_p50_s), _secs(m.latency_p95_s), f"{m.tokens_in:,}", f"{m.tokens_out:,}",
            "yes" if m.model in front else ""]})
    unknown = [m.model for m in r.models if m.cost_per_1k is None]
    notes = [ERRORS_RULE, *r.notes]
    if unknown:
        notes.append("not on the chart (unknown cost or nothing scored): " + ", ".join(unknown))
    if r.status == "stopped_budget":
        notes.append(f"stopped by --max-spend {format_usd(r.max_spend)}: decisions use the items evaluated")
    for m in r.models:
        if m.n_errors:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(m.errors_by_kind.items()))
            example = f"; first: {m.error_example}" if m.error_example else ""
            notes.append(f"{m.model}: {m.n_errors} error(s) after retries ({kinds}){example}")
    return {"task": r.task, "criterion": r.threshold.describe() if r.threshold is not None else "no threshold",
            "run_id": r.run_id, "items": r.items, "status": r.status, "sentence": r.sentence, "head": head,
            "rows": rows, "notes": notes, "figure": figure_spec(r), "spent": format_usd(r.spent_usd),
            "method": r.method}


def template_environment(*extra: jinja2.BaseLoader) -> jinja2.Environment:
    """A Jinja2 environment over the report templates (autoescaped); ``extra`` loaders are searched first."""
    loader = jinja2.ChoiceLoader([*extra, jinja2.FileSystemLoader(str(TEMPLATES))])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.policies["json.dumps_kwargs"] = {"allow_nan": False, "sort_keys": False, "separators": (",", ":")}
    return env


def to_html(r: EvalResults) -> str:
    """A self-contained HTML page (plotly's JS inline, works offline): the chart, the table, the sentence."""
    from plotly.offline import get_plotlyjs

    env = template_environment()
    return str(env.get_template("eval_report.html").render(
        report=report_context(r), plotly_js=get_plotlyjs(), charts_js=(TEMPLATES / "charts.js").read_text("utf-8")))
