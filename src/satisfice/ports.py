"""Checking that a TCP port can be listened on before a server prints its banner or loads anything."""

from __future__ import annotations

import socket

from satisfice.errors import ConfigError


def check_port_free(host: str, port: int) -> None:
    """Raise ConfigError (one line naming the port) when ``host:port`` cannot be bound for listening.

    Binds and closes a socket with ``SO_REUSEADDR`` set, as uvicorn and llama.cpp's server do, so a port left
    in TIME_WAIT counts as free and only a port another process listens on (or a host that is not local) fails.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host!r}: cannot resolve it ({exc.strerror or exc})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            reason = "already in use" if exc.errno in (98, 48, 10048) else (exc.strerror or str(exc))
            raise ConfigError(f"port {port} on {host} is {reason}: stop what listens there or pass --port "
                              "with another port") from None


__all__ = ["check_port_free"]
