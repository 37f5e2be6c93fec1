"""Per-request routing on RouterBench's training splits: 5-fold cross-validation and the simulated guarantee.

Data: ../shared/data/routerbench/*_train_with_responses.csv (never the test splits). For each split and fold
the router is trained on four folds (fit 60% / certify 40% inside) at three bars relative to the most accurate
model's training accuracy s (low 0.80 s, middle 0.90 s, high 0.95 s) and scored on the fifth fold.

Per split it prints AIQ (the trained family's hull, low-bar router, beside the single-model hull), the cost at
95% of the best single model's accuracy, the share of the oracle's accuracy, the routed cost against the
per-task model and against the cheapest single model clearing the bar on the held-out fold, routing p50/p95
ms, and the simulated guarantee: routers fitted once on 60% of the items; the other 40% split 200 times at
random into calibration and test halves; each time the shortlist is certified on the calibration half and the
chosen policy's accuracy is measured on the test half; it reports how often that accuracy is below the bar,
how often the test half proves it below (its one-sided 95% upper bound under the bar), and how often its
accuracy on the whole 40% pool (calibration and test halves: the finite population the calibration half is
drawn from) is below the bar, the event the certificate bounds. The halves of a fixed pool are negatively
correlated (a lucky calibration half leaves an unlucky test half), so the test-half share overstates violations.

    .venv/bin/python benchmarks/routing.py [--folds 5] [--splits 200] [--data DIR] > routing.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from satisfice.evals.outcomes import load_outcomes
from satisfice.evals.stats import upper_bound
from satisfice.routing.data import RoutingData, from_tables
from satisfice.routing.evaluate import evaluate, routing_latency_ms
from satisfice.routing.policies import Predictive
from satisfice.routing.train import (
    certify_and_choose,
    fit_routers,
    per_task_model,
    shortlist,
    split,
    train,
    view_of,
)

SPLITS = ("arc_challenge", "winograde", "mbpp")
BARS = {"low": 0.80, "middle": 0.90, "high": 0.95}
DEFAULT_DATA = next((p / "shared" / "data" / "routerbench" for p in Path(__file__).resolve().parents
                     if (p / "shared" / "data" / "routerbench").is_dir()), Path("../shared/data/routerbench"))
"""The nearest ``shared/data/routerbench`` above this file (a checkout beside ``shared/``, or a worktree below it)."""


def cheapest_single_clearing(data: RoutingData, bar: float) -> float | None:
    acc, cost = data.accuracy(), data.mean_cost()
    ok = [c for a, c in zip(acc, cost, strict=True) if a >= bar]
    return min(ok) if ok else None


def fold_run(data: RoutingData, train_idx: np.ndarray, test_idx: np.ndarray, seed: int) -> dict[str, Any]:
    tr, te = data.subset(train_idx), data.subset(test_idx)
    strongest_acc = float(tr.accuracy().max())
    fit_idx, _ = split(tr.n, 0.6, seed)
    fits = fit_routers(tr, fit_idx, seed=seed)
    out: dict[str, Any] = {"strongest_train_accuracy": strongest_acc, "bars": {}}
    for name, share in BARS.items():
        bar = share * strongest_acc
        trained = train(tr, bar, 0.95, seed=seed, fits=fits)
        ev = evaluate(trained, te)
        single = cheapest_single_clearing(te, bar)
        out["bars"][name] = {
            "bar": bar, "policy": ev["policy"], "kept_per_task_model": trained.summary["kept_per_task_model"],
            "certified_accuracy_low": trained.certified_low, "test_accuracy": ev["accuracy"],
            "meets_bar_on_test": ev["meets_bar"], "cost_per_request_usd": ev["cost_per_request_usd"],
            "per_task": ev["per_task"], "cost_vs_per_task": ev["cost_vs_per_task"],
            "cheapest_single_clearing_on_test_usd": single,
            "cost_vs_cheapest_single_clearing": ev["cost_per_request_usd"] / single if single else None,
            "share_of_oracle": ev["share_of_oracle"], "routing_ms_p50": ev["routing_ms_p50"],
            "routing_ms_p95": ev["routing_ms_p95"], "models_used": ev["models_used"],
        }
        if name == "low":  # the router's own decision time, whatever policy won (one prompt at a time)
            for kind in ("logreg", "knn"):
                probe = dataclasses.replace(trained, policy=Predictive(kind, 0.5, trained.per_task.model))
                out[f"{kind}_ms_p50"], out[f"{kind}_ms_p95"] = routing_latency_ms(probe, te.prompts)
        if name == "low":  # the richest family (per-task and strongest fallbacks): the hull figures
            out.update({k: ev[k] for k in ("aiq", "aiq_single_models", "cost_at_95pct_best_single_usd",
                                           "single_cost_at_95pct_best_single_usd", "best_single", "oracle",
                                           "random")})
    return out


def guarantee(data: RoutingData, share: float, splits: int, seed: int = 0) -> dict[str, Any]:
    bar = share * float(data.accuracy().max())
    per_task = per_task_model(data, bar, 0.95)
    strongest = int(np.argmax(data.accuracy()))
    fit_idx, rest = split(data.n, 0.6, seed)
    featurizer, fitted, oof = fit_routers(data, fit_idx, seed=seed)
    short = shortlist(data, view_of(data.subset(fit_idx), oof), ("logreg", "knn"), per_task.model, strongest, bar)
    rest_data = data.subset(rest)
    x = featurizer.transform(rest_data.prompts)
    full = view_of(rest_data, {r: f.predict(x) for r, f in fitted.items()})
    rng = np.random.default_rng(seed + 1)
    below = routed = routed_below = proven_below = pool_below = 0
    accs = []
    for _ in range(splits):
        perm = rng.permutation(rest_data.n)
        cal, test = perm[: rest_data.n // 2], perm[rest_data.n // 2:]
        choice = certify_and_choose(short, _sub(full, cal), per_task, bar, 0.95)
        scores = choice.policy.simulate(_sub(full, test)).correct
        acc = float(scores.mean())
        accs.append(acc)
        proven_below += upper_bound(float(scores.sum()), int(scores.size), 0.05) < bar
        pool_below += choice.policy.simulate(full).accuracy < bar
        below += acc < bar
        routed += not choice.kept_per_task
        routed_below += (not choice.kept_per_task) and acc < bar
    return {"bar": bar, "splits": splits, "test_below_bar_share": below / splits, "routed_share": routed / splits,
            "routed_and_test_below_bar_share": routed_below / splits,
            "test_proves_below_bar_share": proven_below / splits, "pool_below_bar_share": pool_below / splits,
            "test_items": int(rest_data.n - rest_data.n // 2),
            "test_accuracy_mean": float(np.mean(accs)), "per_task_model": data.models[per_task.model],
            "per_task_clears_bar": per_task.clears_bar}


def _sub(view: Any, idx: np.ndarray) -> Any:
    return type(view)(view.correct[idx], view.cost[idx], {k: v[idx] for k, v in view.answers.items()},
                      {k: v[idx] for k, v in view.probs.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--splits", type=int, default=200)
    parser.add_argument("--only", choices=SPLITS, action="append")
    args = parser.parse_args()
    from sklearn.model_selection import KFold

    report: dict[str, Any] = {"bars_relative_to_strongest": BARS, "confidence": 0.95, "splits": {}}
    started = time.perf_counter()
    for name in args.only or SPLITS:
        data = from_tables([load_outcomes(args.data / f"{name}_train_with_responses.csv")])
        folds = [fold_run(data, tr, te, seed=i) for i, (tr, te) in
                 enumerate(KFold(args.folds, shuffle=True, random_state=0).split(np.arange(data.n)))]
        summary: dict[str, Any] = {"items": data.n, "items_dropped": data.dropped, "folds": folds}
        for key in ("aiq", "aiq_single_models"):
            summary[f"{key}_mean"] = float(np.mean([f[key] for f in folds]))
        for bar in BARS:
            rows = [f["bars"][bar] for f in folds]
            summary[f"{bar}_bar"] = {
                "cost_vs_per_task_mean": float(np.mean([r["cost_vs_per_task"] for r in rows])),
                "cost_vs_per_task_max": float(np.max([r["cost_vs_per_task"] for r in rows])),
                "test_accuracy_mean": float(np.mean([r["test_accuracy"] for r in rows])),
                "per_task_accuracy_mean": float(np.mean([r["per_task"]["accuracy"] for r in rows])),
                "folds_routed": sum(not r["kept_per_task_model"] for r in rows),
                "folds_meeting_bar_on_test": sum(r["meets_bar_on_test"] for r in rows),
            }
        for kind in ("logreg", "knn"):
            summary[f"{kind}_ms_p50_median"] = float(np.median([f[f"{kind}_ms_p50"] for f in folds]))
            summary[f"{kind}_ms_p95_median"] = float(np.median([f[f"{kind}_ms_p95"] for f in folds]))
        summary["guarantee"] = {bar: guarantee(data, share, args.splits) for bar, share in BARS.items()}
        report["splits"][name] = summary
        print(f"{name}: done in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    report["aiq_mean_over_splits"] = float(np.mean([s["aiq_mean"] for s in report["splits"].values()]))
    report["seconds"] = time.perf_counter() - started
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
