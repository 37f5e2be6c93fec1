"""Running the gateway: uvicorn (uvloop + httptools when installed), 127.0.0.1 by default, one or N workers.

With ``workers > 1`` uvicorn binds the socket once and starts N worker processes that accept from it; each builds
its own :class:`~satisfice.gateway.http.app.Gateway` (its own journal and leases) on the same store, so budgets hold
across them (see :mod:`satisfice.gateway.money.budgets`). A worker that dies is restarted by uvicorn's supervisor,
and its journal is replayed by a live worker.

Connection limits (request head size and time, idle keep-alive, open connections, file-descriptor headroom) are
applied by :mod:`satisfice.gateway.http.connections` in every worker.

The lifespan starts the spend-log writer and key refresher and, on a clean shutdown (SIGINT/SIGTERM), waits
for in-flight requests, finishes shadow checks briefly and writes every queued spend row before exiting.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from satisfice.gateway.http.app import Gateway
from satisfice.gateway.http.connections import ConnectionLimits, raise_file_limit
from satisfice.gateway.routes.config import load_config
from satisfice.store import Store, open_store

CONFIG_ENV = "SATISFICE_GATEWAY_CONFIG"
"""Where a worker of ``--workers N`` finds the config (the store URL comes from ``SATISFICE_DB``)."""


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def build_gateway(config_path: Path, store: Store) -> Gateway:
    """Load the config and resolve every route against the store (eval decisions, catalog prices)."""
    return Gateway(load_config(config_path), store)


def worker_app() -> Any:
    """The ASGI app of one worker process of ``--workers N`` (uvicorn's factory)."""
    from satisfice.config import get_settings

    gateway = build_gateway(Path(os.environ[CONFIG_ENV]), open_store(get_settings().db_url))
    gc.collect()
    gc.freeze()
    return gateway.app


def serve(gateway: Gateway, *, host: str = "127.0.0.1", port: int = 8080, log_level: str = "warning",
          workers: int = 1, config_path: Path | None = None) -> None:
    """Serve until interrupted (blocking); ``workers > 1`` needs ``config_path`` (each worker loads it)."""
    import uvicorn

    from satisfice.ports import check_port_free

    check_port_free(host, port)  # a busy port fails here, in one line, before any banner
    loop = "uvloop" if _available("uvloop") else "asyncio"
    limits = gateway.config.limits
    conn = ConnectionLimits(limits.max_header_bytes, limits.head_timeout_s, limits.keep_alive_s,
                            limits.max_open_connections, limits.fd_headroom)
    raise_file_limit()
    conn.export()
    http: Any = "h11"
    if _available("httptools"):
        from satisfice.gateway.http.connections import GuardedHttpTools

        http = GuardedHttpTools
    guard: dict[str, Any] = {"timeout_keep_alive": limits.keep_alive_s,
                             "h11_max_incomplete_event_size": limits.max_header_bytes}
    print(f"satisfice gateway on http://{host}:{port} ({len(gateway.router.plans)} routes and models; "
          f"auth {'on' if gateway.config.auth else 'off'}; {workers} worker{'s' if workers > 1 else ''})",
          file=sys.stderr, flush=True)
    if not gateway.config.auth and host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: auth is off and the gateway listens on {host}: anyone who can reach it spends your "
              "provider credit", file=sys.stderr, flush=True)
    for upstream in gateway.router.upstreams:
        if upstream.api_key_env and not os.environ.get(upstream.api_key_env):
            print(f"warning: upstream {upstream.name!r}: environment variable {upstream.api_key_env} is not set; "
                  "requests go without a provider key", file=sys.stderr, flush=True)
    if workers > 1:
        if config_path is None:
            raise ValueError("serve(workers > 1) needs config_path")
        os.environ[CONFIG_ENV] = str(config_path.resolve())
        os.environ["SATISFICE_DB"] = gateway.store.url
        uvicorn.run("satisfice.gateway.http.server:worker_app", factory=True, workers=workers, host=host, port=port,
                    loop=loop, http=http, lifespan="on", access_log=False, log_level=log_level,
                    timeout_graceful_shutdown=10, server_header=False, date_header=False, **guard)
        return
    gc.collect()
    gc.freeze()  # start-up objects (config, catalog, SQLAlchemy) leave the collector's view: cheaper collections
    uvicorn.run(gateway.app, host=host, port=port, loop=loop, http=http, lifespan="on", access_log=False,
                log_level=log_level, timeout_graceful_shutdown=10, server_header=False, date_header=False, **guard)


__all__ = ["build_gateway", "serve"]
