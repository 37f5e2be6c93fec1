"""An insight as an article: title from its largest finding, TL;DR of the top three, metric cards, links.

Pure: findings in, text and plain values out. Every sentence is filled from a finding's own figures by the
writer registered for its kind (:data:`WRITERS`); nothing is written that a finding does not hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from satisfice.formatting import usd as money
from satisfice.market.findings import Finding, FindingModel, rank

TLDR_SIZE = 3


def usd(value: Any) -> str:
    """USD by the one money formatter ("unknown" for anything that is not an amount)."""
    return money(value, unknown="unknown") if isinstance(value, int | float) else "unknown"


def times(value: Any) -> str:
    """A factor such as ``27.3x``."""
    return f"{value:.3g}x" if isinstance(value, int | float) else "unknown"


def tokens(value: Any) -> str:
    """Tokens a day, e.g. ``100M``."""
    if not isinstance(value, int | float):
        return "unknown"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _role(f: Finding, role: str) -> FindingModel | None:
    return next((m for m in f.models if m.role == role), None)


def _name(f: Finding, role: str) -> str:
    m = _role(f, role)
    return m.name if m else "none"


def _bar(f: Finding) -> str:
    name = f.benchmark_name or f.benchmark or "?"
    return f"{name} {f.threshold:g}" if f.threshold is not None else name


def _points(value: Any) -> str:
    return f"{value:+.3g}" if isinstance(value, int | float) else "unknown"


@dataclass(frozen=True)
class Writer:
    """How one kind of finding is written: a title, a sentence and its metric cards."""

    title: Callable[[Finding], str]
    sentence: Callable[[Finding], str]
    cards: Callable[[Finding], list[dict[str, str]]]


def _open_sentence(f: Finding) -> str:
    n = f.numbers
    head = (f"{_name(f, 'first open')} is the first open-weights model to clear {_bar(f)} "
            f"(scores {n['open_score']:g}, released {n['open_release_date']})")
    if _role(f, "first closed") is None:
        return head + f", before any closed model, at {usd(n['open_price'])}/M."
    return (head + f": {n['lag_days']} days after {_name(f, 'first closed')}, at {usd(n['open_price'])}/M against "
            f"{usd(n['closed_price'])}/M ({times(n['price_ratio'])} cheaper).")


def _open_title(f: Finding) -> str:
    n = f.numbers
    if _role(f, "first closed") is None:
        return f"{_name(f, 'first open')} clears {_bar(f)} before any closed model"
    return (f"{_name(f, 'first open')} is the first open model over {_bar(f)}: {n['lag_days']} days after "
            f"{_name(f, 'first closed')}, {times(n['price_ratio'])} cheaper")


WRITERS: dict[str, Writer] = {
    "open_cleared": Writer(
        _open_title, _open_sentence,
        lambda f: [{"label": f"Lag on {_bar(f)}", "value": f"{f.numbers['lag_days']} days"
                    if f.numbers.get("lag_days") is not None else "open first"},
                   {"label": "Closed / open price", "value": times(f.numbers.get("price_ratio"))}]),
    "first_cleared": Writer(
        lambda f: f"{_name(f, 'first to clear')} is the first model to clear {_bar(f)}",
        lambda f: (f"{_name(f, 'first to clear')} is the first model to clear {_bar(f)} (scores "
                   f"{f.numbers['score']:g}, released {f.numbers['release_date']}, at "
                   f"{usd(f.numbers['blended_price'])}/M)."),
        lambda f: [{"label": f"First over {_bar(f)}", "value": _name(f, "first to clear")}]),
    "frontier_price": Writer(
        lambda f: (f"{_name(f, 'new cheapest')} cuts the cost of {_bar(f)} {times(f.numbers['factor'])}, to "
                   f"{usd(f.numbers['new_price'])}/M"),
        lambda f: (f"The lowest launch price clearing {_bar(f)} fell from {usd(f.numbers['old_price'])}/M "
                   f"({_name(f, 'previous cheapest')}) to {usd(f.numbers['new_price'])}/M "
                   f"({_name(f, 'new cheapest')}, released {f.numbers['release_date']}): "
                   f"{times(f.numbers['factor'])} lower."),
        lambda f: [{"label": f"Frontier price, {_bar(f)}",
                    "value": f"{usd(f.numbers['old_price'])} → {usd(f.numbers['new_price'])}/M"}]),
    "workload": Writer(
        lambda f: (f"{_name(f, 'new cheapest')} is now the cheapest over {_bar(f)}: "
                   f"{usd(f.numbers['new_annual'])}/year for {tokens(f.numbers['tokens_per_day'])} tokens a day"),
        lambda f: (f"{tokens(f.numbers['tokens_per_day'])} tokens a day on a model clearing {_bar(f)}: "
                   f"{usd(f.numbers['old_annual'])}/year on {_name(f, 'previous cheapest')}, now "
                   f"{usd(f.numbers['new_annual'])}/year on {_name(f, 'new cheapest')} "
                   f"({usd(f.numbers['new_price'])}/M from {f.numbers['price_date']}; {times(f.numbers['factor'])})."),
        lambda f: [{"label": f"Annual bill, {_bar(f)}",
                    "value": f"{usd(f.numbers['old_annual'])} → {usd(f.numbers['new_annual'])}"}]),
    "gap": Writer(
        lambda f: (f"Open-closed gap on {_bar(f)}: {_points(f.numbers['old_gap'])} → "
                   f"{_points(f.numbers['new_gap'])} points"),
        lambda f: (f"{_bar(f)}: best closed minus best open went from {_points(f.numbers['old_gap'])} to "
                   f"{_points(f.numbers['new_gap'])} points ({_name(f, 'best closed')} "
                   f"{f.numbers['best_closed_score']:g}, {_name(f, 'best open')} {f.numbers['best_open_score']:g})."),
        lambda f: [{"label": f"Gap, {_bar(f)}",
                    "value": f"{_points(f.numbers['old_gap'])} → {_points(f.numbers['new_gap'])} pts"}]),
    "watch": Writer(
        lambda f: f"Watch {f.numbers['watch']} fired: {f.numbers['description']}",
        lambda f: (f"Watch {f.numbers['watch']} fired: now {f.numbers['description']}: "
                   + ", ".join(m.name for m in f.models) + "."),
        lambda f: [{"label": f"Watch {f.numbers['watch']}", "value": f"{f.numbers['models']} model(s)"}]),
}
"""The writer of each finding kind (the kinds of :data:`satisfice.market.findings.KINDS`)."""


def ordered(findings: Sequence[Finding]) -> list[Finding]:
    """Largest first."""
    return sorted(findings, key=lambda f: (rank(f), f.benchmark or "", f.threshold or 0.0), reverse=True)


def title(findings: Sequence[Finding]) -> str:
    """The title: the largest finding's, with how many more there are."""
    if not findings:
        return "No notable change"
    top = ordered(findings)
    more = len(top) - 1
    return WRITERS[top[0].kind].title(top[0]) + (f" (and {more} more finding{'s' if more > 1 else ''})"
                                                  if more else "")


def article(insight_id: int, day: dt.date, trigger: str, run_id: int | None, findings: Sequence[Finding],
            urls: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """The insight as one document: title, TL;DR, cards, findings with their sentence, models, sources, chart."""
    top = ordered(findings)
    models: dict[str, str] = {}
    sources: list[str] = []
    for f in top:
        for m in f.models:
            models.setdefault(m.model, m.name)
        sources.extend(s for s in f.sources if s not in sources)
    cards = [card for f in top[:TLDR_SIZE] for card in WRITERS[f.kind].cards(f) if "unknown" not in card["value"]]
    chart = next(({"kind": f.kind, "benchmark": f.benchmark, "threshold": f.threshold} for f in top
                  if f.benchmark is not None), None)
    return {
        "id": insight_id, "date": day.isoformat(), "trigger": trigger, "run": run_id, "title": title(top),
        "tldr": [WRITERS[f.kind].sentence(f) for f in top[:TLDR_SIZE]], "cards": cards,
        "findings": [f.to_json() | {"sentence": WRITERS[f.kind].sentence(f)} for f in top],
        "models": [{"model": k, "name": v} for k, v in models.items()],
        "sources": [{"citation": s, "url": (urls or {}).get(s)} for s in sources], "chart": chart,
    }
