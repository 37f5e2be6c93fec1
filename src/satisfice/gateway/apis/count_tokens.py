"""``POST /v1/messages/count_tokens`` (Anthropic): how many input tokens a Messages request would use.

The same key check as ``/v1/messages`` (``x-api-key`` or ``Authorization: Bearer``; 401 in Anthropic's shape),
the same body limits, then the model's plan: when an upstream of its first model declares ``messages`` in its
``apis``, the request goes there (``<base_url>/messages/count_tokens``) and its answer comes back as is;
otherwise, or when that upstream fails, the gateway counts locally (:mod:`satisfice.gateway.apis.token_count`). The
``x-satisfice-token-count`` header says which (``upstream <name>`` or ``local o200k_base``).

Counting generates no tokens and Anthropic does not bill it, so it reserves nothing, is allowed to a key whose
budget is spent, and writes no spend row; at most :data:`LOCAL_AT_ONCE` local counts run at once (in threads,
so a long prompt does not hold the event loop).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response

from satisfice.clients.http import HttpTransport
from satisfice.errors import ProviderError
from satisfice.gateway.apis.calls import native_body, native_headers
from satisfice.gateway.apis.client_apis import APIS, MESSAGES, ApiRequest, forwarded
from satisfice.gateway.apis.token_count import ENCODING, check_count, count_messages
from satisfice.gateway.money.keys import KeyInfo, presented
from satisfice.gateway.observability.metrics import GatewayMetrics
from satisfice.gateway.routes.config import GatewayConfig
from satisfice.gateway.routes.plan import Plan
from satisfice.gateway.routes.router import Router
from satisfice.gateway.wire.bodies import BodyReader
from satisfice.gateway.wire.replies import GatewayError, echo
from satisfice.gateway.wire.upstream import checked_post
from satisfice.gateway.wire.validate import parse_body

log = logging.getLogger("satisfice.gateway")
LOCAL_AT_ONCE = 2
"""Local counts running at the same time (each is CPU work; the rest wait their turn)."""
HEADER = "x-satisfice-token-count"


class CountHost(Protocol):
    """The parts of the gateway a count needs."""

    config: GatewayConfig
    bodies: BodyReader
    metrics: GatewayMetrics
    router: Router
    transport: HttpTransport

    async def key_of(self, credential: str | None) -> KeyInfo | None:
        """The active key a client presented."""
        ...


class TokenCounter:
    """Answers ``/v1/messages/count_tokens`` for one gateway (see the module)."""

    def __init__(self, gw: CountHost, unauthorized: Callable[..., GatewayError]) -> None:
        self.gw = gw
        self.unauthorized = unauthorized
        self.local = asyncio.Semaphore(LOCAL_AT_ONCE)

    async def handle(self, request: Request) -> Response:
        """``POST /v1/messages/count_tokens``."""
        api = APIS["/v1/messages"]
        gw = self.gw
        try:
            if gw.config.auth and await gw.key_of(presented(request.headers.get("authorization"),
                                                            request.headers.get("x-api-key"))) is None:
                raise self.unauthorized(close=True)  # the body is not read: the connection cannot be reused
            length = request.headers.get("content-length")
            payload = parse_body(await gw.bodies.read(request.receive,
                                                      length.encode("latin-1") if length is not None else None))
            plan = gw.router.choose(payload)
            if plan is None:
                raise GatewayError(404, f"the model {echo(payload['model'])} does not exist: it is neither a "
                                   "configured route (task/<name>) nor a served model", param="model",
                                   code="model_not_found")
            check_count(payload)
            upstream_answer = await self._upstream(plan, payload, request.headers.raw)
            if upstream_answer is not None:
                return upstream_answer
            async with self.local:
                tokens = await asyncio.to_thread(count_messages, payload)
        except GatewayError as exc:
            gw.metrics.rejection(exc.reason)
            return api.error(exc)
        return Response(orjson.dumps({"input_tokens": tokens}), media_type="application/json",
                        headers={HEADER: f"local {ENCODING}"})

    async def _upstream(self, plan: Plan, payload: dict[str, Any],
                        headers: list[tuple[bytes, bytes]]) -> Response | None:
        """The count of the first upstream of the plan's first model that serves Messages; None: count here."""
        if not plan.targets:
            return None
        target = plan.targets[0]
        for upstream in target.upstreams:
            if MESSAGES not in upstream.apis:
                continue
            request = ApiRequest(APIS["/v1/messages"], payload, forward=forwarded(MESSAGES, headers))
            try:
                body = await checked_post(self.gw.transport, upstream, f"{upstream.base_url}/messages/count_tokens",
                                          native_body(payload, upstream.wire_name(target.model), stream=False),
                                          native_headers(upstream, request))
                answer = orjson.loads(body)
            except (ProviderError, orjson.JSONDecodeError) as exc:
                log.warning("gateway: count_tokens at %s failed, counting locally: %s", upstream.name,
                            str(exc)[:200])
                return None
            if not isinstance(answer, dict) or type(answer.get("input_tokens")) is not int:
                log.warning("gateway: count_tokens at %s gave no input_tokens, counting locally", upstream.name)
                return None
            return Response(body, media_type="application/json", headers={HEADER: f"upstream {upstream.name}"})
        return None


__all__ = ["HEADER", "LOCAL_AT_ONCE", "CountHost", "TokenCounter"]
