"""``POST /v1/feedback``: a client scores an answer it was served, by the id in ``x-satisfice-request-id``.

Body: ``{"request_id": "...", "score": 0.8}`` (a number in [0, 1], or a label the route maps to one in its
``feedback: {labels: {...}}``) and an optional ``"comment"``. The key is checked from the headers before the body
is read, and the body is read and bounded like a chat body (size, time, nesting). An unknown id and a request
made with another key are the same 404, so ids of other keys cannot be probed. A second feedback for a request
replaces the first: the first stays in the table, marked ``superseded``. The answer (200
``{"request_id", "recorded": true}``) is sent once the row is stored.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from sqlalchemy import text, update
from starlette.requests import Request
from starlette.responses import Response

from satisfice.gateway.loop.host import Host
from satisfice.gateway.loop.outcomes import outcome_row
from satisfice.gateway.money.keys import presented
from satisfice.gateway.wire.replies import GatewayError, echo
from satisfice.gateway.wire.validate import check_shape, load_object
from satisfice.masking import mask
from satisfice.store import Store
from satisfice.store.schema_outcomes import GatewayOutcome

MAX_ID_CHARS = 80
MAX_COMMENT_CHARS = 4000
_ID_SHAPE = re.compile(r"gw_[0-9a-f]{16}:[0-9]{1,18}")
"""What the gateway's request ids look like (``<instance>:<n>``); others are never waited for."""


def _bad(message: str, param: str | None = None, code: str = "invalid_type") -> GatewayError:
    return GatewayError(400, message, param=param, code=code, reason="invalid_request")


def _not_found(request_id: str) -> GatewayError:
    return GatewayError(404, f"no request {echo(request_id)} was served to this key", param="request_id",
                        code="request_not_found")


def parse_feedback(body: bytes) -> tuple[str, float | str, str | None]:
    """``(request_id, score or label, comment)`` from a body, or GatewayError(400) naming the field."""
    data = load_object(body)
    check_shape(data)
    request_id, score, comment = data.get("request_id"), data.get("score"), data.get("comment")
    if request_id is None:
        raise _bad("missing required parameter: 'request_id'", "request_id", "missing_required_parameter")
    if not isinstance(request_id, str) or not request_id or len(request_id) > MAX_ID_CHARS:
        raise _bad(f"'request_id' must be a string of 1 to {MAX_ID_CHARS} characters (from the "
                   "x-satisfice-request-id header)", "request_id")
    if score is None:
        raise _bad("missing required parameter: 'score'", "score", "missing_required_parameter")
    if isinstance(score, bool) or not isinstance(score, int | float | str):
        raise _bad("'score' must be a number in [0, 1] or a label", "score")
    if not isinstance(score, str) and not 0.0 <= score <= 1.0:
        raise _bad(f"'score' must be in [0, 1], not {echo(score)}", "score", "out_of_range")
    if isinstance(score, str) and len(score) > 100:
        raise _bad("a 'score' label has at most 100 characters", "score", "string_too_long")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS):
        raise _bad(f"'comment' must be a string of at most {MAX_COMMENT_CHARS} characters", "comment")
    return request_id, score, comment


def served(store: Store, request_id: str) -> tuple[str | None, str, str] | None:
    """``(key_id, route, model)`` of the spend row with this id, or None."""
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT key_id, route, model FROM gateway_spend WHERE entry_id = :e"),
                           {"e": request_id}).first()
    return None if row is None else (row[0], str(row[1]), str(row[2] or ""))


def record(store: Store, row: dict[str, Any]) -> None:
    """Store one feedback row; earlier feedback on the same request is marked superseded (kept)."""
    with store.transaction() as session:
        session.execute(update(GatewayOutcome).where(
            GatewayOutcome.request_id == row["request_id"], GatewayOutcome.kind == "feedback",
            GatewayOutcome.superseded.is_(False)).values(superseded=True))
        session.add(GatewayOutcome(**row))


class FeedbackEndpoint:
    """The handler of ``POST /v1/feedback`` for one gateway."""

    def __init__(self, gw: Host, labels: Mapping[str, Mapping[str, float]],
                 unauthorized: Callable[..., GatewayError]) -> None:
        self.gw = gw
        self.labels = labels
        self.unauthorized = unauthorized

    async def _find(self, request_id: str) -> tuple[str | None, str, str] | None:
        gw = self.gw
        found = await asyncio.to_thread(served, gw.store, request_id)
        if found is not None or not _ID_SHAPE.fullmatch(request_id):
            return found
        if request_id.startswith(gw.spend_log.instance_id + ":"):
            await gw.spend_log.flush()  # ours and still queued: write it now
        else:  # another instance's, maybe still in its queue: wait for its next batch
            await asyncio.sleep(gw.config.spend_log.flush_interval_s * 2 + 0.05)
        return await asyncio.to_thread(served, gw.store, request_id)

    def _score(self, route: str, score: float | str) -> tuple[float, str | None]:
        if not isinstance(score, str):
            return float(score), None
        labels = self.labels.get(route) or {}
        if score not in labels:
            known = ", ".join(sorted(labels)) or "none (send a number in [0, 1])"
            raise _bad(f"unknown feedback label {echo(score)} for {echo(route)}; known labels: {known}", "score",
                       "unknown_label")
        return float(labels[score]), score

    async def handle(self, request: Request) -> Response:
        """Check the key, read and check the body, find the request, store the feedback."""
        gw = self.gw
        try:
            key = None
            if gw.config.auth:
                key = await gw.key_of(presented(request.headers.get("authorization"),
                                                request.headers.get("x-api-key")))
                if key is None:
                    raise self.unauthorized(close=True)
            length = request.headers.get("content-length")
            body = await gw.bodies.read(request.receive, length.encode("latin-1") if length is not None else None)
            request_id, score, comment = parse_feedback(body)
            found = await self._find(request_id)
            if found is None or (key is not None and found[0] != key.id):
                raise _not_found(request_id)
            key_id, route, model = found
            value, label = self._score(route, score)
            row = outcome_row(request_id, key_id, route, model, "feedback", value, label=label,
                              comment=mask(comment, gw.secrets()) if comment is not None else None)
            await asyncio.to_thread(record, gw.store, row)
        except GatewayError as exc:
            gw.metrics.rejection(exc.reason)
            return exc.response()
        return Response(orjson.dumps({"request_id": request_id, "recorded": True}), media_type="application/json")


__all__ = ["FeedbackEndpoint", "parse_feedback", "record", "served"]
