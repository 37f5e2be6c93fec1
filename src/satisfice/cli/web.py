"""`satisfice web`: serve the read-only dashboard (loopback by default; a token for any other address)."""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Annotated

import typer

from satisfice.cli.common import err_console, state
from satisfice.errors import ConfigError

TOKEN_ENV = "SATISFICE_WEB_TOKEN"
MIN_TOKEN_CHARS = 16
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~+/=-]{" + str(MIN_TOKEN_CHARS) + ",}")
"""Characters a token may use: they travel unquoted in a header, a cookie and a query string."""
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
"""Host names a loopback dashboard without a token answers to (a rebound name of another site is refused)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> str | None:
    """The token to require, checked: any address but loopback needs one of at least 16 characters."""
    token = token or None
    if token is not None and not TOKEN_CHARS.fullmatch(token):
        raise ConfigError(f"--token (or {TOKEN_ENV}) must be at least {MIN_TOKEN_CHARS} characters of "
                          "A-Z a-z 0-9 . _ ~ + / = -")
    if token is None and not is_loopback(host):
        raise ConfigError(f"--host {host} exposes the dashboard beyond this machine: set --token (or {TOKEN_ENV})")
    return token


def register(root: typer.Typer) -> None:
    """Attach ``satisfice web`` to the root app."""

    @root.command("web")
    def web_command(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help="Interface to bind (default: loopback only).")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8090,
        token: Annotated[str | None, typer.Option(help=f"Access token (or {TOKEN_ENV}); required for any "
                                                  "address but loopback.", show_default=False)] = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    ) -> None:
        """Serve the read-only dashboard: insights, market, catalog, evals, gateway, pipeline (JSON under /api)."""
        import uvicorn

        from satisfice.ports import check_port_free
        from satisfice.web import create_app, read_only_store

        required = check_binding(host, token if token is not None else os.environ.get(TOKEN_ENV))
        check_port_free(host, port)  # a busy port fails here, in one line, before any banner
        st = state(ctx)
        st.store().close()  # create, migrate and load the bundled catalog once; pages only read
        hosts = LOOPBACK_NAMES if is_loopback(host) and required is None else None
        app = create_app(read_only_store(st.settings.db_url), token=required, warm=True, hosts=hosts)
        shown = f"[{host}]" if ":" in host else host
        err_console.print(f"satisfice web on http://{shown}:{port}/" + (" (token required)" if required else ""),
                          highlight=False)
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
