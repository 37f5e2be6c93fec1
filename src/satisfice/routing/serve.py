"""One request at serving time: the models to ask, in order, and whether their answers must agree.

:func:`decide` computes the prompt's features once (only when the policy needs a router) and turns the trained
policy into a :class:`Decision`. The gateway maps it onto its plans; routing knows nothing of HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from satisfice.routing.policies import Agreement, Predictive, RoutedAgreement, Single, first_clearing
from satisfice.routing.train import Trained


@dataclass(frozen=True, slots=True)
class Decision:
    """Models to ask in order; with ``agreement`` every model but the last must agree, else the last answers.

    ``branch`` says which part of the policy decided: ``single``, ``routed`` (a predictive choice), ``cascade``
    (an agreement check, escalating to the last model).
    """

    models: tuple[str, ...]
    agreement: bool
    branch: str


def decide(trained: Trained, prompt: str) -> Decision:
    """The decision of the trained policy for one prompt."""
    policy, names = trained.policy, trained.models
    if isinstance(policy, Single):
        return Decision((names[policy.model],), False, "single")
    if isinstance(policy, Agreement):
        return Decision(tuple(names[c] for c in policy.cheap) + (names[policy.strong],), True, "cascade")
    probs = trained.routers[policy.router].predict(trained.featurizer.transform([prompt]))
    if isinstance(policy, Predictive):
        return Decision((names[int(policy.choose(probs)[0])],), False, "routed")
    assert isinstance(policy, RoutedAgreement)
    first = int(first_clearing(probs, policy.threshold, policy.strong)[0])
    if first in (policy.strong, policy.second):
        return Decision((names[first],), False, "routed")
    return Decision((names[first], names[policy.second], names[policy.strong]), True, "cascade")


__all__ = ["Decision", "decide"]
