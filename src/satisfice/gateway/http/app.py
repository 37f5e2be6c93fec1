"""The gateway's ASGI app (Starlette): the request path from body to answer, and the lifespan around it.

Request path, in order: check the key from the headers (in-memory cache of hashes) before a byte of the body is
read; refuse with 503 while the journal cannot be written (disk full, read-only: nothing is spent that could not
be recorded); read the body (bounded by ``limits.max_body_bytes``, by ``limits.body_timeout_s`` and, for all connections
together, by ``limits.max_body_bytes_in_flight``); parse and check the body (nesting and sizes), pick the plan for
``model``, reserve the worst-case cost against the key's budget, serve (cascade / fallbacks / relay), settle the
reservation, queue one spend row, count metrics, maybe start a shadow check. Rejections before the reservation
(bad body, bad key, unknown model, over budget) write no spend row; they are counted in
``satisfice_gateway_rejections``. Every admitted request writes exactly one row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from satisfice.clients.http import HttpTransport
from satisfice.errors import ConfigError
from satisfice.gateway.apis.client_apis import APIS, Api, ApiRequest, model_answer, prepare
from satisfice.gateway.apis.count_tokens import TokenCounter
from satisfice.gateway.apis.relay import RelayResponse
from satisfice.gateway.http.admission import reserve
from satisfice.gateway.http.admitted import Admitted, Services, unwritable
from satisfice.gateway.http.rejections import INTERNAL, http_error, internal_error, unauthorized
from satisfice.gateway.loop.production import ProductionLoop
from satisfice.gateway.loop.shadow import ShadowRunner
from satisfice.gateway.money.books import Books
from satisfice.gateway.money.budgets import Reservation
from satisfice.gateway.money.keys import KEY_PREFIX, KeyCache, KeyInfo, OnMiss, keys_version, load_active, presented
from satisfice.gateway.observability.metrics import GatewayMetrics
from satisfice.gateway.routes.cascade import Executor
from satisfice.gateway.routes.config import GatewayConfig
from satisfice.gateway.routes.router import Router, build_router, catalog_prices
from satisfice.gateway.wire.bodies import BodyReader
from satisfice.gateway.wire.replies import GatewayError, echo
from satisfice.gateway.wire.upstream import CHAT, COMPLETIONS
from satisfice.gateway.wire.validate import input_estimate, output_cap, parse_body, parse_payload
from satisfice.masking import install_log_masking
from satisfice.store import Store

log = logging.getLogger("satisfice.gateway")
_JSON = "application/json"
_FAST_PATHS = {"/v1/chat/completions": CHAT, "/chat/completions": CHAT, "/v1/completions": COMPLETIONS,
               "/completions": COMPLETIONS}
"""POST endpoints served without Starlette's routing and middleware (same handler, same error handling)."""


