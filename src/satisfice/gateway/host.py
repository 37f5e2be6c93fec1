"""What the production loop needs from the gateway and from one admitted request, as protocols.

The loop's modules (feedback, outcomes, experiments) are called by the gateway's app and request path; typing
them against these protocols rather than the app's classes keeps them out of the app's import circle.
"""

from __future__ import annotations

from typing import Any, Protocol

from satisfice.gateway.bodies import BodyReader
from satisfice.gateway.cascade import Attempts
from satisfice.gateway.config import GatewayConfig
from satisfice.gateway.keys import KeyCache, KeyInfo
from satisfice.gateway.metrics import GatewayMetrics
from satisfice.gateway.plan import Plan
from satisfice.gateway.routing import Router
from satisfice.gateway.shadow import ShadowRunner
from satisfice.gateway.spendlog import SpendLog
from satisfice.store import Store


class Host(Protocol):
    """The parts of a running gateway the production loop uses."""

    config: GatewayConfig
    store: Store
    keys: KeyCache
    bodies: BodyReader
    spend_log: SpendLog
    metrics: GatewayMetrics
    shadow: ShadowRunner
    router: Router

    def secrets(self) -> tuple[str, ...]:
        """Provider keys to mask."""
        ...


class AdmittedRequest(Protocol):
    """One admitted request as the loop's hooks see it."""

    plan: Plan
    att: Attempts
    key: KeyInfo | None
    request_id: str
    endpoint: str
    payload: dict[str, Any]
    input_estimate: int


__all__ = ["AdmittedRequest", "Host"]
