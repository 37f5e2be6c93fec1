"""Learning a routing policy: candidates chosen on one part of the outcomes, certified on the other.

1. The per-task model is what ``satisfice select`` recommends on all the outcomes (the cheapest model whose
   accuracy clears the bar at the confidence asked); when no model clears it, the most accurate one.
2. The items are split at random: a fitting part (``fit_share``) and a calibration part. Routers and features
   are fitted on the fitting part; out-of-fold predictions there give each candidate an honest estimate.
3. Candidates (single models, predictive routers over a grid of thresholds, agreement cascades, routed
   cascades) are simulated on the fitting part; those estimated to clear the bar and cheaper than the per-task
   model, on the cost-accuracy front, are ordered dearest first and certified on the calibration part with the
   fixed-sequence test of :mod:`satisfice.routing.certify`.
4. The cheapest certified policy wins unless the per-task model costs no more on the calibration items; then
   the per-task model is kept (a policy must save at least ``min_saving``, 5% by default, to replace it).
   Routing is never dearer than the per-task answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from satisfice.errors import DataError
from satisfice.evals.outcomes import OutcomesTable
from satisfice.evals.select import select_from_outcomes
from satisfice.routing.certify import accuracy_lower_bound, fixed_sequence
from satisfice.routing.data import RoutingData
from satisfice.routing.policies import Agreement, Outcome, PolicyValue, Predictive, RoutedAgreement, Single, View
from satisfice.routing.routers import FEATURES, ROUTERS, Featurizer, Router, out_of_fold

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.30, 0.99, 0.04))
"""Thresholds on P(correct) tried for predictive and routed policies."""


@dataclass
class PerTask:
    """The per-task choice: the model, whether it clears the bar, and its certified lower bound."""

    model: int
    clears_bar: bool
    lower: float


@dataclass
class Trained:
    """A trained router: the chosen policy, its certificate, the fitted features and routers, the candidates."""

    models: list[str]
    bar: float
    confidence: float
    policy: PolicyValue
    certified_low: float
    expected_cost: float
    per_task: PerTask
    features: str
    featurizer: Featurizer
    routers: dict[str, Router]
    strongest: int
    candidates: list[PolicyValue] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def probs(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Every router's probabilities for these prompts (features computed once)."""
        if not self.routers:
            return {}
        x = self.featurizer.transform(list(texts))
        return {name: r.predict(x) for name, r in self.routers.items()}


def per_task_model(data: RoutingData, bar: float, confidence: float) -> PerTask:
    """What ``select`` recommends on these outcomes; the most accurate model when none clears the bar."""
    table = OutcomesTable.from_arrays({m: data.correct[:, j].tolist() for j, m in enumerate(data.models)},
                                      {m: data.cost[:, j].tolist() for j, m in enumerate(data.models)})
    selection = select_from_outcomes(table, bar, confidence)
    if selection.recommended is not None:
        result = selection.result(selection.recommended)
        low = result.pass_bound if result.pass_bound is not None else result.ci_low
        return PerTask(data.column(selection.recommended), True, float(low if low is not None else 0.0))
    best = int(np.argmax(data.accuracy()))
    return PerTask(best, False, accuracy_lower_bound(data.correct[:, best], confidence))


def view_of(data: RoutingData, probs: dict[str, np.ndarray] | None = None) -> View:
    """A simulation view of routing data (answers keyed by model index)."""
    answers = {data.models.index(m): np.asarray(a, dtype=object) for m, a in data.answers.items()}
    return View(data.correct, data.cost, answers, probs or {})


def candidates(data: RoutingData, routers: Sequence[str], strong: Sequence[int]) -> list[PolicyValue]:
    """Every policy to try: singles, predictive and routed thresholds, agreement cascades of cheap models."""
    m = len(data.models)
    out: list[PolicyValue] = [Single(j) for j in range(m)]
    with_answers = [data.models.index(name) for name in data.answers]
    cheap = sorted(with_answers)[:6]
    for s in dict.fromkeys(strong):
        out += [Predictive(r, t, s) for r in routers for t in THRESHOLDS]
        for size in (2, 3):
            out += [Agreement(c, s) for c in itertools.combinations(cheap[: 6 if size == 2 else 5], size)
                    if s not in c]
        seconds = [c for c in cheap[:3] if c != s]
        out += [RoutedAgreement(r, t, c, s) for r in routers for t in THRESHOLDS for c in seconds]
    return out


def front(estimates: Sequence[tuple[float, float]], bar: float, ceiling: float) -> list[int]:
    """Indices on the cost-accuracy front with estimated accuracy >= bar and cost < ceiling, dearest first."""
    order = sorted(range(len(estimates)), key=lambda i: (estimates[i][1], -estimates[i][0]))
    kept: list[int] = []
    best = -1.0
    for i in order:
        acc, cost = estimates[i]
        if acc > best:
            best = acc
            if acc >= bar and cost < ceiling:
                kept.append(i)
    return kept[::-1]


Fits = tuple[Featurizer, dict[str, Router], dict[str, np.ndarray]]
"""The fitted featurizer, the fitted routers and their out-of-fold probabilities on the fitting items."""


def fit_routers(data: RoutingData, idx: np.ndarray, features: str = "tfidf",
                routers: Sequence[str] = ("logreg", "knn"), seed: int = 0) -> Fits:
    """Fit features and routers on the items ``idx``, with out-of-fold probabilities for choosing."""
    texts = [data.prompts[i] for i in idx]
    featurizer = FEATURES[features]()
    x = featurizer.fit_transform(texts)
    fitted = {r: ROUTERS[r]().fit(x, data.correct[idx]) for r in routers}
    oof = {r: out_of_fold(r, x, data.correct[idx], seed=seed) for r in routers}
    return featurizer, fitted, oof


