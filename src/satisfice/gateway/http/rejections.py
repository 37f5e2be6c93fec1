"""The gateway's own refusals outside the request path's checks: a bad key, an unknown path, an internal error."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from satisfice.gateway.apis.client_apis import APIS
from satisfice.gateway.wire.replies import GatewayError, echo


def unauthorized(*, close: bool = False) -> GatewayError:
    """The 401 for a missing or unknown key (``close``: also end the connection, its body unread)."""
    return GatewayError(401, "invalid or missing API key: send 'Authorization: Bearer sk-sat-...' (or "
                        "'x-api-key: sk-sat-...') with a key from `satisfice gateway keys create`",
                        code="invalid_api_key", reason="invalid_api_key",
                        headers={"Connection": "close"} if close else None)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's 404 and 405 in the OpenAI error shape (Anthropic's under ``/v1/messages``)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    path = echo(request.url.path, quote=False)
    message = {404: f"no such endpoint: {path}", 405: f"method {echo(request.method, quote=False)} is not allowed "
               f"on {path}"}.get(status, "request failed")
    error = GatewayError(status, message, code="not_found" if status == 404 else None)
    messages = APIS["/v1/messages"]
    return messages.error(error) if request.url.path.startswith(("/v1/messages", "/messages")) else error.response()


INTERNAL = GatewayError(500, "internal error in the gateway", type="server_error", code="internal_error")


async def internal_error(request: Request | None, exc: Exception | None) -> Response:
    """The plain 500 for a bug on the gateway's side (its traceback is logged where it was caught)."""
    return INTERNAL.response()


__all__ = ["INTERNAL", "http_error", "internal_error", "unauthorized"]
