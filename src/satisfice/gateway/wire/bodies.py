"""Reading request bodies under three limits: size per body, time per body, and bytes in memory for all of them.

A client gets ``max_body_bytes`` (else 413), must deliver the body within ``body_timeout_s`` (else 408 and the
connection is closed), and all bodies being received at once may hold at most ``max_body_bytes_in_flight``
bytes (else 503 and the connection is closed; a declared ``Content-Length`` is counted up front).

The time limit costs nothing per request: a read only registers its deadline, and :meth:`BodyReader.sweep`,
run by the gateway every fraction of a second, cancels the reads past theirs (timers per request cost more CPU
than the rest of the read).
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive

from satisfice.gateway.wire.replies import GatewayError

SWEEPS_PER_TIMEOUT = 4
"""A late body is answered within ``body_timeout_s`` x (1 + 1/SWEEPS_PER_TIMEOUT)."""


class BodyReader:
    """Reads bodies from the ASGI channel under the limits above; ``in_flight`` is the bytes held right now."""

    def __init__(self, max_body_bytes: int, body_timeout_s: float, max_in_flight: int) -> None:
        self.limit = max_body_bytes
        self.timeout_s = body_timeout_s
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self._deadlines: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()

    async def read(self, receive: Receive, length: bytes | None) -> bytes:
        """The whole body, or GatewayError (413, 408, 503, or 400 when the client went away)."""
        declared = int(length) if length is not None and length.isdigit() else 0
        if declared > self.limit:
            raise too_large(self.limit)
        task = asyncio.current_task()
        assert task is not None
        self._deadlines[task] = asyncio.get_running_loop().time() + self.timeout_s
        held = self._hold(declared) if declared else 0  # bytes this body counts against the in-flight cap
        try:
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    raise GatewayError(400, "client disconnected while sending the body", reason="client_disconnect")
                chunk = message.get("body", b"")
                if chunk:
                    size += len(chunk)
                    if size > self.limit:
                        raise too_large(self.limit)
                    if size > held:
                        held += self._hold(size - held)
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        except asyncio.CancelledError:
            if task not in self._expired:
                raise
            self._expired.discard(task)
            task.uncancel()
            raise GatewayError(408, f"the request body did not arrive within {self.timeout_s:g} s",
                               code="request_timeout", reason="body_timeout",
                               headers={"Connection": "close"}) from None
        finally:
            self.in_flight -= held
            self._deadlines.pop(task, None)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _hold(self, size: int) -> int:
        if self.in_flight + size > self.max_in_flight:
            raise GatewayError(503, "the gateway is receiving too many request bodies at once; retry shortly",
                               type="server_error", code="server_busy", reason="bodies_in_flight",
                               headers={"Connection": "close", "Retry-After": "1"})
        self.in_flight += size
        return size

    def sweep(self) -> int:
        """Cancel the reads past their deadline (they answer 408); how many were cancelled."""
        now = asyncio.get_running_loop().time()
        late = [task for task, deadline in self._deadlines.items() if deadline <= now]
        for task in late:
            del self._deadlines[task]
            self._expired.add(task)
            task.cancel()
        return len(late)

    async def sweep_forever(self) -> None:
        """Sweep every ``body_timeout_s`` / SWEEPS_PER_TIMEOUT seconds (the gateway runs this while it serves)."""
        interval = self.timeout_s / SWEEPS_PER_TIMEOUT
        while True:
            await asyncio.sleep(interval)
            self.sweep()


def too_large(limit: int) -> GatewayError:
    """The 413 for a body over ``limit`` bytes."""
    return GatewayError(413, f"the request body is larger than the limit of {limit} bytes", code="body_too_large",
                        reason="body_too_large")


__all__ = ["BodyReader", "too_large"]
