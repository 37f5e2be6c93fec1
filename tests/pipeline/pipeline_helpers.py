"""Helpers for the pipeline tests: recorded snapshots, a settable clock, a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from pathlib import Path
from typing import Any

SNAPSHOTS = Path(__file__).resolve().parents[1] / "data" / "pipeline"
REAL = {
    "models-dev": SNAPSHOTS / "modelsdev_api.json",
    "genai-prices": SNAPSHOTS / "genai_prices-0.2.3-py3-none-any.whl",
    "litellm": SNAPSHOTS / "litellm_prices_subset.json",
    "openrouter": SNAPSHOTS / "openrouter_models.json",
    "models-dev-scores": SNAPSHOTS / "modelsdev_models.json",
}


class Clock:
    """A settable clock; ``sleep`` advances it instead of waiting."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += dt.timedelta(seconds=seconds)

    def tick(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


class Server:
    """A real HTTP server on 127.0.0.1: serves set documents, and hangs, fails or truncates on request."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, float]] = {}
        self.hits: dict[str, int] = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                outer.hits[path] = outer.hits.get(path, 0) + 1
                status, body, delay = outer.routes.get(path, (404, b"not found", 0.0))
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve(self, path: str, body: bytes | str | Any, status: int = 200, delay: float = 0.0) -> str:
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
        self.routes[path] = (status, body.encode() if isinstance(body, str) else body, delay)
        return self.url(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def openrouter_doc(models: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """An OpenRouter models response in the real shape, prices given per million tokens."""
    real = json.loads(REAL["openrouter"].read_text())["data"][0]
    data = []
    for or_id, (inp, out) in models.items():
        item = dict(real, id=or_id, name=or_id, created=1777000000)
        item["pricing"] = {"prompt": f"{inp / 1e6:.12f}", "completion": f"{out / 1e6:.12f}"}
        data.append(item)
    return {"data": data}


def modelsdev_doc(providers: dict[str, dict[str, tuple[float, float]]]) -> dict[str, Any]:
    """A models.dev api.json in the real shape: ``{provider: {model id: (input, output) per million}}``."""
    return {provider: {"id": provider, "name": provider, "models": {
        model: {"id": model, "name": model, "cost": {"input": inp, "output": out}}
        for model, (inp, out) in models.items()}} for provider, models in providers.items()}
