"""Connection limits in front of the app: a cap on the request head's size and time, and on open connections.

uvicorn's httptools protocol reads a request head for as long as a client keeps sending it, and keeps a connection
that never sends a byte open forever. :class:`GuardedHttpTools` adds, per connection:

* a **head size cap** (``max_header_bytes``, default 64 KiB): a head larger than that is answered
  ``431 Request Header Fields Too Large`` and the connection closed, before the parser buffers any more of it;
* a **head deadline** (``head_timeout_s``): a connection whose request head is not complete this long after it
  opened (or after its previous response, for keep-alive) is closed — slowloris clients and idle sockets that
  never send a request cost one timer, then nothing;
* a **cap on open connections** (``max_open_connections``, lowered to the process's file limit minus
  ``fd_headroom`` so that the store, the journal and upstream connections always find a descriptor): a
  connection beyond it gets an immediate ``503`` and is closed.

The idle keep-alive timeout is uvicorn's ``timeout_keep_alive`` (``keep_alive_s``). The settings reach worker
processes through the ``SATISFICE_GATEWAY_CONNECTIONS`` environment variable (JSON), set by the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
from dataclasses import asdict, dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ENV = "SATISFICE_GATEWAY_CONNECTIONS"
log = logging.getLogger("satisfice.gateway")


@dataclass(frozen=True)
class ConnectionLimits:
    """The limits one server process applies (see the module docstring)."""

    max_header_bytes: int = 64 * 1024
    head_timeout_s: float = 10.0
    keep_alive_s: float = 5.0
    max_open_connections: int = 4096
    fd_headroom: int = 128

    def effective_max_open(self) -> int:
        """``max_open_connections``, lowered to leave ``fd_headroom`` descriptors under the file limit."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_open_connections
        return max(1, min(self.max_open_connections, soft - self.fd_headroom))

    def export(self) -> None:
        """Publish the limits to this process and to the workers it starts."""
        os.environ[ENV] = json.dumps(asdict(self))
        _current.clear()


def raise_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit (more sockets before ``EMFILE``); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return int(soft)


_current: dict[str, tuple[ConnectionLimits, int]] = {}


def current() -> tuple[ConnectionLimits, int]:
    """The limits of this process and its effective connection cap (read once from the environment)."""
    got = _current.get("limits")
    if got is None:
        raw = os.environ.get(ENV)
        limits = ConnectionLimits(**json.loads(raw)) if raw else ConnectionLimits()
        got = _current["limits"] = (limits, limits.effective_max_open())
    return got


def _reply(status: bytes, message: bytes) -> bytes:
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\ncontent-length: " +
            str(len(message)).encode() + b"\r\nconnection: close\r\n\r\n" + message)


_TOO_LARGE = _reply(b"431 Request Header Fields Too Large",
                    b'{"error":{"message":"request head too large","type":"invalid_request_error",'
                    b'"code":"header_too_large"}}')
_TOO_MANY = _reply(b"503 Service Unavailable",
                   b'{"error":{"message":"too many open connections; try again shortly","type":"server_error",'
                   b'"code":"too_many_connections"}}')


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head size cap, a head deadline and a cap on open connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits, self._max_open = current()
        self._head = 0
        """Bytes of the request head received so far; -1 between the end of a head and the next request."""
        self._tail = b""
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Accept, or answer 503 and close at once when over the cap on open connections."""
        super().connection_made(transport)
        if len(self.connections) > self._max_open:
            self.connections.discard(self)
            transport.write(_TOO_MANY)
            transport.close()
            return
        self._arm()

    def _arm(self) -> None:
        self._head, self._tail = 0, b""
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self._limits.head_timeout_s, self._head_expired)

    def _head_expired(self) -> None:
        self._head_timer = None
        if self._head >= 0 and not self.transport.is_closing():
            self.transport.close()  # no answer: a client this slow is not reading one either

    def data_received(self, data: bytes) -> None:
        """Count head bytes before the parser buffers them; over the cap, 431 and close."""
        if self._head < 0 and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the next request on a kept-alive connection
        if self._head >= 0:
            room = self._limits.max_header_bytes - self._head
            if len(data) > room:
                end = (self._tail + data).find(b"\r\n\r\n")
                if end < 0 or end + 4 - len(self._tail) > room:
                    self.transport.write(_TOO_LARGE)
                    self.transport.close()
                    self._head = -1
                    return
            self._head += len(data)
            self._tail = data[-3:]
        super().data_received(data)

    def on_message_begin(self) -> None:
        """A new request on a kept-alive connection: its head gets the same cap and deadline."""
        if self._head < 0:
            self._arm()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        """The head is in: stop its deadline."""
        self._head = -1
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the head timer with the connection."""
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)


__all__ = ["ENV", "ConnectionLimits", "GuardedHttpTools", "current", "raise_file_limit"]
