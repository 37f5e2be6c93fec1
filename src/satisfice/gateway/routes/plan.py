"""Plans: what serves one ``model`` name, as the router resolved it (models in order, each with its upstreams).

A :class:`Plan` is built once when the router is built (prices resolved, verifiers compiled) and read by every
request: its targets in fallback order, its verifiers, its reference model and its shadow checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from satisfice.core import Price, Usage
from satisfice.gateway.routes.verifier_registry import Verifier
from satisfice.gateway.wire.upstream import Upstream


@dataclass(frozen=True, slots=True)
class Target:
    """One model of a plan and the upstreams that serve it (in fallback order), with their prices."""

    model: str
    upstreams: tuple[Upstream, ...]
    prices: tuple[Price, ...]
    worst: Price = field(init=False)
    """The dearest of its upstreams' prices (for reservations and reference costs)."""
    labels: tuple[str, ...] = field(init=False)
    """``model@upstream`` for each upstream (what the spend log's ``models_tried`` lists)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "worst", Price(max(p.input_per_m for p in self.prices),
                                                max(p.output_per_m for p in self.prices)))
        object.__setattr__(self, "labels", tuple(f"{self.model}@{u.name}" for u in self.upstreams))


@dataclass(frozen=True, slots=True)
class ShadowPlan:
    """Shadow checks of a route: share of traffic, the reference, its bar and how agreement is scored."""

    share: float
    reference: Target
    threshold: float
    compare: str
    scorer: Any = None


@dataclass(frozen=True, slots=True)
class Plan:
    """What serves one ``model`` name."""

    name: str
    is_route: bool
    targets: tuple[Target, ...]
    verifiers: tuple[Verifier, ...] = ()
    on_exhausted: str = "error"
    reference: Target | None = None
    shadow: ShadowPlan | None = None
    in_per_m: float = 0.0
    out_per_m: float = 0.0

    def worst_cost(self, input_tokens: int, output_tokens: int) -> float:
        """Most this request can cost: with verifiers every model may answer (sum), else only one does (max)."""
        return (input_tokens * self.in_per_m + output_tokens * self.out_per_m) / 1_000_000

    def reference_cost(self, usage: Usage) -> float | None:
        """What the reference model would have charged for the same tokens."""
        return self.reference.worst.cost(usage) if self.reference is not None else None


def make_plan(name: str, is_route: bool, targets: list[Target], verifiers: tuple[Verifier, ...] = (),
              **kwargs: Any) -> Plan:
    """A plan whose per-token prices bound what a request may cost (see :meth:`Plan.worst_cost`)."""
    worst = [t.worst for t in targets]
    if verifiers:  # a cascade may pay every model it asks
        in_per_m, out_per_m = sum(p.input_per_m for p in worst), sum(p.output_per_m for p in worst)
    else:  # failed attempts are not billed; one model answers
        in_per_m, out_per_m = max(p.input_per_m for p in worst), max(p.output_per_m for p in worst)
    return Plan(name, is_route, tuple(targets), verifiers, in_per_m=in_per_m, out_per_m=out_per_m, **kwargs)


def replan(base: Plan, targets: Sequence[Target]) -> Plan:
    """``base`` with other models in order (same route, verifiers, reference and shadow checks)."""
    return make_plan(base.name, base.is_route, list(targets), base.verifiers, on_exhausted=base.on_exhausted,
                     reference=base.reference, shadow=base.shadow)


__all__ = ["Plan", "ShadowPlan", "Target", "make_plan", "replan"]
