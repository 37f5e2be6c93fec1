"""Adaptive selection: the cheapest model that clears the bar, for a fraction of the evaluation spend.

Method. Items are drawn in one seeded random order. Candidates are examined one after another by increasing
price; each is fed one item at a time (or a batch; the decision is the same, a batch only pays for the items
in flight when it stops) and left as soon as a sequential test settles it. Once a model passes, dearer models
are not examined (``full_report=True`` keeps examining every model). The test
(:class:`~satisfice.evals.sequences.FiniteSequentialTest`) is an anytime-valid test for sampling *without
replacement* from the model's N items (exact hypergeometric likelihood ratios for 0/1 scores, betting for
fractional ones): it predicts, early, the decision that the fixed-sample rule would reach on all N items, and
at the N-th item it is exact. A candidate is left as soon as the full data is known not to pass it: it cannot
be the cheapest passing model.

Guarantees (argued in :mod:`satisfice.evals.error_budget`): P(recommending a model whose true accuracy is below
the bar) <= 1 - confidence, by a union bound over candidates with the pass budget split evenly, the same
guarantee as exhaustive ``select`` and ``eval`` (for 0/1 scores each candidate's pass threshold is calibrated
exactly to its share, :mod:`satisfice.evals.calibration`); and, for any fixed table, the recommendation is
dearer than the exhaustive one (the same full-data rule on every item) with probability at most
2 * sequential_share * (1 - confidence) over the item order (0.02 at 95%). The cheapest passing model is
certified without any dearer model being run. A model left early is reported "fail" only when its
anytime-valid interval lies below the bar.

Missing outcomes: with the default policy (``"observed"``) an item a model has no outcome for is skipped for
that model (its N is its number of observed items; assumes outcomes are missing at random). With
``"conservative"`` a missing outcome counts as a failure towards pass and as a success towards fail, like an
error in a live run. Live runs feed :class:`AdaptiveSelector` through ``next_request`` / ``record``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from satisfice.evals.calibration import no_pass_level as calibrated_no_pass_level
from satisfice.evals.calibration import pass_level as calibrated_pass_level
from satisfice.evals.error_budget import (
    SEQUENTIAL_SHARE,
    Allocation,
    ErrorBudget,
    allocate,
    budgets,
    price_rank,
    target_cuts,
    target_decision,
)
from satisfice.evals.model_result import ModelResult
from satisfice.evals.outcomes import OutcomesTable
from satisfice.evals.recommendation import recommend
from satisfice.evals.select import MissingPolicy, Selection, evaluate_model
from satisfice.evals.sequences import FiniteSequentialTest, confidence_sequence
from satisfice.evals.stats import Decision


def side_levels(budget: ErrorBudget, n: int, bar: float, pass_cut: float | None, binary: bool, *,
                calibrate_no_pass: bool = True) -> tuple[float, float]:
    """Levels of one candidate's pass and no-pass sides: calibrated exactly for 0/1 scores, else the union bound."""
    if not binary or pass_cut is None or n < 1:
        return budget.sequential, budget.no_pass
    pass_level = calibrated_pass_level(n, bar, pass_cut, budget.pass_budget, budget.sequential)
    no_pass = calibrated_no_pass_level(n, pass_cut, budget.no_pass) if calibrate_no_pass else budget.no_pass
    return pass_level, no_pass


@dataclass
class _Run:
    """One candidate's progress: its item order, test, buffered results and spend."""

    model: str
    order: list[int]
    test: FiniteSequentialTest
    price: float | None
    binary: bool = True
    position: dict[int, int] = field(default_factory=dict)
    dispatched: int = 0
    buffer: dict[int, tuple[float, bool]] = field(default_factory=dict)
    recorded: set[int] = field(default_factory=set)
    fed: int = 0
    used_scores: list[float] = field(default_factory=list)
    errors: int = 0
    paid_items: int = 0
    spend: float = 0.0
    costed_items: int = 0

    def feed(self, scores: np.ndarray, errors: np.ndarray) -> int:
        used = self.test.consume(scores, errors)
        self.fed += used
        chosen, err = scores[:used], errors[:used]
        self.used_scores.extend(chosen[~err].tolist())
        self.errors += int(err.sum())
        return used


