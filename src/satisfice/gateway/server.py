"""Running the gateway: one uvicorn worker (uvloop + httptools when installed), 127.0.0.1 by default.

The lifespan starts the spend-log writer and key refresher and, on a clean shutdown (SIGINT/SIGTERM), waits
for in-flight requests, finishes shadow checks briefly and writes every queued spend row before exiting.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
from pathlib import Path

from satisfice.gateway.app import Gateway
from satisfice.gateway.config import load_config
from satisfice.store import Store


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def build_gateway(config_path: Path, store: Store) -> Gateway:
    """Load the config and resolve every route against the store (eval decisions, catalog prices)."""
    return Gateway(load_config(config_path), store)


def serve(gateway: Gateway, *, host: str = "127.0.0.1", port: int = 8080, log_level: str = "warning") -> None:
    """Serve until interrupted (blocking)."""
    import uvicorn

    loop = "uvloop" if _available("uvloop") else "asyncio"
    http = "httptools" if _available("httptools") else "h11"
    print(f"satisfice gateway on http://{host}:{port} ({len(gateway.router.plans)} routes and models; "
          f"auth {'on' if gateway.config.auth else 'off'})", file=sys.stderr, flush=True)
    if not gateway.config.auth and host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: auth is off and the gateway listens on {host}: anyone who can reach it spends your "
              "provider credit", file=sys.stderr, flush=True)
    for upstream in gateway.router.upstreams:
        if upstream.api_key_env and not os.environ.get(upstream.api_key_env):
            print(f"warning: upstream {upstream.name!r}: environment variable {upstream.api_key_env} is not set; "
                  "requests go without a provider key", file=sys.stderr, flush=True)
    gc.collect()
    gc.freeze()  # start-up objects (config, catalog, SQLAlchemy) leave the collector's view: cheaper collections
    uvicorn.run(gateway.app, host=host, port=port, loop=loop, http=http, lifespan="on", access_log=False,
                log_level=log_level, timeout_graceful_shutdown=10, server_header=False, date_header=False)


__all__ = ["build_gateway", "serve"]
