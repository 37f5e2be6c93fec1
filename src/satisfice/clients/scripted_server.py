"""A real OpenAI-compatible HTTP server on 127.0.0.1 that answers from a script, faults included.

For tests and benchmarks of everything that speaks HTTP to a provider (the OpenAI-compatible client, the eval
runner, the gateway). Serves ``POST /v1/chat/completions`` (JSON or SSE stream), ``POST /v1/completions``
(JSON or SSE stream), ``GET /v1/models`` and ``GET /health``. Each completion request takes the next
:class:`Step` of the script: an answer (usage = whitespace token counts unless given) or a fault (an HTTP error
with optional ``Retry-After``, a delay, a malformed or truncated body, a connection reset before the answer or
after some stream events). Every request is recorded (:attr:`ScriptedServer.requests`).

Use :class:`ScriptedServer` inside an event loop (``async with``) and :class:`ScriptedServerThread` from
synchronous code (it runs the server on its own loop in a background thread). As a process:
``python -m satisfice.clients.scripted_server --port 8000 --text ok`` prints its base URL once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from aiohttp import web

from satisfice.clients.scripted_wire import (
    Received,
    Script,
    Step,
    completion_bytes,
    count_tokens,
    error_type,
    retry_after_value,
    stream_events,
)

_JSON = "application/json"

class ScriptedServer:
    """An OpenAI-compatible server answering from ``script`` (a list of steps, or a callable per request).

    Args:
        script: Steps taken one per completion request, in order (a ``str`` is an answer), or a callable that
            returns the step for a :class:`Received` request.
        default: What to do once a list script is used up (``None``: answer HTTP 500 "script exhausted").
        models: Ids listed by ``GET /v1/models``.
        host: Interface to bind; 127.0.0.1 unless you know why not.
        port: 0 picks a free port.
        record: Keep every request (turn off for long benchmarks).
    """

    def __init__(self, script: Script | None = None, *, default: Step | str | None = "ok",
                 models: Iterable[str] = ("scripted",), host: str = "127.0.0.1", port: int = 0,
                 record: bool = True) -> None:
        self._script = script if script is not None else ()
        self._default = Step.answer(default) if isinstance(default, str) else default
        self._models = tuple(models)
        self._host = host
        self._port = port
        self._record = record
        self._next = 0
        self._runner: web.AppRunner | None = None
        self.received: list[Received] = []
        self.served = 0

    @property
    def requests(self) -> list[dict[str, Any]]:
        """JSON bodies of the completion requests received, in order."""
        return [r.body for r in self.received]

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        return self._port

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self._host}:{self._port}"

    @property
    def base_url(self) -> str:
        """OpenAI base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return self.url + "/v1"

    def set_script(self, script: Script) -> None:
        """Replace the script and start from its first step."""
        self._script, self._next = script, 0

    def _step_for(self, received: Received) -> Step | None:
        script = self._script
        if callable(script):
            step: Step | str | None = script(received)
        elif self._next < len(script):
            step = script[self._next]
            self._next += 1
        else:
            step = self._default
        return Step.answer(step) if isinstance(step, str) else step

    async def start(self) -> ScriptedServer:
        """Bind and start serving."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._complete)
        app.router.add_post("/v1/completions", self._complete)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/health", self._health)
        app.router.add_get("/healthz", self._health)
        self._add_routes(app)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.25)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]
        return self

    def _add_routes(self, app: web.Application) -> None:
        """More routes (for subclasses speaking other APIs)."""

    async def stop(self) -> None:
        """Stop serving and close open connections."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> ScriptedServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- handlers -------------------------------------------------------------------------------------------

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', content_type=_JSON)

    async def _list_models(self, request: web.Request) -> web.Response:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "scripted"} for m in self._models]
        return web.Response(body=orjson.dumps({"object": "list", "data": data}), content_type=_JSON)

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _error_response(400, "request body is not valid JSON", "invalid_request_error")
        if not isinstance(body, dict):
            return _error_response(400, "request body must be a JSON object", "invalid_request_error")
        received = Received(request.path, body, dict(request.headers))
        if self._record:
            self.received.append(received)
        step = self._step_for(received)
        self.served += 1
        if step is None:
            return _error_response(500, "scripted server: script exhausted", "server_error")
        if step.delay_s > 0:
            await asyncio.sleep(step.delay_s)
        chat = request.path.endswith("/chat/completions")
        if step.kind == "answer":
            if body.get("stream") is True:
                return await self._stream(request, step, body, chat)
            if step.cut_after is not None:
                return await _truncate(request, completion_bytes(step, body, chat, self.served))
            return web.Response(body=completion_bytes(step, body, chat, self.served), content_type=_JSON)
        if step.kind == "error":
            headers = {} if step.retry_after is None else {"Retry-After": retry_after_value(step.retry_after)}
            return _error_response(step.status, step.message, error_type(step.status), headers)
        if step.kind == "malformed":
            return web.Response(body=step.body, content_type=_JSON)
        if step.kind == "truncated":
            return await _truncate(request, completion_bytes(step, body, chat, self.served))
        return _reset(request)

    async def _stream(self, request: web.Request, step: Step, body: dict[str, Any], chat: bool) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream",
                                                       "Cache-Control": "no-cache"})
        await resp.prepare(request)
        events = stream_events(step, body, chat, self.served)
        for i, event in enumerate(events):
            if step.cut_after is not None and i >= step.cut_after:
                _close(request)
                return resp
            if step.chunk_delay_s > 0 and i > 0:
                await asyncio.sleep(step.chunk_delay_s)
            await resp.write(b"data: " + orjson.dumps(event) + b"\n\n")
        if step.cut_after is not None and step.cut_after >= len(events):
            _close(request)
            return resp
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


