"""What the production loop needs from the gateway and from one admitted request, as protocols.

The loop's modules (feedback, outcomes, experiments) are called by the gateway's app and request path; typing
them against these protocols rather than the app's classes keeps them out of the app's import circle.
"""

from __future__ import annotations

from typing import Any, Protocol

from satisfice.gateway.loop.shadow import ShadowRunner
from satisfice.gateway.money.keys import KeyCache, KeyInfo
from satisfice.gateway.money.spendlog import SpendLog
from satisfice.gateway.observability.metrics import GatewayMetrics
from satisfice.gateway.routes.cascade import Attempts
from satisfice.gateway.routes.config import GatewayConfig
from satisfice.gateway.routes.plan import Plan
from satisfice.gateway.routes.router import Router
from satisfice.gateway.wire.bodies import BodyReader
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

    async def key_of(self, credential: str | None) -> KeyInfo | None:
        """The active key a client presented; a key created since the last reload is found at once."""
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
