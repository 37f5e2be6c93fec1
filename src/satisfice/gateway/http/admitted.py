"""One admitted request, from the plan to the answer: cascade or relay, then its single spend row.

:class:`Admitted` is created by the gateway's request path once the key, body, plan and budget reservation are
settled (see :mod:`satisfice.gateway.http.app`), with the :class:`Services` it uses (books, executor, metrics,
production loop), never the gateway itself. ``finish`` settles the reservation, queues the spend row and counts
the request; it runs exactly once per admitted request, whatever the outcome.
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response

from satisfice.core import Price, Usage
from satisfice.gateway.apis.calls import call_api, open_api_relay
from satisfice.gateway.apis.client_apis import ApiRequest
from satisfice.gateway.apis.relay import Relay, RelayResponse, open_relay
from satisfice.gateway.loop.production import ProductionLoop
from satisfice.gateway.money.books import Books
from satisfice.gateway.money.budgets import Reservation
from satisfice.gateway.money.journal import JournalUnwritable
from satisfice.gateway.money.keys import KeyInfo
from satisfice.gateway.money.ledger import SpendRow
from satisfice.gateway.observability.metrics import GatewayMetrics
from satisfice.gateway.routes.cascade import Attempts, Caller, Executor, final_error
from satisfice.gateway.routes.plan import Plan
from satisfice.gateway.wire.replies import GatewayError, synthesize_stream
from satisfice.gateway.wire.upstream import CHAT, Answer, Upstream
from satisfice.masking import mask

log = logging.getLogger("satisfice.gateway")


@dataclass(frozen=True, slots=True)
class Services:
    """What an admitted request uses of its gateway (built once per gateway, shared by every request)."""

    books: Books
    """The spend log (rows, request ids, durability) and the budget ledger (settling reservations)."""
    executor: Executor
    """Runs plans against upstreams; its transport opens streams."""
    metrics: GatewayMetrics
    loop: ProductionLoop
    """Per-request hooks: verdicts to outcomes, shadow checks, content logging."""
    secrets: Callable[[], tuple[str, ...]]
    """Provider keys to mask out of a spend row's errors."""