def _error_response(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> web.Response:
    payload = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.Response(status=status, body=orjson.dumps(payload), content_type=_JSON, headers=headers)


async def _truncate(request: web.Request, full: bytes) -> web.StreamResponse:
    """Announce ``full``'s length, send half of it, close the connection."""
    resp = web.StreamResponse(status=200, headers={"Content-Type": _JSON})
    resp.content_length = len(full)
    await resp.prepare(request)
    await resp.write(full[: len(full) // 2])
    _close(request)
    return resp


def _close(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()


def _reset(request: web.Request) -> web.Response:
    """Abort the connection with a TCP RST (SO_LINGER 0) so the client sees ``connection reset``."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response(status=500)


class ScriptedServerThread:
    """A :class:`ScriptedServer` on its own event loop in a daemon thread, for synchronous code.

    ``with ScriptedServerThread(["hello"]) as server: ...`` (or :meth:`start` / :meth:`stop`); takes the same
    arguments as :class:`ScriptedServer`, whose attributes are reachable through :attr:`server`.
    """

    def __init__(self, script: Script | None = None, **kwargs: Any) -> None:
        self.server = ScriptedServer(script, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """OpenAI base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return self.server.base_url

    @property
    def url(self) -> str:
        """Root URL."""
        return self.server.url

    @property
    def requests(self) -> list[dict[str, Any]]:
        """JSON bodies of the completion requests received, in order."""
        return self.server.requests

    @property
    def received(self) -> list[Received]:
        """Completion requests received (path, body, headers), in order."""
        return list(self.server.received)

    def set_script(self, script: Script) -> None:
        """Replace the script (safe while serving: applied on the server's loop)."""
        loop = self._loop
        if loop is None:
            self.server.set_script(script)
        else:
            asyncio.run_coroutine_threadsafe(_call(self.server.set_script, script), loop).result(5)

    def start(self, timeout_s: float = 10.0) -> ScriptedServerThread:
        """Start the thread and wait until the server listens."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.server.start())
            except BaseException as exc:  # reported to start() below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.server.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="scripted-server", daemon=True)
        self._thread.start()
        if not ready.wait(timeout_s):
            raise RuntimeError("scripted server did not start in time")
        if failure:
            raise failure[0]
        self._loop = loop
        return self

    def stop(self) -> None:
        """Stop the server and join the thread."""
        loop, thread, self._loop = self._loop, self._thread, None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

    def __enter__(self) -> ScriptedServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def _call(fn: Callable[[Script], None], arg: Script) -> None:
    fn(arg)


def main(argv: Sequence[str] | None = None) -> None:
    """Run a fixed-answer server in the foreground until interrupted; print the base URL once listening."""
    parser = argparse.ArgumentParser(prog="python -m satisfice.clients.scripted_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--text", default="ok", help="the fixed answer")
    parser.add_argument("--record", action="store_true", help="keep request bodies in memory")
    args = parser.parse_args(argv)

    async def serve() -> None:
        server = await ScriptedServer(default=args.text, host=args.host, port=args.port, record=args.record).start()
        print(server.base_url, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        import uvloop
    except ImportError:
        runner: Callable[[Any], Any] = asyncio.run
    else:
        runner = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):
        runner(serve())
    sys.exit(0)


__all__ = ["Received", "Script", "ScriptedServer", "ScriptedServerThread", "Step", "count_tokens", "main"]

if __name__ == "__main__":
    main()
