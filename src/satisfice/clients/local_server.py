"""A local model served over OpenAI-compatible HTTP on this machine: llama.cpp's own server, run in this process.

``satisfice serve local/smollm2-135m --port 8081`` loads the model once and answers ``/v1/chat/completions``,
``/v1/completions``, ``/v1/models`` and ``/health`` at ``http://127.0.0.1:8081/v1`` until it is stopped, so the
gateway (or any OpenAI client) can send it traffic with no key and no network. Answers carry ``usage`` counted by
the model's own tokenizer, cached prompt tokens included, so the gateway bills them at the model's calibrated
self-hosted price.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satisfice.clients.local import local_spec, start_engine
from satisfice.ports import check_port_free

DEFAULT_PORT = 8081
"""``satisfice serve``'s port when none is given (the gateway's default is 8080)."""


@dataclass
class LocalServer:
    """A running local model server: where it listens and how long loading took."""

    model: str
    base_url: str
    path: Path
    load_s: float
    engine: Any

    def stop(self) -> None:
        """Drop this process's reference to the engine (its threads stop when the process exits)."""
        self.engine = None


def start_local_server(model_id: str, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, slots: int = 1,
                       n_ctx: int = 4096, n_threads: int | None = None) -> LocalServer:
    """Load ``model_id`` and serve it at ``http://host:port/v1``; returns once it answers.

    Raises:
        ConfigError: the port is taken (checked before loading), the model is unknown, or xllamacpp or its weights
            are missing (the message has the pip command).
    """
    spec = local_spec(model_id)
    check_port_free(host, port)
    started = time.perf_counter()
    engine, path = start_engine(spec, n_ctx=n_ctx * max(1, slots), n_threads=n_threads or os.cpu_count() or 2,
                                n_parallel=max(1, slots), port=port, host=host)
    return LocalServer(model_id, f"http://{host}:{port}/v1", path, time.perf_counter() - started, engine)


def serve_forever(server: LocalServer, stop: threading.Event | None = None) -> None:
    """Block until ``stop`` is set (or the process is interrupted), then stop the server."""
    event = stop or threading.Event()
    try:
        while not event.wait(0.5):
            pass
    finally:
        server.stop()


__all__ = ["DEFAULT_PORT", "LocalServer", "serve_forever", "start_local_server"]
