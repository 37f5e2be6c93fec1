"""The client APIs besides chat completions (Messages, Responses, embeddings): their registry and request checks.

Each :class:`Api` says how its requests are checked, what caps their output, how they translate to and from
chat completions (None: they cannot be, as for embeddings), how a whole answer becomes a stream, how its usage
reads as chat usage, and how its errors look. :data:`APIS` maps the gateway path (``/v1/messages``...) to the
API; the request path in :mod:`satisfice.gateway.http.app` is the same as for chat (keys, budgets, plans, spend
rows), with the :class:`ApiRequest` carried along. Upstream calls live in :mod:`satisfice.gateway.apis.calls`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from starlette.responses import Response

from satisfice.gateway.apis import translate_messages as tm
from satisfice.gateway.apis import translate_responses as tr
from satisfice.gateway.apis.translate_common import bad
from satisfice.gateway.routes.plan import Plan
from satisfice.gateway.wire.replies import GatewayError, echo

MESSAGES, RESPONSES, EMBEDDINGS = "messages", "responses", "embeddings"
ANTHROPIC_VERSION = "2023-06-01"


class Events(Protocol):
    """Writes one API's stream events from neutral operations (see ``translate_common.ChatStreamReader``)."""

    logprobs: list[Any]
    """Logprobs of the text (APIs that carry none ignore them)."""

    def op(self, op: tuple[Any, ...]) -> bytes:
        """Events for one operation."""
        ...

    def end(self) -> bytes:
        """The closing events."""
        ...


def _openai_error(exc: GatewayError) -> bytes:
    return orjson.dumps(exc.payload())


def _openai_stream_error(message: str) -> bytes:
    from satisfice.gateway.wire.replies import sse_error

    return sse_error(message)


@dataclass(frozen=True, slots=True)
class Api:
    """One client API the gateway speaks besides chat completions."""

    name: str
    check: Callable[[dict[str, Any]], None]
    cap: Callable[[dict[str, Any], int], int]
    chat_usage: Callable[[Any], dict[str, Any] | None]
    text_of: Callable[[dict[str, Any]], str]
    to_chat: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    from_chat: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    events: Callable[[dict[str, Any]], Events] | None = None
    stream_of: Callable[[dict[str, Any], dict[str, Any]], bytes] | None = None
    error_body: Callable[[GatewayError], bytes] = _openai_error
    stream_error: Callable[[str], bytes] = _openai_stream_error
    done_events: tuple[str, ...] = ()
    """Native stream event types that mean the answer is complete."""

    def error(self, exc: GatewayError) -> Response:
        """The HTTP response for ``exc`` in this API's error shape."""
        return Response(self.error_body(exc), status_code=exc.status, headers=exc.headers,
                        media_type="application/json")


def _positive_int(payload: dict[str, Any], name: str, *, required: bool) -> None:
    value = payload.get(name)
    if value is None and not required:
        return
    if type(value) is not int or value < 1:
        raise bad(name, f"'{name}' must be an integer >= 1" if value is not None
                  else f"missing required parameter: '{name}'",
                  "invalid_type" if value is not None else "missing_required_parameter")


def _stream_flag(payload: dict[str, Any]) -> None:
    if payload.get("stream") is not None and not isinstance(payload["stream"], bool):
        raise bad("stream", "'stream' must be a boolean")


def check_messages(payload: dict[str, Any]) -> None:
    """400 naming the field when a Messages request lacks what the API requires."""
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad("messages", "'messages' must be a non-empty array" if messages is not None
                  else "missing required parameter: 'messages'")
    _positive_int(payload, "max_tokens", required=True)
    _stream_flag(payload)


def check_responses(payload: dict[str, Any]) -> None:
    """400 naming the field when a Responses request lacks what the API requires."""
    source = payload.get("input")
    if not isinstance(source, str | list) or (isinstance(source, list) and not source):
        raise bad("input", "'input' must be a string or a non-empty array" if source is not None
                  else "missing required parameter: 'input'")
    _positive_int(payload, "max_output_tokens", required=False)
    _stream_flag(payload)


def check_embeddings(payload: dict[str, Any]) -> None:
    """400 naming the field when an embeddings request is malformed or asks for a stream."""
    source = payload.get("input")
    ok = isinstance(source, str) or (isinstance(source, list) and source and (
        all(isinstance(s, str) for s in source) or all(type(t) is int for t in source)
        or all(isinstance(s, list) and all(type(t) is int for t in s) for s in source)))
    if not ok:
        raise bad("input", "'input' must be a string, an array of strings or an array of token arrays"
                  if source is not None else "missing required parameter: 'input'")
    if payload.get("stream") is not None:
        raise bad("stream", "embeddings are not streamed")


def _anthropic_error(exc: GatewayError) -> bytes:
    return tm.error_body(exc.status, exc.message)