@dataclass
class Shortlist:
    """Candidates chosen on the fitting items: the pool, and the indices to certify in order (dearest first)."""

    pool: list[PolicyValue]
    order: list[int]


def shortlist(data: RoutingData, fit_view: View, routers: Sequence[str], per_task: int, strongest: int,
              bar: float) -> Shortlist:
    """Simulate every candidate on the fitting items; keep the front that clears the bar below per-task cost."""
    pool, sims = simulate_all(candidates(data, list(routers), [per_task, strongest]), fit_view)
    ceiling = sims[per_task].mean_cost  # the pool starts with Single(j) for every model j
    return Shortlist(pool, front([(s.accuracy, s.mean_cost) for s in sims], bar, ceiling))


def simulate_all(pool: Sequence[PolicyValue], view: View) -> tuple[list[PolicyValue], list[Outcome]]:
    """The policies that can be simulated on ``view`` (a cascade needs its models' answers) and their outcomes."""
    kept: list[PolicyValue] = []
    outcomes: list[Outcome] = []
    for policy in pool:
        try:
            outcome = policy.simulate(view)
        except DataError:
            continue
        kept.append(policy)
        outcomes.append(outcome)
    return kept, outcomes


@dataclass
class Choice:
    """The policy kept after certification, its lower bound and cost on the calibration items."""

    policy: PolicyValue
    lower: float
    cost: float
    kept_per_task: bool
    tested: int
    certified: int


def certify_and_choose(short: Shortlist, cal_view: View, per_task: PerTask, bar: float, confidence: float,
                       min_saving: float = 0.05) -> Choice:
    """Fixed-sequence certification on the calibration items; the cheapest certified policy or the per-task one."""
    cal = [short.pool[i].simulate(cal_view) for i in short.order]
    certs = fixed_sequence([c.correct for c in cal], bar, confidence)
    passed = [(cal[c.index].mean_cost, c.index, c.lower) for c in certs if c.certified]
    per_task_cost = float(cal_view.cost[:, per_task.model].mean())
    if passed:
        best_cost, best_at, best_low = min(passed)
        if best_cost < (1.0 - min_saving) * per_task_cost:
            return Choice(short.pool[short.order[best_at]], best_low, best_cost, False, len(certs), len(passed))
    return Choice(Single(per_task.model), per_task.lower, per_task_cost, True, len(certs), len(passed))


def train(data: RoutingData, bar: float, confidence: float = 0.95, *, fit_share: float = 0.6, seed: int = 0,
          features: str = "tfidf", routers: Sequence[str] = ("logreg", "knn"), min_saving: float = 0.05,
          fits: Fits | None = None) -> Trained:
    """Learn and certify the cheapest policy whose accuracy clears ``bar`` with ``confidence``.

    Args:
        data: Recorded outcomes (at least 20 items).
        bar: Accuracy to clear, in (0, 1).
        confidence: Confidence of the certificate.
        fit_share: Share of the items used to fit and choose; the rest certifies.
        seed: Seed of the split and of the folds.
        features: Feature extractor name (``FEATURES``).
        routers: Predictive router names (``ROUTERS``).
        min_saving: A routed policy must cost at least this share less than the per-task model on the
            calibration items to replace it (a saving within the noise of the estimate is no saving).
        fits: Routers already fitted on this split's fitting items (they do not depend on the bar).

    Returns:
        The trained router; its ``policy`` is the per-task model's :class:`Single` when nothing cheaper holds.
    """
    if data.n < 20:
        raise DataError(f"routing needs at least 20 items with every model's outcome, got {data.n}")
    per_task = per_task_model(data, bar, confidence)
    strongest = int(np.argmax(data.accuracy()))
    fit_idx, cal_idx = split(data.n, fit_share, seed)
    featurizer, fitted, oof = fits if fits is not None else fit_routers(data, fit_idx, features, routers, seed)
    fit_data, cal_data = data.subset(fit_idx), data.subset(cal_idx)
    x_cal = featurizer.transform(cal_data.prompts)
    view_cal = view_of(cal_data, {r: f.predict(x_cal) for r, f in fitted.items()})
    short = shortlist(data, view_of(fit_data, oof), routers, per_task.model, strongest, bar)
    choice = certify_and_choose(short, view_cal, per_task, bar, confidence, min_saving)
    summary = {"items": data.n, "items_dropped": data.dropped, "fit_items": int(fit_idx.size),
               "calibration_items": int(cal_idx.size), "candidates": len(short.pool), "on_front": len(short.order),
               "tested": choice.tested, "certified": choice.certified, "kept_per_task_model": choice.kept_per_task,
               "per_task_clears_bar": per_task.clears_bar,
               "per_task_cost_on_calibration_usd": float(cal_data.cost[:, per_task.model].mean())}
    return Trained(data.models, bar, confidence, choice.policy, choice.lower, choice.cost, per_task, features,
                   featurizer, fitted, strongest, short.pool, summary)


def split(n: int, fit_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The fitting and calibration item indices (sorted) of a seeded random split."""
    perm = np.random.default_rng(seed).permutation(n)
    cut = int(round(fit_share * n))
    return np.sort(perm[:cut]), np.sort(perm[cut:])


__all__ = ["THRESHOLDS", "Choice", "Fits", "PerTask", "Shortlist", "Trained", "candidates", "certify_and_choose",
           "fit_routers", "front", "per_task_model", "shortlist", "simulate_all", "split", "train", "view_of"]