class Admitted:
    """One admitted request: serves it and writes its single spend row."""

    __slots__ = ("api", "att", "endpoint", "input_estimate", "key", "payload", "plan", "request_id",
                 "reservation", "started", "sv")

    def __init__(self, services: Services, plan: Plan, endpoint: str, payload: dict[str, Any],
                 key: KeyInfo | None, reservation: Reservation | None, input_estimate: int, started: float,
                 api: ApiRequest | None = None) -> None:
        self.sv, self.plan, self.endpoint, self.payload = services, plan, endpoint, payload
        self.key, self.reservation, self.input_estimate, self.started = key, reservation, input_estimate, started
        self.att = Attempts()
        self.api = api
        """Set for the other client APIs (Messages, Responses, embeddings); None for chat and completions."""
        self.request_id = services.books.spend_log.new_id()
        """The spend row's ``entry_id``, sent to the client as ``x-satisfice-request-id``."""

    def finish(self, status: int, outcome: str, model: str | None, upstream: str | None,
               served_usage: Usage | None) -> None:
        """Settle the reservation, queue the spend row, count the request."""
        sv, att, reservation = self.sv, self.att, self.reservation
        reserved = reservation.amount if reservation is not None else None
        if att.paused and reserved is not None and reserved > att.cost:  # the upstream likely answered unread
            att.cost, att.estimated = reserved, True
            att.errors.append("this instance was paused while an upstream call was in flight: billed its "
                              "reservation (the worst case), as the upstream probably answered")
        over = reserved is not None and att.cost > reserved * (1 + 1e-9) + 1e-12
        if reservation is not None:
            sv.books.ledger.settle(reservation, att.cost)
        errors = orjson.dumps([mask(e, sv.secrets()) for e in att.errors]).decode() if att.errors else "[]"
        elapsed = time.perf_counter() - self.started
        plan = self.plan
        key = self.key
        sv.books.spend_log.add(SpendRow(
            created_at=time.time(), key_id=key.id if key is not None else None, route=plan.name,
            endpoint=self.endpoint, stream=self.payload.get("stream") is True,
            models_tried=orjson.dumps(att.tried).decode(), model=model, upstream=upstream,
            input_tokens=att.input_tokens, output_tokens=att.output_tokens, tokens_estimated=att.estimated,
            cost_usd=att.cost,
            reference_cost_usd=plan.reference_cost(served_usage) if served_usage is not None else None,
            latency_ms=elapsed * 1000.0, escalations=att.escalations, errors=errors, status=status,
            outcome=outcome, entry_id=self.request_id, usage_invalid=att.usage_invalid, over_reservation=over,
            reserved_usd=reserved, upstream_api=self.endpoint if self.api is None else self.api.served_api,
            lease_epoch=reservation.epoch if reservation is not None else None,
        ), reservation.period if reservation is not None else None)
        sv.metrics.request(plan.name, status, elapsed, att.cost)
        sv.loop.finished(self, self.request_id)
        if att.estimated or over:
            sv.metrics.usage_flags(plan.name, upstream or "", estimated=att.estimated, invalid=att.usage_invalid,
                                   over=over)

    def _fail(self, exc: GatewayError) -> Response:
        self.finish(exc.status, exc.code or "error", None, None, None)
        response = exc.response() if self.api is None else self.api.api.error(exc)
        response.headers["x-satisfice-request-id"] = self.request_id
        return response

    def _internal(self, doing: str) -> Response:
        """A bug on our side: logged with its traceback, answered as a plain 500 in the OpenAI shape."""
        log.exception("gateway: internal error %s %s", doing, self.plan.name)
        return self._fail(GatewayError(500, "internal error in the gateway", type="server_error",
                                       code="internal_error"))

    def _headers(self, model: str) -> list[tuple[bytes, bytes]]:
        headers = [(b"x-satisfice-model", model.encode()), (b"x-satisfice-route", self.plan.name.encode()),
                   (b"x-satisfice-escalations", str(self.att.escalations).encode()),
                   (b"x-satisfice-request-id", self.request_id.encode())]
        if not self.att.verified:
            headers.append((b"x-satisfice-verified", b"false"))
        return headers

    async def serve(self) -> Response:
        """Non-streaming, or streaming that is verified before anything is sent."""
        try:
            answer = await self.sv.executor.run(self.plan, self.endpoint, self._checked_payload(),
                                                self.input_estimate, self.att, self._caller())
        except GatewayError as exc:
            failed = self._fail(exc)
            with contextlib.suppress(JournalUnwritable):  # the error goes out either way; its row is queued
                await self.sv.books.spend_log.durable()
            return failed
        except Exception:
            return self._internal("serving")
        self.finish(200, "ok" if self.att.verified else "unverified", answer.model, answer.upstream, answer.usage)
        try:
            await self.sv.books.spend_log.durable()  # the row is journaled before the answer is released
        except JournalUnwritable as exc:  # never released: the row (billed, the upstream answered) says so
            self.sv.books.spend_log.amend(self.request_id, 503, "journal_failed")
            return unwritable(exc).response() if self.api is None else self.api.api.error(unwritable(exc))
        self._shadow(answer.model, answer.text)
        if self.api is not None:
            return self._api_answer(answer)
        if self.payload.get("stream") is True:
            options = self.payload.get("stream_options")
            include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
            return RawResponse(synthesize_stream(answer.data, self.endpoint, include_usage=include_usage),
                                b"text/event-stream; charset=utf-8", self._headers(answer.model))
        return RawResponse(answer.body, b"application/json", self._headers(answer.model))

    async def relay(self) -> Response | RelayResponse:
        """Streaming without verifiers: fall back until the first event, then relay."""
        att, targets, executor = self.att, self.plan.targets, self.sv.executor
        spend_log = self.sv.books.spend_log
        transport = executor.transport
        relay: Relay | None = None
        try:
            for n, target in enumerate(targets):
                def attempt(upstream: Upstream, price: Price, model: str = target.model) -> Any:
                    if self.api is not None:
                        return open_api_relay(transport, upstream, model, self.api, price, self.input_estimate)
                    return open_relay(transport, upstream, model, self.endpoint, self.payload, price,
                                      self.input_estimate)

                relay = await executor.try_target(target, att, n == len(targets) - 1, attempt)
                if relay is not None:
                    break
        except GatewayError as exc:
            return self._fail(exc)
        except Exception:
            return self._internal("opening a stream for")
        if relay is None:
            return self._fail(final_error(att, self.plan.name))

        def on_finish(done: Relay, error: str | None) -> None:
            cost, usage, estimated, invalid, text = done.result()
            att.bill(cost, usage, estimated, invalid)
            if error is not None:
                att.errors.append(error)
            self.finish(200, "ok" if error is None else "interrupted", done.model, done.upstream.name, usage)
            if error is None:
                self._shadow(done.model, text)

        async def durable() -> None:
            try:
                await spend_log.durable()
            except JournalUnwritable:  # the stream ends with an error event instead of [DONE]
                spend_log.amend(self.request_id, 200, "interrupted")
                raise

        return RelayResponse(relay, self._headers(relay.model), on_finish, durable)

    def _checked_payload(self) -> dict[str, Any]:
        """What verifiers see: the chat form of the request where there is one."""
        return self.payload if self.api is None or self.api.chat is None else self.api.chat

    def _caller(self) -> Caller | None:
        request = self.api
        if request is None:
            return None
        transport, estimate = self.sv.executor.transport, self.input_estimate

        def caller(upstream: Upstream, price: Price, model: str) -> Awaitable[Answer]:
            return call_api(transport, upstream, model, request, price, estimate)

        return caller

    def _shadow(self, model: str, text: str) -> None:
        """The production loop's step for a released answer: maybe a shadow check, maybe its content logged.

        Other APIs go through their chat translation, where there is one.
        """
        if self.api is None:
            self.sv.loop.served(self, model, text, self.att.cost)
        elif self.api.chat is not None:
            self.sv.loop.served(self, model, text, self.att.cost, CHAT, self.api.chat)

    def _api_answer(self, answer: Answer) -> Response:
        assert self.api is not None
        api = self.api.api
        if self.payload.get("stream") is True and api.stream_of is not None:
            return RawResponse(api.stream_of(answer.data, self.payload), b"text/event-stream; charset=utf-8",
                               self._headers(answer.model))
        return RawResponse(answer.body, b"application/json", self._headers(answer.model))


def unwritable(exc: BaseException | str, *, charged: bool = True) -> GatewayError:
    """The 503 for a journal that cannot be written, naming the cause (disk full, read-only, ...)."""
    what = ("the upstream answered (and is billed) but the answer could not be recorded, so it is withheld"
            if charged else "nothing was sent upstream or charged")
    return GatewayError(503, f"the gateway cannot record spend now ({exc}): {what}; try again shortly",
                        type="server_error", code="journal_unwritable", reason="journal_unwritable",
                        headers={"Retry-After": "1"})


class RawResponse(Response):
    """A 200 response with prebuilt headers (skips Starlette's header normalisation on the hot path)."""

    def __init__(self, body: bytes, media_type: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.body = body
        self.status_code = 200
        self.background = None
        self.raw_headers = [(b"content-length", str(len(body)).encode()), (b"content-type", media_type), *headers]


__all__ = ["Admitted", "RawResponse", "Services", "unwritable"]
