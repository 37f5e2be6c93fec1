"""Adaptive vs exhaustive selection: what the user pays (the recommendation's price) and what evaluation costs.

Three parts, one JSON document on stdout:

* ``real``: the recorded RouterBench tables (``--real-dir``, default ``../shared/data/routerbench``: ARC-Challenge,
  Winogrande, MBPP training splits, 11 models each) at bars 0.55-0.85, a few random item orders each;
* ``synthetic``: generated tables (eleven models whose per-item costs span 50x, item-level correlation,
  500-2000 items, bars 0.6-0.9);
* ``simulation``: the error the guarantee is about, P(recommending a model whose true accuracy is below the
  bar), measured over many tables drawn from known accuracies (ten candidates just below the bar, ...).

Per case: the exhaustive recommendation (``satisfice select``: every model on every item, the same guarantee
as the adaptive method), whether it is *settled* (every cheaper model decided "fail"), the adaptive
recommendation (``select --adaptive``), ``agree``, ``price_ratio`` = price per request of the adaptive
recommendation / the exhaustive one (1.0 is right; above 1 is regret paid on every production request;
null when either recommends nothing), ``spend_ratio`` = adaptive evaluation spend / exhaustive, the
plain per-model rule's recommendation (no multiplicity control, for comparison), and what reproducing the
every-item answer costs at best at the same levels (``benchmarks/selection_floor.py``): ``oracle_spend_ratio``
(every side a sequential probability-ratio test told the model's true total) and ``floor_spend_ratio`` (the
most powerful fixed-sample test's median: no valid method does better; off with ``--no-floors``).

Run: ``.venv/bin/python benchmarks/selection_spend.py [--parts real synthetic simulation] [--orders 3]
[--cases 48 --seeds 0 1] [--reps 400] [--no-floors]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from satisfice.evals.adaptive import select_adaptive
from satisfice.evals.outcomes import OutcomesTable, load_outcomes
from satisfice.evals.select import Selection, select_from_outcomes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from selection_floor import floors  # noqa: E402  (a sibling script, not part of the package)

ROOT = Path(__file__).resolve().parents[1]
REAL_DIR = ROOT.parent / "shared" / "data" / "routerbench"
REAL_BARS = (0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85)
CASE_KEYS = ("name", "bar", "order", "exhaustive", "settled", "adaptive", "agree", "price_ratio", "spend_ratio",
             "oracle_spend_ratio", "floor_spend_ratio", "plain")


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
    scores, names, truth = correlated_scores(rng, accuracy, difficulty)
    return OutcomesTable.from_arrays(scores, {m: price[k] * length for k, m in enumerate(names)}), truth


def correlated_scores(rng: np.random.Generator, accuracy: Sequence[float], difficulty: np.ndarray
                      ) -> tuple[dict[str, np.ndarray], list[str], dict[str, float]]:
    """0/1 scores whose population accuracies are ``accuracy``, correlated through shared item difficulty."""
    reference = np.random.default_rng(12345).normal(0, float(np.std(difficulty)) or 1.0, 20000)
    scores: dict[str, np.ndarray] = {}
    truth: dict[str, float] = {}
    for k, acc in enumerate(accuracy):
        lo, hi = -12.0, 12.0  # the ability that gives the wanted mean accuracy over the item population
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if np.mean(1 / (1 + np.exp(reference - mid))) < acc else (lo, mid)
        p = 1 / (1 + np.exp(difficulty - (lo + hi) / 2))
        name = f"model-{k + 1:02d}"
        scores[name] = (rng.random(difficulty.size) < p).astype(float)
        truth[name] = float(acc)
    return scores, list(scores), truth


def recommendation(sel: Selection) -> tuple[str | None, bool]:
    """(recommended model, whether it is settled: every cheaper model decided "fail")."""
    ranked = sorted(sel.models, key=lambda r: (r.cost_per_request if r.cost_per_request is not None else 1e99,
                                               r.model))
    for r in ranked:
        if r.decision == "pass":
            return r.model, True
        if r.decision != "fail":
            return sel.recommended, False
    return None, True


def run_case(name: str, table: OutcomesTable, bar: float, confidence: float, seed: int, *,
             with_floors: bool = True) -> dict[str, Any]:
    """One comparison of adaptive against exhaustive selection (same guarantee) on one table."""
    exhaustive = select_from_outcomes(table, bar, confidence)
    plain = select_from_outcomes(table, bar, confidence, plain=True)
    adaptive = select_adaptive(table, bar, confidence, seed=seed)
    ex_rec, settled = recommendation(exhaustive)
    ad_rec = adaptive.recommended
    price = {m: table.cost_per_item(m) for m in table.models}
    ex_price, ad_price = price.get(ex_rec or ""), price.get(ad_rec or "")
    spend, full = adaptive.extras["eval_spend"], adaptive.extras["exhaustive_spend"]
    floor = floors(table, bar, confidence, seed) if with_floors else {"oracle": None, "floor": None}
    return {
        "name": name, "items": table.n_items, "models": len(table.models), "bar": bar, "order": seed,
        "exhaustive": ex_rec, "settled": settled, "adaptive": ad_rec, "agree": ad_rec == ex_rec,
        "price_ratio": round(ad_price / ex_price, 4) if ad_price and ex_price else None,
        "spend_ratio": round(spend / full, 4) if full else None,
        "oracle_spend_ratio": None if floor["oracle"] is None else round(floor["oracle"], 4),
        "floor_spend_ratio": None if floor["floor"] is None else round(floor["floor"], 4),
        "eval_spend": round(spend, 6), "exhaustive_spend": round(full, 6),
        "plain": plain.recommended,
        "items_used": {r.model: r.items_used for r in adaptive.models if r.items_used},
    }


def summarise(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Agreement, price ratios and spend ratios over cases."""
    ratios = [c["spend_ratio"] for c in cases if c["spend_ratio"] is not None]
    passing = [c for c in cases if c["exhaustive"] is not None and c["spend_ratio"] is not None]
    settled = [c["agree"] for c in cases if c["settled"]]
    prices = [c["price_ratio"] for c in cases if c["price_ratio"] is not None]
    def median_of(key: str) -> float | None:
        values = [c[key] for c in cases if c.get(key) is not None]
        return round(statistics.median(values), 4) if values else None

    def over(key: str) -> list[str]:
        return sorted({f"{c['name']}@{c['bar']}" for c in passing if c.get(key) is not None and c[key] > 0.25})

    return {
        "cases": len(cases),
        "agreement_settled": round(sum(settled) / len(settled), 4) if settled else None,
        "settled_cases": len(settled),
        "agreement_all": round(sum(c["agree"] for c in cases) / len(cases), 4) if cases else None,
        "price_ratio_not_1": sum(1 for p in prices if abs(p - 1.0) > 1e-9)
        + sum(1 for c in cases if not c["agree"] and c["price_ratio"] is None),
        "max_price_ratio": max(prices) if prices else None,
        "median_spend_ratio": round(statistics.median(ratios), 4) if ratios else None,
        "mean_spend_ratio": round(statistics.fmean(ratios), 4) if ratios else None,
        "max_spend_ratio_where_a_model_passes": max((c["spend_ratio"] for c in passing), default=None),
        "cases_over_25pct_where_a_model_passes": over("spend_ratio"),
        # what reproducing the every-item answer costs at best (benchmarks/selection_floor.py)
        "median_oracle_spend_ratio": median_of("oracle_spend_ratio"),
        "median_floor_spend_ratio": median_of("floor_spend_ratio"),
        "cases_over_25pct_where_a_model_passes_oracle": over("oracle_spend_ratio"),
        "cases_over_25pct_where_a_model_passes_floor": over("floor_spend_ratio"),
        "agreement_with_plain_rule": round(sum(c["adaptive"] == c["plain"] for c in cases) / len(cases), 4)
        if cases else None,
    }


