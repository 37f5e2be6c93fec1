"""`satisfice serve`: a local model as an OpenAI-compatible server on 127.0.0.1, for the gateway or any client."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any

import typer

from satisfice.cli.common import err_console

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve_cmd(
    model: Annotated[str, typer.Argument(help="A local model: local/smollm2-135m or local/gemma3-270m.")],
    host: Annotated[str, typer.Option(help="Interface to bind (default: loopback only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8081,
    slots: Annotated[int, typer.Option(help="Requests decoded in parallel (continuous batching).", min=1,
                                       max=64)] = 1,
    ctx_size: Annotated[int, typer.Option("--ctx-size", help="Context tokens per slot.", min=256,
                                          max=131072)] = 4096,
) -> None:
    """Serve a local model at http://HOST:PORT/v1 (chat, completions, models, health) until interrupted."""
    from satisfice.clients.local_server import serve_forever, start_local_server

    server = start_local_server(model, host=host, port=port, slots=slots, n_ctx=ctx_size)
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    err_console.print(f"satisfice serve: {model} on {server.base_url} (OpenAI-compatible; loaded in "
                      f"{server.load_s:.1f} s; {slots} slot{'s' if slots > 1 else ''}; Ctrl-C stops)", highlight=False)
    if host not in LOOPBACK:
        err_console.print(f"warning: listening on {host}: anyone who can reach it can use this machine's CPU",
                          highlight=False)
    serve_forever(server, stop)
    err_console.print("stopped", highlight=False)


def register(root: typer.Typer) -> None:
    """Attach ``serve`` to the root app."""
    root.command("serve")(serve_cmd)