class Gateway:
    """One configured gateway: routes, keys, budgets, spend log, metrics, shadow checks, and its ASGI app."""

    def __init__(self, config: GatewayConfig, store: Store, *, transport: HttpTransport | None = None,
                 router: Router | None = None, rng: Callable[[], float] = random.random) -> None:
        self.config = config
        self.store = store
        install_log_masking("satisfice.gateway", "uvicorn.error")  # keys never reach a log line or traceback
        self.metrics = GatewayMetrics()
        self.transport = transport or HttpTransport(
            timeout_s=60.0, max_connections=config.limits.max_connections_per_upstream)
        self._prices = catalog_prices(store)
        self._eval_tasks = sorted({r.from_eval for r in config.routes.values() if r.from_eval}) if router is None \
            else []
        self._decisions_seen: dict[str, Any] = {}
        if router is None:
            router, self._decisions_seen = self._build_router()
        self.router = router
        self.keys = KeyCache()
        self.books = Books(config.ledger, config.spend_log, store)
        self.ledger, self.spend_log = self.books.ledger, self.books.spend_log
        self._journal = self.spend_log.journal
        self._keys_version: str | None = None
        self._key_miss = OnMiss(self.poll_keys, config.ledger.key_poll_s)
        self.executor = Executor(self.transport, config.limits, self.metrics)
        self.shadow = ShadowRunner(self.executor, self.spend_log, self.metrics,
                                   max_in_flight=config.shadow_max_in_flight, rng=rng)
        self._refreshers: list[asyncio.Task[None]] = []
        self.loop = ProductionLoop(self, unauthorized)
        self.services = Services(self.books, self.executor, self.metrics, self.loop, self.secrets)
        self.counter = TokenCounter(self, unauthorized)
        self.bodies = BodyReader(config.limits.max_body_bytes, config.limits.body_timeout_s,
                                 config.limits.max_body_bytes_in_flight)
        self._default_cap = config.limits.default_max_tokens
        self.metrics.gauge("satisfice_gateway_spend_rows_pending", "Spend and shadow rows not yet written",
                           lambda: float(self.spend_log.pending))
        self.metrics.gauge("satisfice_gateway_shadow_in_flight", "Shadow checks running",
                           lambda: float(len(self.shadow.tasks)))
        self.metrics.gauge("satisfice_gateway_journal_records_quarantined", "Journal records of stopped instances "
                           "found invalid at replay by this instance (never credited)",
                           lambda: float(self.spend_log.quarantined))
        self.metrics.gauge("satisfice_gateway_journal_records_lost", "Journal lines of stopped instances found "
                           "missing at replay by this instance (gaps, deleted or truncated journals)",
                           lambda: float(self.spend_log.lost))
        self.metrics.gauge("satisfice_gateway_journal_unwritable", "1 while the journal cannot be written "
                           "(new requests are refused with 503)",
                           lambda: float(self.journal_fault() is not None))
        self.starlette = self._build_app()
        self.app = _App(self)

    # --- lifecycle ------------------------------------------------------------------------------------------

    def _load_keys(self) -> tuple[str, bytes | None, dict[str, KeyInfo]]:
        version = keys_version(self.store)
        return (version, *load_active(self.store))

    async def refresh_keys(self) -> None:
        """Reload active keys from the store; leases of revoked keys or changed budgets are given back."""
        if not self.config.auth:
            return
        version, salt, keys = await asyncio.to_thread(self._load_keys)
        before = {k.id: k for k in self.keys.keys()}
        self.keys.replace(salt, keys)
        self._keys_version = version
        await self.ledger.keys_changed(before, {k.id: k for k in keys.values()})

    async def poll_keys(self) -> None:
        """Reload the keys when their version in the store moved (a one-row read)."""
        if await asyncio.to_thread(keys_version, self.store) != self._keys_version:
            await self.refresh_keys()

    def _decision_marks(self) -> dict[str, Any]:
        from satisfice.evals.decisions import latest_decision

        return {task: _mark(latest_decision(self.store, task)) for task in self._eval_tasks}

    def _build_router(self) -> tuple[Router, dict[str, Any]]:
        """Resolve every route; also the marks of the eval decisions it was resolved from."""
        from satisfice.evals.decisions import StoredDecision, latest_decision

        marks: dict[str, Any] = {}

        def decisions(task: str) -> StoredDecision | None:
            decision = latest_decision(self.store, task)
            marks[task] = _mark(decision)
            return decision

        return build_router(self.config, prices=self._prices, decisions=decisions,
                            observe=self.metrics.policy_branch), marks

    def _rebuild_router(self) -> Router | None:
        if self._decision_marks() == self._decisions_seen:
            return None
        router, self._decisions_seen = self._build_router()
        return router

    async def refresh_routes(self) -> bool:
        """Re-resolve ``from_eval`` routes when a newer eval decision is stored; True when the routes changed.

        A decision that cannot be served (say, a model with no price) leaves the current routes in place and is
        logged; requests already admitted finish on the plan they started with.
        """
        if not self._eval_tasks:
            return False
        try:
            router = await asyncio.to_thread(self._rebuild_router)
        except ConfigError as exc:
            log.error("gateway: a newer eval decision cannot be served, keeping the current routes: %s", exc)
            return False
        if router is None:
            return False
        self.router = router
        log.warning("gateway: routes re-resolved from newer eval decisions (%s)", ", ".join(self._eval_tasks))
        return True

    async def _every(self, interval_s: float, action: Callable[[], Awaitable[Any]], what: str) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await action()
            except Exception:  # keep what we have; the next round tries again
                log.exception("gateway: %s failed", what)

    async def start(self) -> None:
        """Load keys and start the background writer and the key and route refreshers."""
        await self.books.start()
        await self.refresh_keys()
        await self.loop.start()
        loop = asyncio.get_running_loop()
        self._refreshers.append(loop.create_task(self.bodies.sweep_forever()))
        self._refreshers.append(loop.create_task(self.executor.stalls.run()))
        if self.config.auth:
            self._refreshers.append(loop.create_task(self._every(self.config.key_refresh_s, self.refresh_keys,
                                                                 "reloading keys")))
            self._refreshers.append(loop.create_task(self._every(self.config.ledger.key_poll_s, self.poll_keys,
                                                                 "polling keys")))
        if self._eval_tasks and self.config.routes_refresh_s > 0:
            self._refreshers.append(loop.create_task(self._every(self.config.routes_refresh_s, self.refresh_routes,
                                                                 "re-resolving from_eval routes")))

    async def stop(self) -> None:
        """Finish shadow checks (briefly), write every queued row, close upstream connections."""
        for task in self._refreshers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._refreshers = []
        await self.shadow.drain(5.0)
        await self.loop.stop()
        await self.books.stop()
        await self.transport.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Gateway]:
        """``async with gateway.running():`` start, yield, stop (what the server's lifespan does)."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI app: completions go straight to the request path, everything else through Starlette."""
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            endpoint = _FAST_PATHS.get(scope["path"])
            api = None
            if endpoint is None and (api := APIS.get(scope["path"])) is not None:
                endpoint = api.name
            if endpoint is not None:
                try:
                    response = await self._complete(scope, receive, endpoint, api)
                except Exception:  # what Starlette's handler for Exception answers, plus the traceback in the log
                    log.exception("gateway: internal error on %s", scope["path"])
                    response = await internal_error(None, None) if api is None else api.error(INTERNAL)
                await response(scope, receive, send)
                return
        await self.starlette(scope, receive, send)

    def _build_app(self) -> Starlette:
        routes = []
        for prefix in ("/v1", ""):
            routes += [Route(f"{prefix}/chat/completions", self.chat, methods=["POST"]),
                       Route(f"{prefix}/completions", self.completions, methods=["POST"]),
                       Route(f"{prefix}/models", self.models, methods=["GET"]),
                       Route(f"{prefix}/models/{{model_id:path}}", self.model, methods=["GET"]),
                       Route(f"{prefix}/feedback", self.loop.feedback.handle, methods=["POST"]),
                       Route(f"{prefix}/messages/count_tokens", self.counter.handle, methods=["POST"])]
        for path, api in APIS.items():
            routes.append(Route(path, self._api_endpoint(api), methods=["POST"]))
        routes += [Route("/healthz", self.healthz, methods=["GET"]),
                   Route("/metrics", self.metrics_endpoint, methods=["GET"])]

        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            async with self.running():
                yield

        return Starlette(routes=routes, lifespan=lifespan,
                         exception_handlers={HTTPException: http_error, Exception: internal_error})

    # --- endpoints ------------------------------------------------------------------------------------------

    async def chat(self, request: Request) -> Response | RelayResponse:
        """``POST /v1/chat/completions``."""
        return await self._complete(request.scope, request.receive, CHAT)

    async def completions(self, request: Request) -> Response | RelayResponse:
        """``POST /v1/completions``."""
        return await self._complete(request.scope, request.receive, COMPLETIONS)

    def _api_endpoint(self, api: Api) -> Callable[[Request], Awaitable[Response | RelayResponse]]:
        async def endpoint(request: Request) -> Response | RelayResponse:
            return await self._complete(request.scope, request.receive, api.name, api)

        return endpoint

    async def _authorized(self, request: Request) -> bool:
        if not self.config.auth:
            return True
        return await self.key_of(presented(request.headers.get("authorization"),
                                           request.headers.get("x-api-key"))) is not None

    async def model(self, request: Request) -> Response:
        """``GET /v1/models/{id}``: one route or model (Anthropic's shape when ``anthropic-version`` is sent)."""
        authorized = await self._authorized(request)
        if not authorized:
            self.metrics.rejection("invalid_api_key")
        name = request.path_params["model_id"]
        return model_answer(name, name in self.router.plans, "anthropic-version" in request.headers,
                            None if authorized else unauthorized())

    async def models(self, request: Request) -> Response:
        """``GET /v1/models``: routes and plain models."""
        if not await self._authorized(request):
            self.metrics.rejection("invalid_api_key")
            return unauthorized().response()
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "satisfice"}
                for name in sorted(self.router.plans, key=lambda n: (not n.startswith("task/"), n))]
        return Response(orjson.dumps({"object": "list", "data": data}), media_type=_JSON)

    async def healthz(self, request: Request) -> Response:
        """``GET /healthz``: liveness (no auth)."""
        return Response(orjson.dumps({"status": "ok", "routes": len(self.router.plans),
                                      "rows_pending": self.spend_log.pending}), media_type=_JSON)

    async def metrics_endpoint(self, request: Request) -> Response:
        """``GET /metrics``: Prometheus text format (no auth; the server binds 127.0.0.1 by default)."""
        return Response(self.metrics.render(), media_type=self.metrics.content_type)

    # --- the request path -----------------------------------------------------------------------------------

    async def _complete(self, scope: Scope, receive: Receive, endpoint: str,
                        api: Api | None = None) -> Response | RelayResponse:
        started = time.perf_counter()
        authorization = length = api_key = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                length = value
            elif name == b"x-api-key":
                api_key = value.decode("latin-1")
        request: ApiRequest | None = None
        try:
            key: KeyInfo | None = None
            if self.config.auth:  # from the headers alone: no body is read for a client without a key
                key = await self.key_of(presented(authorization, api_key))
                if key is None:
                    raise unauthorized(close=True)
            journal = self._journal
            if journal is not None and journal.fault is not None:  # refuse before anything is spent
                raise unwritable(journal.fault, charged=False)
            body = await self.bodies.read(receive, length)
            payload = parse_payload(body, endpoint) if api is None else parse_body(body)
            plan = self.router.choose(payload)
            if plan is None:
                raise GatewayError(404, f"the model {echo(payload['model'])} does not exist: it is neither a "
                                   "configured route (task/<name>) nor a served model", param="model",
                                   code="model_not_found")
            plan = self.loop.choose(plan)
            if api is not None:
                request = prepare(api, payload, plan, scope["headers"])
            estimate = input_estimate(body)
            cap = output_cap(payload, self._default_cap) if api is None else api.cap(payload, self._default_cap)
            worst = plan.worst_cost(estimate, cap)
            reservation = Reservation(None, worst, None)
            if key is not None:
                reservation = await reserve(self.ledger, key, plan, payload, request, endpoint, (estimate, worst))
        except GatewayError as exc:
            self.metrics.rejection(exc.reason)
            rejected = exc.response() if api is None else api.error(exc)
            rejected.headers["x-satisfice-request-id"] = self.spend_log.new_id()  # for logs; it has no spend row
            return rejected
        ctx = Admitted(self.services, plan, endpoint, payload, key, reservation, estimate, started, request)
        if payload.get("stream") is True and not plan.verifiers:
            return await ctx.relay()
        return await ctx.serve()

    async def key_of(self, credential: str | None) -> KeyInfo | None:
        """The active key a client presented; a key created since the last reload is found at once."""
        key = self.keys.lookup(credential)
        if key is None and credential is not None and KEY_PREFIX in credential:
            await self._key_miss()
            key = self.keys.lookup(credential)
        return key

    def journal_fault(self) -> str | None:
        """Why the journal cannot be written now (None: it can, or there is none)."""
        return self._journal.fault if self._journal is not None else None

    def secrets(self) -> tuple[str, ...]:
        """Provider keys in the environment (masked anywhere they might show)."""
        return self.router.secrets()


class _App:
    """The gateway as an ASGI 3 app object (servers detect the interface from an ``async def __call__``)."""

    __slots__ = ("gateway",)

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (HTTP request or lifespan)."""
        await self.gateway.asgi(scope, receive, send)


def _mark(decision: Any) -> Any:
    """What identifies a stored eval decision, to notice a newer one (None: no decision)."""
    if decision is None:
        return None
    return (decision.created_at, decision.run_id, decision.passing, decision.reference, decision.candidates)


__all__ = ["Gateway"]