def real_part(directory: Path, orders: int, confidence: float, with_floors: bool = True) -> dict[str, Any]:
    """Every recorded table in ``directory`` at the bars 0.55-0.85."""
    files = sorted(directory.glob("*_outcomes.csv"))
    if not files:
        return {"error": f"no *_outcomes.csv in {directory}"}
    cases = []
    for path in files:
        table = load_outcomes(path)
        for bar in REAL_BARS:
            cases.extend(run_case(path.name.removesuffix("_outcomes.csv"), table, bar, confidence, order,
                                  with_floors=with_floors)
                         for order in range(orders))
    return {"source": str(directory), "bars": list(REAL_BARS), "orders": orders, **summarise(cases),
            "by_case": [{k: c[k] for k in CASE_KEYS} for c in cases]}


def synthetic_part(seeds: Sequence[int], n_cases: int, confidence: float, with_floors: bool = True
                   ) -> dict[str, Any]:
    """Generated tables; pooled over seeds, with a per-seed median."""
    grid = [(prices, bar, n) for prices in ("log-uniform", "clustered") for bar in (0.6, 0.7, 0.8, 0.9)
            for n in (500, 1000, 2000)]
    cases, per_seed = [], {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        mine = []
        for i in range(n_cases):
            prices, bar, n = grid[i % len(grid)]
            table, _ = synthetic_table(rng, n_items=n, bar=bar, prices=prices)
            mine.append(run_case(f"{prices}-{i:02d}-n{n}", table, bar, confidence, i, with_floors=with_floors))
        per_seed[str(seed)] = summarise(mine)["median_spend_ratio"]
        cases.extend(mine)
    return {"seeds": list(seeds), **summarise(cases), "median_spend_ratio_per_seed": per_seed}


def _independent(accuracy: Sequence[float], n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {f"model-{k + 1:02d}": (rng.random(n) < p).astype(float) for k, p in enumerate(accuracy)}


SIMULATIONS: dict[str, tuple[list[float], bool]] = {
    # name: (accuracies against a 0.80 bar in increasing price, whether scores are correlated across models)
    "ten_just_below_then_one_good": ([0.795] * 10 + [0.92], False),
    "ten_just_below_none_good": ([0.795] * 10, False),
    "ten_just_below_correlated": ([0.795] * 10 + [0.92], True),
    "cheap_bad_then_dear_near_bar": ([0.5, 0.6, 0.7, 0.75] + [0.795] * 7, False),
    "one_model_just_below": ([0.795], False),
}


def simulation_part(reps: int, n_items: int, confidence: float) -> dict[str, Any]:
    """Error rate (a below-bar model recommended) of each rule, against alpha; fixed seeds."""
    bar, alpha = 0.8, 1 - confidence
    out: dict[str, Any] = {"bar": bar, "alpha": round(alpha, 6), "reps": reps, "items": n_items}
    rules: dict[str, Callable[[OutcomesTable, int], str | None]] = {
        "exhaustive": lambda t, _: select_from_outcomes(t, bar, confidence).recommended,
        "adaptive": lambda t, rep: select_adaptive(t, bar, confidence, seed=rep).recommended,
        "plain_per_model": lambda t, _: select_from_outcomes(t, bar, confidence, plain=True).recommended,
    }
    worst = 0.0
    for name, (accuracy, correlated) in SIMULATIONS.items():
        below = {f"model-{k + 1:02d}" for k, p in enumerate(accuracy) if p < bar}
        errors = dict.fromkeys(rules, 0)
        for rep in range(reps):
            rng = np.random.default_rng([7, rep])
            scores = (correlated_scores(rng, accuracy, rng.normal(0, 1.5, n_items))[0] if correlated
                      else _independent(accuracy, n_items, rng))
            table = OutcomesTable.from_arrays(scores, {m: np.full(n_items, 1e-4 * 1.3 ** k)
                                                       for k, m in enumerate(scores)})
            for rule, fn in rules.items():
                errors[rule] += fn(table, rep) in below
        rates = {rule: round(e / reps, 4) for rule, e in errors.items()}
        worst = max(worst, rates["exhaustive"], rates["adaptive"])
        out[name] = {"accuracies": accuracy, "correlated": correlated, "error_rate": rates,
                     "se": round(float(np.sqrt(alpha * (1 - alpha) / reps)), 4)}
    out["max_error_rate_guaranteed_rules"] = worst
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=["real", "synthetic", "simulation"],
                        choices=["real", "synthetic", "simulation"])
    parser.add_argument("--real-dir", type=Path, default=REAL_DIR, help="folder of *_outcomes.csv tables")
    parser.add_argument("--orders", type=int, default=3, help="random item orders per real table and bar")
    parser.add_argument("--cases", type=int, default=48, help="synthetic cases per seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="synthetic seeds (pooled)")
    parser.add_argument("--reps", type=int, default=400, help="simulated tables per configuration")
    parser.add_argument("--items", type=int, default=600, help="items per simulated table")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--no-floors", action="store_true", help="skip the oracle and floor spends (faster)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    out: dict[str, Any] = {"confidence": args.confidence}
    if "real" in args.parts:
        out["real"] = real_part(args.real_dir, args.orders, args.confidence, not args.no_floors)
    if "synthetic" in args.parts:
        out["synthetic"] = synthetic_part(args.seeds, args.cases, args.confidence, not args.no_floors)
    if "simulation" in args.parts:
        out["simulation"] = simulation_part(args.reps, args.items, args.confidence)
    out["seconds"] = round(time.perf_counter() - started, 1)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