def _embeddings_usage(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    return {"prompt_tokens": raw.get("prompt_tokens"), "completion_tokens": 0}


APIS: dict[str, Api] = {}
"""Registry: the gateway path (``/v1/...``) of each API, and the API."""


def register(paths: tuple[str, ...], api: Api) -> Api:
    """Serve ``api`` at ``paths`` (each also without the ``/v1`` prefix)."""
    for path in paths:
        APIS[path] = api
        APIS[path.removeprefix("/v1")] = api
    return api


register(("/v1/messages",), Api(
    MESSAGES, check_messages, lambda p, _: int(p["max_tokens"]), tm.chat_usage, tm.text_of,
    to_chat=tm.to_chat, from_chat=lambda data, p: tm.from_chat(data, str(p["model"])),
    events=lambda p: tm.MessagesEvents(str(p["model"])), stream_of=lambda a, p: tm.stream_of(a, str(p["model"])),
    error_body=_anthropic_error, stream_error=tm.stream_error, done_events=("message_stop",)))
register(("/v1/responses",), Api(
    RESPONSES, check_responses, lambda p, d: int(p.get("max_output_tokens") or d), tr.chat_usage, tr.text_of,
    to_chat=tr.to_chat, from_chat=lambda data, p: tr.from_chat(data, p), events=tr.ResponsesEvents,
    stream_of=tr.stream_of, done_events=("response.completed", "response.incomplete")))
register(("/v1/embeddings",), Api(EMBEDDINGS, check_embeddings, lambda p, _: 0, _embeddings_usage, lambda _: ""))


@dataclass(slots=True)
class ApiRequest:
    """A request to one of :data:`APIS`: the client's payload, its chat translation, what served it."""

    api: Api
    payload: dict[str, Any]
    chat: dict[str, Any] | None = None
    served_api: str | None = None
    forward: dict[str, str] = field(default_factory=dict)
    """Client headers passed on to a pass-through upstream (``anthropic-version``, ``anthropic-beta``)."""
    chat_error: GatewayError | None = field(default=None, repr=False)

    def translated(self) -> dict[str, Any]:
        """The chat translation (GatewayError 400 naming the field when there is none)."""
        if self.chat is not None:
            return self.chat
        if self.chat_error is None:
            self.chat_error = GatewayError(
                400, f"no upstream of model {str(self.payload.get('model'))[:200]!r} speaks the {self.api.name} "
                "API and it cannot be translated to chat completions; declare it in an upstream's 'apis' list",
                param="model", code="api_not_served", reason="invalid_request")
        raise self.chat_error


FORWARDED = {MESSAGES: (b"anthropic-version", b"anthropic-beta")}
"""Client headers a pass-through upstream of each API gets."""


def forwarded(api: str, headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The client headers a pass-through upstream of ``api`` gets (see :data:`FORWARDED`)."""
    names = FORWARDED.get(api, ())
    return {n.decode(): v.decode("latin-1") for n, v in headers if n in names}


def prepare(api: Api, payload: dict[str, Any], plan: Plan,
            headers: Iterable[tuple[bytes, bytes]] = ()) -> ApiRequest:
    """Check ``payload`` and translate it unless every upstream of the plan speaks ``api`` (400s name fields).

    ``headers`` are the client's; those in :data:`FORWARDED` for the API go on to pass-through upstreams.
    """
    native = [api.name in u.apis for t in plan.targets for u in t.upstreams]
    if api.to_chat is None and not any(native):
        raise GatewayError(400, f"no upstream of {echo(payload['model'])} serves the {api.name} API: list it in "
                           "an upstream's 'apis' in the gateway config", param="model", code="api_not_served")
    if api.to_chat is None and plan.verifiers:
        raise GatewayError(400, f"route {echo(plan.name)} has verifiers, which check text; {api.name} cannot be "
                           "verified: call a plain model", param="model", code="api_not_served")
    api.check(payload)
    request = ApiRequest(api, payload)
    if any(native):
        request.forward = forwarded(api.name, headers)
    if not all(native) and api.to_chat is not None:
        request.chat = api.to_chat(payload)
    return request


def model_answer(name: str, known: bool, anthropic: bool, refused: GatewayError | None) -> Response:
    """``GET /v1/models/{id}``: the model in OpenAI's shape, or Anthropic's; ``refused``: the key's 401."""
    error = refused or (None if known else GatewayError(404, f"the model {echo(name)} does not exist",
                                                        param="model", code="model_not_found"))
    if error is not None:
        return APIS["/v1/messages"].error(error) if anthropic else error.response()
    data: dict[str, Any] = {"id": name, "object": "model", "created": 0, "owned_by": "satisfice"}
    if anthropic:
        data = {"type": "model", "id": name, "display_name": name, "created_at": "1970-01-01T00:00:00Z"}
    return Response(orjson.dumps(data), media_type="application/json")


__all__ = ["ANTHROPIC_VERSION", "APIS", "EMBEDDINGS", "FORWARDED", "MESSAGES", "RESPONSES", "Api", "ApiRequest",
           "Events", "check_embeddings", "check_messages", "check_responses", "forwarded", "model_answer", "prepare",
           "register"]
