"""Scoring a trained router on outcomes it has not seen, beside the baselines.

Baselines: the per-task model (the trained router's fallback), the best single model (most accurate on these
items, cheaper on ties), a random model per request (its expectation), and the oracle (per item the cheapest
model that got it right; the cheapest model when none did).

AIQ (area under the cost-quality hull): the points are every policy the router was trained with (its whole
family: thresholds, cascades) plus every single model, simulated on these items; the hull is their upper
concave envelope made non-decreasing; AIQ is its mean height between the cheapest and the dearest single
model's cost. ``aiq_single_models`` is the same over the single models alone. ``cost_at_95pct_best_single_usd``
is the cheapest point of the family reaching 95% of the best single model's accuracy (an after-the-fact choice
on these items, like any hull), beside the cheapest single model that reaches it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from satisfice.routing.data import RoutingData
from satisfice.routing.policies import Outcome, Single
from satisfice.routing.serve import decide
from satisfice.routing.train import Trained, simulate_all, view_of


def hull_area(points: Sequence[tuple[float, float]], low: float, high: float) -> float:
    """Mean height over ``[low, high]`` of the non-decreasing upper hull of (cost, accuracy) points.

    Left of the cheapest point the hull is 0 (nothing is that cheap); right of the last it stays flat.
    """
    if high <= low:
        return max((a for _, a in points), default=0.0)
    pts = sorted(set(points))
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(upper) >= 2:
            (x1, y1), (x2, y2) = upper[-2], upper[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:  # upper[-1] is below the chord
                upper.pop()
            else:
                break
        upper.append(p)
    best, mono = -1.0, []
    for x, y in upper:
        if y > best:
            best = y
            mono.append((x, y))
    grid = np.linspace(low, high, 2001)
    xs = np.array([x for x, _ in mono])
    ys = np.array([y for _, y in mono])
    heights = np.where(grid < xs[0], 0.0, np.interp(grid, xs, ys))
    return float(np.trapezoid(heights, grid) / (high - low))


def _stats(outcome: Outcome, models: list[str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"accuracy": outcome.accuracy, "cost_per_request_usd": outcome.mean_cost}
    if models is not None:
        served, counts = np.unique(outcome.served, return_counts=True)
        doc["models_used"] = {models[int(s)]: float(c) / outcome.served.size for s, c in zip(served, counts,
                                                                                             strict=True)}
    return doc


def oracle(data: RoutingData) -> Outcome:
    """Per item the cheapest model that got it right (the cheapest model when none did)."""
    right = data.correct >= 0.5
    cost = np.where(right, data.cost, np.inf)
    pick = np.where(right.any(axis=1), cost.argmin(axis=1), data.cost.argmin(axis=1))
    rows = np.arange(data.n)
    return Outcome(data.correct[rows, pick], data.cost[rows, pick], pick)


def routing_latency_ms(trained: Trained, prompts: Sequence[str], limit: int = 200) -> tuple[float, float]:
    """p50 and p95 milliseconds of one serving decision (features and router, one prompt at a time)."""
    times = []
    for prompt in list(prompts)[:limit]:
        start = time.perf_counter()
        decide(trained, prompt)
        times.append((time.perf_counter() - start) * 1000.0)
    if not times:
        return 0.0, 0.0
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def evaluate(trained: Trained, data: RoutingData) -> dict[str, Any]:
    """The ``route eval`` document for a trained router on ``data`` (same models as training)."""
    data = align(data, trained.models)
    view = view_of(data, trained.probs(data.prompts))
    chosen = trained.policy.simulate(view)
    singles = [Single(j).simulate(view) for j in range(len(trained.models))]
    accs = np.array([s.accuracy for s in singles])
    costs = np.array([s.mean_cost for s in singles])
    best = int(min(range(len(singles)), key=lambda j: (-accs[j], costs[j])))
    family = simulate_all(trained.candidates, view)[1] or singles
    points = [(s.mean_cost, s.accuracy) for s in family + singles]
    single_points = [(s.mean_cost, s.accuracy) for s in singles]
    low, high = float(costs.min()), float(costs.max())
    target = 0.95 * accs[best]
    reaching = [c for c, a in points if a >= target]
    single_reaching = [c for c, a in single_points if a >= target]
    orc = oracle(data)
    p50, p95 = routing_latency_ms(trained, data.prompts)
    per_task = singles[trained.per_task.model]
    doc: dict[str, Any] = {
        "policy": trained.policy.label(trained.models),
        **_stats(chosen, trained.models),
        "items": data.n,
        "bar": trained.bar,
        "meets_bar": chosen.accuracy >= trained.bar,
        "per_task": {"model": trained.models[trained.per_task.model], **_stats(per_task)},
        "best_single": {"model": trained.models[best], **_stats(singles[best])},
        "random": {"accuracy": float(accs.mean()), "cost_per_request_usd": float(costs.mean())},
        "oracle": _stats(orc),
        "aiq": hull_area(points, low, high),
        "aiq_single_models": hull_area(single_points, low, high),
        "cost_at_95pct_best_single_usd": min(reaching) if reaching else None,
        "single_cost_at_95pct_best_single_usd": min(single_reaching) if single_reaching else None,
        "share_of_oracle": chosen.accuracy / orc.accuracy if orc.accuracy > 0 else None,
        "cost_vs_per_task": chosen.mean_cost / per_task.mean_cost if per_task.mean_cost > 0 else None,
        "routing_ms_p50": p50,
        "routing_ms_p95": p95,
    }
    return doc


def align(data: RoutingData, models: list[str]) -> RoutingData:
    """The same items with the models in the router's order (DataError when one is missing)."""
    cols = [data.column(m) for m in models]
    return RoutingData(data.prompts, list(models), data.correct[:, cols], data.cost[:, cols],
                       {m: data.answers[m] for m in models if m in data.answers}, data.dropped)


__all__ = ["align", "evaluate", "hull_area", "oracle", "routing_latency_ms"]