class AdaptiveSelector:
    """Drives adaptive selection item by item; usable live (runner) or over recorded outcomes.

    Live use: repeatedly ``next_request()`` -> ``(model, item)`` to evaluate (None: nothing to send until
    pending results are recorded, or :attr:`finished`), then ``record(model, item, score, cost)`` with
    ``score=None`` for an error (counted conservatively). Results may arrive in any order: they are
    consumed strictly in dispatch order, so which request finished first can never sway a decision.
    """

    def __init__(self, candidates: Sequence[str], n_items: int, bar: float, confidence: float = 0.95, *,
                 prices: Mapping[str, float | None] | None = None, seed: int = 0, full_report: bool = False,
                 binary: bool | Mapping[str, bool] = True, items: Mapping[str, Sequence[int]] | None = None,
                 sequential_share: float = SEQUENTIAL_SHARE, no_pass_grace: float = 0.0,
                 allocation: Allocation = "even") -> None:
        """Set up the selection.

        Args:
            candidates: Model ids.
            n_items: Number of items (indices 0 .. n_items - 1).
            bar: Accuracy to clear.
            confidence: 1 - overall probability of recommending a model truly below the bar.
            prices: Model -> expected USD per item (ordering; unknown or missing price: examined last).
            seed: Seed of the random item order.
            full_report: Keep examining dearer models after one passes.
            binary: Whether scores are 0/1 (exact rules; other scores are refused) or fractional
                (Hoeffding–Bentkus and betting), per model or for all.
            items: Model -> the items it may be evaluated on (default all); others are skipped.
            sequential_share: Share of each pass budget given to early stopping (see
                :mod:`satisfice.evals.error_budget`).
            no_pass_grace: Without ``full_report``, a model known not to pass on its full data is left after
                this many times its items so far (0: at once; its decision is then "fail" only if its
                anytime-valid interval shows it; more: a fail side also runs meanwhile).
            allocation: How the pass budget is split across candidates (see
                :func:`~satisfice.evals.error_budget.allocate`).
        """
        if not candidates:
            raise ValueError("adaptive selection needs at least one candidate")
        if len(set(candidates)) != len(candidates):
            raise ValueError("candidate ids must be unique")
        self.bar, self.confidence, self.full_report, self.n_items = bar, confidence, full_report, n_items
        self.order = [int(i) for i in np.random.default_rng(seed).permutation(n_items)]
        price_of = dict(prices or {})
        ranked = price_rank(price_of, list(candidates))
        self.budgets = budgets(candidates, confidence, prices=price_of, allocation=allocation,
                               sequential_share=sequential_share)
        self.runs: list[_Run] = []
        for model in ranked:
            allowed = set(items[model]) if items is not None and model in items else None
            order = [i for i in self.order if allowed is None or i in allowed]
            is_binary = binary if isinstance(binary, bool) else binary.get(model, True)
            b = self.budgets[model]
            cuts = target_cuts(len(order), bar, b.pass_target, b.fail_target, is_binary) if order else (None, None)
            pass_level, no_pass = side_levels(b, len(order), bar, cuts[0], is_binary, calibrate_no_pass=not full_report)
            # Cheapest-passing mode: pass and no-pass sides only (fail sides too while a grace period runs).
            fail_level = b.sequential if no_pass_grace > 0 else 0.0
            levels = ({"pass": pass_level} if full_report else
                      {"pass": pass_level, "no_pass": no_pass, "fail": fail_level, "no_fail": fail_level})
            test = FiniteSequentialTest(max(len(order), 1), pass_total=cuts[0], fail_total=cuts[1],
                                        delta=b.sequential, step=1.0 if is_binary else 0.0, levels=levels,
                                        no_pass_grace=None if full_report else no_pass_grace)
            if not order:
                test.decision = "undecided"
            run = _Run(model=model, order=order, test=test, price=price_of.get(model), binary=is_binary)
            run.position = {item: pos for pos, item in enumerate(order)}
            self.runs.append(run)
        self._by_model = {r.model: r for r in self.runs}

    def _active(self) -> _Run | None:
        for run in self.runs:
            if not run.test.done:
                return run
            if run.test.decision == "pass" and not self.full_report:
                return None
        return None

    @property
    def finished(self) -> bool:
        """True when no further item is needed."""
        return self._active() is None

    def current_model(self) -> str | None:
        """The model being examined now (None when finished)."""
        run = self._active()
        return run.model if run else None

    def next_request(self) -> tuple[str, int] | None:
        """The next (model, item index) to evaluate, or None when nothing more should be sent now."""
        run = self._active()
        if run is None or run.dispatched >= len(run.order):
            return None
        item = run.order[run.dispatched]
        run.dispatched += 1
        return run.model, item

    def record(self, model: str, item: int, score: float | None, cost: float | None = 0.0) -> None:
        """Record one result (``score=None``: an error). Its cost always counts; its score counts in order."""
        run = self._by_model[model]
        pos = run.position.get(item)
        if pos is None or pos >= run.dispatched or pos in run.recorded:
            raise ValueError(f"item {item} was not requested for {model} (or was recorded twice)")
        if score is not None and not (0.0 <= score <= 1.0):
            raise ValueError(f"score must lie in [0, 1], got {score!r}")
        if score is not None and run.binary and score not in (0.0, 1.0):
            raise ValueError(f"{model} is scored 0/1 (binary), got {score!r}")
        run.recorded.add(pos)
        run.paid_items += 1
        if cost is not None and math.isfinite(cost):
            run.spend += float(cost)
            run.costed_items += 1
        run.buffer[pos] = (math.nan if score is None else float(score), score is None)
        while not run.test.done and run.fed in run.buffer:
            value, err = run.buffer.pop(run.fed)
            run.feed(np.array([value]), np.array([err]))
        if run.test.done:
            run.buffer.clear()

    def feed_run(self, model: str, scores: np.ndarray, errors: np.ndarray, costs: np.ndarray) -> int:
        """Offline fast path: the model's remaining items in order, all at once; returns how many were used.

        Equivalent to recording them one by one: the test stops at the same item. Fed in growing chunks so
        that an early decision does not pay for computing the whole sequence.
        """
        run = self._by_model[model]
        start = run.fed
        x, err = np.asarray(scores, float), np.asarray(errors, bool)
        used, chunk = 0, 64
        while used < x.size and not run.test.done:
            used += run.feed(x[used:used + chunk], err[used:used + chunk])
            chunk *= 2
        paid = np.asarray(costs, float)[:used]
        run.dispatched = run.paid_items = start + used
        run.spend += float(np.nansum(paid))
        run.costed_items += int(np.isfinite(paid).sum())
        return used

    @property
    def eval_spend(self) -> float:
        """USD spent on the items evaluated so far."""
        return sum(r.spend for r in self.runs)

    def estimated_exhaustive_spend(self) -> float | None:
        """Every model on every item, from measured cost per item (else the price given); None if unknown."""
        total = 0.0
        for run in self.runs:
            per_item = run.spend / run.costed_items if run.costed_items else run.price
            if per_item is None:
                return None
            total += per_item * len(run.order)
        return total

    def results(self) -> list[ModelResult]:
        """Per model (in price order): decision, accuracy and anytime-valid interval on the items used."""
        out = []
        for run in self.runs:
            scores = np.asarray(run.used_scores, float)
            examined = run.fed > 0
            low, high = (confidence_sequence(scores, self.confidence, horizon=len(run.order))
                         if scores.size else (None, None))
            cost = run.price if run.price is not None else (run.spend / run.costed_items if run.costed_items else None)
            decision: Decision = "undecided"
            if run.test.decision == "pass":
                decision, status = "pass", "decided"
            elif run.test.decision == "fail":
                decision, status = "fail", "decided"
            elif not examined:
                status = "not examined"
            elif run.test.t >= run.test.n:
                status = "undecided: items ran out"
            elif "no_pass" in run.test.known and "no_fail" in run.test.known:
                status = "undecided: the full data would not decide it"
            else:
                status = "stopped: the full data would not pass it"
                # A fail may still be stated from the anytime-valid interval (errors counted as successes).
                upper = high if not run.errors else confidence_sequence(
                    np.concatenate([scores, np.ones(run.errors)]), self.confidence, horizon=len(run.order))[1]
                if upper is not None and upper < self.bar:
                    decision, status = "fail", "decided: anytime-valid upper bound below the bar"
            out.append(ModelResult(
                model=run.model, n=int(scores.size), n_missing=run.errors,
                accuracy=float(scores.mean()) if scores.size else None, ci_low=low, ci_high=high,
                cost_per_request=cost, decision=decision, items_used=run.paid_items, n_errors=run.errors,
                extras={"status": status, "eval_spend": run.spend}))
        return out

    def selection(self, exhaustive_spend: float | None = None) -> Selection:
        """The adaptive selection as a :class:`Selection` (extras: eval_spend, exhaustive_spend, method)."""
        models = self.results()
        spend = exhaustive_spend if exhaustive_spend is not None else self.estimated_exhaustive_spend()
        return Selection(threshold=self.bar, confidence=self.confidence, models=models,
                         recommended=recommend(models),
                         extras={"eval_spend": self.eval_spend, "exhaustive_spend": spend,
                                 "items": self.n_items,
                                 "pass_levels": {m: b.pass_target + b.sequential for m, b in self.budgets.items()}})


