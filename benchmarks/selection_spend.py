"""Adaptive vs exhaustive selection: evaluation spend and decision agreement on wide outcome tables.

Synthetic cases (default): eleven models whose per-item costs span 50x (with per-item token-length spread),
accuracies spread around the bar with item-level correlation (a logistic item-difficulty model), 500-2000
items, several bars and seeds. Or a real recorded table: ``--outcomes FILE.csv --threshold T``.

Prints one JSON document: per case the spend ratio (adaptive / exhaustive), the recommended model of each
method, whether they agree, and the median ratio and agreement over the cases.

Two exhaustive references are reported, both evaluating every model on every item:
* ``exhaustive_decision``: the full-data evaluation under the same error guarantee as the adaptive method
  (exact per-model rule with the pass level budgeted across candidates: Bonferroni, weights in proportion
  to price), which the adaptive test is built to reproduce; ``agree`` compares with it;
* ``plain_decision``: the plain per-model rule of ``satisfice select`` (each model at the stated confidence,
  no multiplicity control); ``agree_plain`` compares with it. It may pass a model just above the bar that no
  method keeping P(recommending a model below the bar) <= 1 - confidence could pass, so disagreements there
  are the price of the guarantee, not of adaptivity.
A case's exhaustive decision is *decided* when its recommendation is settled: every model cheaper than the
recommended one (every model, if none passes) is decided "fail". ``agreement`` is over decided cases,
``agreement_all_cases`` over every case.

Run: ``.venv/bin/python benchmarks/selection_spend.py [--cases N] [--seed S | --seeds S1 S2 ...]``. With
``--seeds`` the cases of every seed are pooled, and ``per_seed`` gives each seed's own summary.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from satisfice.evals.adaptive import select_adaptive
from satisfice.evals.outcomes import OutcomesTable, load_outcomes
from satisfice.evals.select import Selection, select_from_outcomes


def synthetic_table(rng: np.random.Generator, *, n_items: int, bar: float, prices: str = "log-uniform",
                    n_models: int = 11, cost_span: float = 50.0) -> tuple[OutcomesTable, dict[str, float]]:
    """A wide table with realistic spreads; returns it and the true (population) accuracy of each model.

    Prices: "log-uniform" spreads eleven per-item prices evenly in log over 50x; "clustered" is shaped like
    RouterBench's list: eight cheap models within 5x and three dear ones between 10x and 50x. Accuracy rises
    with log price (+0.35 across the range) with model noise (sd 0.03), and the bar is crossed at a random point
    of the price range (25%-85%). Items have a difficulty shared by all models (logistic model), and a length
    that scales every model's cost on that item.
    """
    base = 10 ** rng.uniform(-5, -3.5)  # USD per item of the cheapest model
    if prices == "clustered":
        rel = np.concatenate([np.geomspace(1, 5, 8), np.geomspace(10, cost_span, 3)])
    else:
        rel = cost_span ** (np.arange(n_models) / (n_models - 1))
    price = np.sort(base * rel[:n_models] * rng.lognormal(0, 0.1, rel[:n_models].size))
    u = np.log(price / price[0]) / np.log(price[-1] / price[0])
    accuracy = np.clip(bar + 0.35 * (u - rng.uniform(0.25, 0.85)) + rng.normal(0, 0.03, u.size), 0.02, 0.995)
    difficulty = rng.normal(0, 1.5, n_items)
    length = rng.lognormal(0, 0.5, n_items)
    reference = rng.normal(0, 1.5, 20000)
    scores: dict[str, np.ndarray] = {}
    costs: dict[str, np.ndarray | None] = {}
    truth: dict[str, float] = {}
    for k in range(u.size):
        lo, hi = -12.0, 12.0  # the ability that gives the wanted mean accuracy over the item population
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if np.mean(1 / (1 + np.exp(reference - mid))) < accuracy[k] else (lo, mid)
        p = 1 / (1 + np.exp(difficulty - (lo + hi) / 2))
        name = f"model-{k + 1:02d}"
        scores[name] = (rng.random(n_items) < p).astype(float)
        costs[name] = price[k] * length
        truth[name] = float(accuracy[k])
    return OutcomesTable.from_arrays(scores, costs), truth


def recommendation(sel: Selection, key: str | None = None) -> tuple[str | None, bool]:
    """(recommended model, whether that recommendation is settled) under the plain or the target rule."""
    ranked = sorted(sel.models, key=lambda r: (r.cost_per_request if r.cost_per_request is not None else 1e99,
                                               r.model))
    for r in ranked:
        decision = r.decision if key is None else r.extras[key]
        if decision == "pass":
            return r.model, True
        if decision != "fail":
            first_pass = next((m.model for m in ranked
                               if (m.decision if key is None else m.extras[key]) == "pass"), None)
            return first_pass, False
    return None, True


def run_case(name: str, table: OutcomesTable, bar: float, confidence: float, seed: int) -> dict[str, Any]:
    """One comparison of adaptive against exhaustive selection on one table."""
    plain = select_from_outcomes(table, bar, confidence)
    adaptive = select_adaptive(table, bar, confidence, seed=seed)
    ex_rec, ex_decided = recommendation(adaptive, "target_decision")
    pl_rec, pl_decided = recommendation(plain)
    ad_rec = adaptive.recommended
    spend, full = adaptive.extras["eval_spend"], adaptive.extras["exhaustive_spend"]
    return {
        "name": name, "items": table.n_items, "models": len(table.models), "bar": bar,
        "spend_ratio": round(spend / full, 4) if full else None,
        "eval_spend": round(spend, 6), "exhaustive_spend": round(full, 6),
        "adaptive_decision": ad_rec,
        "exhaustive_decision": ex_rec, "exhaustive_decided": ex_decided,
        "agree": ad_rec == ex_rec if ex_decided else None,
        "plain_decision": pl_rec, "plain_decided": pl_decided,
        "agree_plain": ad_rec == pl_rec if pl_decided else None,
        "items_used": {r.model: r.extras["items_used"] for r in adaptive.models if r.extras["items_used"]},
    }


def _rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarise(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Median spend ratio and agreement rates (over decided cases, and over every case)."""
    ratios = [c["spend_ratio"] for c in cases if c["spend_ratio"] is not None]
    decided = [c["agree"] for c in cases if c["agree"] is not None]
    plain = [c["agree_plain"] for c in cases if c["agree_plain"] is not None]
    return {
        "median_spend_ratio": round(statistics.median(ratios), 4) if ratios else None,
        "mean_spend_ratio": round(statistics.fmean(ratios), 4) if ratios else None,
        "agreement": _rate(decided), "agreement_cases": len(decided),
        "agreement_all_cases": _rate([c["adaptive_decision"] == c["exhaustive_decision"] for c in cases]),
        "agreement_plain": _rate(plain), "agreement_plain_cases": len(plain),
        "agreement_plain_all_cases": _rate([c["adaptive_decision"] == c["plain_decision"] for c in cases]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outcomes", type=Path, help="a recorded wide outcomes CSV instead of synthetic cases")
    parser.add_argument("--threshold", type=str, help="bar for --outcomes, e.g. 0.8 or 80%%")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--cases", type=int, default=48, help="number of synthetic cases")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", help="several seeds: pooled and per-seed summaries")
    parser.add_argument("--orders", type=int, default=5, help="random item orders per recorded table")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cases: list[dict[str, Any]] = []
    if args.outcomes is not None:
        if args.threshold is None:
            parser.error("--outcomes needs --threshold")
        text = args.threshold.strip()
        bar = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        table = load_outcomes(args.outcomes)
        for order in range(args.orders):
            cases.append(run_case(f"{args.outcomes.name}/order{order}", table, bar, args.confidence, order))
    else:
        grid = [(prices, bar, n) for prices in ("log-uniform", "clustered") for bar in (0.6, 0.7, 0.8, 0.9)
                for n in (500, 1000, 2000)]
        for seed in args.seeds or [args.seed]:
            rng = np.random.default_rng(seed)
            for i in range(args.cases):
                prices, bar, n = grid[i % len(grid)]
                table, _ = synthetic_table(rng, n_items=n, bar=bar, prices=prices)
                case = run_case(f"{prices}-{i:02d}-bar{bar}-n{n}", table, bar, args.confidence, i)
                cases.append({"seed": seed, **case} if args.seeds else case)
    families = sorted({c["name"].rsplit("-", 3)[0] for c in cases}) if args.outcomes is None else []
    by_family = {f: summarise([c for c in cases if c["name"].startswith(f + "-")]) for f in families}
    per_seed = ({str(s): summarise([c for c in cases if c["seed"] == s]) for s in args.seeds}
                if args.seeds and args.outcomes is None else None)
    out = {"cases": cases, **summarise(cases), "by_family": by_family,
           **({"per_seed": per_seed} if per_seed is not None else {}), "confidence": args.confidence,
           "seconds": round(time.perf_counter() - started, 2)}
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
