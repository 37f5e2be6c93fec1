"""Routing policies as values: what each one does per item, and what it scores and costs on recorded outcomes.

Kinds (registry ``KINDS``): ``single`` (one model for every request), ``predictive`` (the cheapest model whose
predicted P(correct) clears a threshold, else the fallback model), ``agreement`` (ask two or more cheap models;
when their normalised answers agree return the first, else ask the strong model) and ``routed_agreement`` (a
predictive choice; when it names a cheap model, that model and a second cheap one must agree, else the
strong one is asked). Every call a policy makes is charged: a cascade pays its cheap models on every item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from satisfice.errors import DataError


@dataclass
class View:
    """What a policy is simulated on: outcomes, normalised answers (per model index) and router probabilities."""

    correct: np.ndarray
    cost: np.ndarray
    answers: dict[int, np.ndarray] = field(default_factory=dict)
    probs: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Items."""
        return int(self.correct.shape[0])


@dataclass
class Outcome:
    """Per item: score of the returned answer, USD paid for every call, index of the model that answered."""

    correct: np.ndarray
    cost: np.ndarray
    served: np.ndarray

    @property
    def accuracy(self) -> float:
        """Mean score."""
        return float(self.correct.mean()) if self.correct.size else 0.0

    @property
    def mean_cost(self) -> float:
        """Mean USD per request."""
        return float(self.cost.mean()) if self.cost.size else 0.0


def first_clearing(probs: np.ndarray, threshold: float, fallback: int) -> np.ndarray:
    """Per row, the first (cheapest) column whose probability clears ``threshold``, else ``fallback``."""
    ok = probs >= threshold
    return np.where(ok.any(axis=1), ok.argmax(axis=1), fallback)


def _pick(matrix: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return np.asarray(matrix[np.arange(matrix.shape[0]), cols])


def _agree(view: View, cheap: tuple[int, ...]) -> np.ndarray:
    missing = [c for c in cheap if c not in view.answers]
    if missing:
        raise DataError("an agreement cascade needs every cheap model's answers ('<model>|model_response')")
    first = view.answers[cheap[0]]
    agree = np.ones(view.n, dtype=bool)
    for c in cheap[1:]:
        agree &= view.answers[c] == first
    return agree


@dataclass(frozen=True)
class Single:
    """One model answers every request."""

    model: int
    kind: str = "single"

    def simulate(self, view: View) -> Outcome:
        """Its scores and costs."""
        return Outcome(view.correct[:, self.model], view.cost[:, self.model], np.full(view.n, self.model))

    def label(self, models: list[str]) -> str:
        """Human name."""
        return models[self.model]


@dataclass(frozen=True)
class Predictive:
    """The cheapest model whose predicted P(correct) is at least ``threshold``; else ``fallback``."""

    router: str
    threshold: float
    fallback: int
    kind: str = "predictive"

    def choose(self, probs: np.ndarray) -> np.ndarray:
        """Model index per row of probabilities."""
        return first_clearing(probs, self.threshold, self.fallback)

    def simulate(self, view: View) -> Outcome:
        """Scores and costs of the chosen models."""
        served = self.choose(view.probs[self.router])
        return Outcome(_pick(view.correct, served), _pick(view.cost, served), served)

    def label(self, models: list[str]) -> str:
        """Human name."""
        return f"{self.router} router, P(correct) >= {self.threshold:.2f}, else {models[self.fallback]}"


@dataclass(frozen=True)
class Agreement:
    """Ask every ``cheap`` model; when their answers agree return the first's, else ask ``strong``."""

    cheap: tuple[int, ...]
    strong: int
    kind: str = "agreement"

    def simulate(self, view: View) -> Outcome:
        """Scores and costs, every cheap call charged on every item."""
        agree = _agree(view, self.cheap)
        paid = view.cost[:, list(self.cheap)].sum(axis=1) + np.where(agree, 0.0, view.cost[:, self.strong])
        served = np.where(agree, self.cheap[0], self.strong)
        return Outcome(_pick(view.correct, served), paid, served)

    def label(self, models: list[str]) -> str:
        """Human name."""
        return f"cascade: {' + '.join(models[c] for c in self.cheap)} agree, else {models[self.strong]}"


@dataclass(frozen=True)
class RoutedAgreement:
    """A predictive choice; a cheap choice is checked against ``second`` and escalated to ``strong`` on disagreement.

    When the router already picks ``strong`` (or ``second``) that model answers alone.
    """

    router: str
    threshold: float
    second: int
    strong: int
    kind: str = "routed_agreement"

    def simulate(self, view: View) -> Outcome:
        """Scores and costs with every call charged."""
        first = first_clearing(view.probs[self.router], self.threshold, self.strong)
        alone = (first == self.strong) | (first == self.second)
        if self.second not in view.answers or any(int(m) not in view.answers for m in np.unique(first[~alone])):
            raise DataError("a routed cascade needs the answers of the models it checks ('<model>|model_response')")
        answers = np.stack([view.answers.get(j, np.full(view.n, "")) for j in range(view.correct.shape[1])], axis=1)
        agree = alone | (_pick(answers, first) == view.answers[self.second])
        served = np.where(agree, first, self.strong)
        paid = _pick(view.cost, first) + np.where(alone, 0.0, view.cost[:, self.second])
        paid = paid + np.where(agree, 0.0, view.cost[:, self.strong])
        return Outcome(_pick(view.correct, served), paid, served)

    def label(self, models: list[str]) -> str:
        """Human name."""
        return (f"{self.router} router at {self.threshold:.2f}, checked against {models[self.second]}, "
                f"else {models[self.strong]}")


PolicyValue = Single | Predictive | Agreement | RoutedAgreement
KINDS: dict[str, Callable[..., PolicyValue]] = {"single": Single, "predictive": Predictive, "agreement": Agreement,
                                                "routed_agreement": RoutedAgreement}
"""Policy kinds by name (what a manifest's ``policy.kind`` may say)."""


def to_json(policy: PolicyValue, models: list[str]) -> dict[str, Any]:
    """The policy with model names instead of indices (what the manifest stores)."""
    doc = asdict(policy)
    for key in ("model", "fallback", "strong", "second"):
        if key in doc:
            doc[key] = models[doc[key]]
    if "cheap" in doc:
        doc["cheap"] = [models[c] for c in doc["cheap"]]
    return doc


def from_json(doc: dict[str, Any], models: list[str]) -> PolicyValue:
    """Inverse of :func:`to_json` (DataError on an unknown kind or model)."""
    fields = dict(doc)
    kind = str(fields.get("kind"))
    if kind not in KINDS:
        raise DataError(f"unknown policy kind {kind!r} (known: {', '.join(KINDS)})")

    def index(name: Any) -> int:
        if name not in models:
            raise DataError(f"policy names model {name!r}, which the router was not trained on")
        return models.index(name)

    for key in ("model", "fallback", "strong", "second"):
        if key in fields:
            fields[key] = index(fields[key])
    if "cheap" in fields:
        fields["cheap"] = tuple(index(c) for c in fields["cheap"])
    try:
        return KINDS[kind](**fields)
    except TypeError as exc:
        raise DataError(f"policy {kind!r}: {exc}") from None


__all__ = ["KINDS", "Agreement", "Outcome", "PolicyValue", "Predictive", "RoutedAgreement", "Single", "View",
           "first_clearing", "from_json", "to_json"]