def select_adaptive(table: OutcomesTable, bar: float, confidence: float = 0.95, *, seed: int = 0,
                    full_report: bool = False, missing: MissingPolicy = "observed",
                    sequential_share: float = SEQUENTIAL_SHARE, allocation: Allocation = "even") -> Selection:
    """Adaptive selection over recorded outcomes; spends are exact (sums of the table's item costs).

    Args:
        table: Recorded outcomes.
        bar: Accuracy to clear.
        confidence: 1 - overall probability of recommending a model truly below the bar.
        seed: Seed of the item order.
        full_report: Examine every model, not only up to the first pass.
        missing: ``"observed"`` (skip missing items for that model) or ``"conservative"``.
        sequential_share: Share of each error budget given to early stopping.
        allocation: How the pass budget is split across candidates ("even" or "price").

    Returns:
        The selection; ``extras`` has ``eval_spend`` and ``exhaustive_spend`` (the cost of every observed
        outcome); each model has ``items_used`` and its ``extras`` have ``exhaustive_decision`` (the full-data rule
        of ``satisfice select`` with the same budget, which the test reproduces; also as ``target_decision``)
        and ``plain_decision`` (the uncorrected per-model rule, for comparison).
    """
    observed = {m: np.isfinite(table.scores[m]) for m in table.models}
    items = ({m: np.nonzero(observed[m])[0].tolist() for m in table.models} if missing == "observed" else None)
    binary = {m: bool(np.all(np.isin(table.scores[m][observed[m]], (0.0, 1.0)))) for m in table.models}
    selector = AdaptiveSelector(table.models, table.n_items, bar, confidence, seed=seed, full_report=full_report,
                                prices={m: table.cost_per_item(m) for m in table.models}, binary=binary,
                                items=items, sequential_share=sequential_share, allocation=allocation)
    while (model := selector.current_model()) is not None:
        run = selector._by_model[model]
        order = np.asarray(run.order[run.fed:], dtype=int)
        scores = table.scores[model][order]
        cost_column = table.costs[model]
        costs = cost_column[order] if cost_column is not None else np.zeros(order.size)
        selector.feed_run(model, np.nan_to_num(scores, nan=0.0), ~np.isfinite(scores), costs)
    exhaustive = 0.0
    for m in table.models:
        c = table.costs[m]
        if c is not None:
            exhaustive += float(np.nansum(np.where(observed[m] | (missing == "conservative"), c, np.nan)))
    result = selector.selection(exhaustive_spend=exhaustive)
    plain = {r.model: r.decision for r in (evaluate_model(m, table.scores[m], bar=bar, confidence=confidence,
                                                          missing=missing) for m in table.models)}
    for r in result.models:
        s = table.scores[r.model]
        seen = observed[r.model]
        missing_count = int((~seen).sum())
        r.n_missing = missing_count
        if missing == "observed":
            target = target_decision(float(s[seen].sum()), int(seen.sum()), bar, selector.budgets[r.model],
                                     binary[r.model])
        else:
            target = target_decision(float(s[seen].sum()), s.size, bar, selector.budgets[r.model], binary[r.model],
                                     errors=missing_count)
        r.extras["target_decision"] = r.extras["exhaustive_decision"] = target
        r.extras["plain_decision"] = plain[r.model]
    return result


__all__ = ["AdaptiveSelector", "Allocation", "ErrorBudget", "allocate", "budgets", "select_adaptive", "side_levels",
           "target_cuts", "target_decision"]
