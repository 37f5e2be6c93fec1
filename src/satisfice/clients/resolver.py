"""Host-name look-ups for the connection pool, made once per origin and kept for a few seconds.

Without it every new connection asks the system resolver again: an eval at ``--concurrency 512`` opens 512
connections at once and made 512 look-ups of the same name, through the event loop's small pool of resolver
threads, before its first request could leave. Here concurrent look-ups of one (host, port) share one call, its
addresses are kept for ``ttl_s`` (10 s, as aiohttp's connector keeps them; ``getaddrinfo`` gives no TTL), an
address that refused is moved behind the others, and an origin none of whose addresses answered is looked up
afresh next time. IP literals are never looked up.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

Address = tuple[str, int]

_MAX_HOSTS = 1024


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Resolver:
    """Addresses per (host, port), shared by concurrent callers and kept ``ttl_s`` seconds."""

    def __init__(self, ttl_s: float = 10.0) -> None:
        self.ttl_s = ttl_s
        self._known: dict[Address, tuple[float, list[Address]]] = {}
        self._pending: dict[Address, asyncio.Task[list[Address]]] = {}

    async def addresses(self, host: str, port: int) -> list[Address]:
        """Where to connect for ``host``:``port``, in the order to try (raises OSError when the name is unknown)."""
        key = (host, port)
        loop = asyncio.get_running_loop()
        known = self._known.get(key)
        if known is not None and known[0] > loop.time():
            return known[1]
        if _literal(host):
            return [key]
        task = self._pending.get(key)
        if task is None:
            task = self._pending[key] = loop.create_task(self._lookup(host, port))
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(task)  # one caller giving up does not cancel the others' look-up

    async def _lookup(self, host: str, port: int) -> list[Address]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found = list(dict.fromkeys((str(info[4][0]), int(info[4][1])) for info in infos))
        if not found:
            raise OSError(f"no address for {host}")
        if len(self._known) >= _MAX_HOSTS:
            self._known.clear()
        self._known[(host, port)] = (loop.time() + self.ttl_s, found)
        return found

    def refused(self, host: str, port: int, address: Address) -> None:
        """``address`` did not answer: try it after the others from now on."""
        known = self._known.get((host, port))
        if known is not None and address in known[1]:
            rest = [a for a in known[1] if a != address]
            self._known[(host, port)] = (known[0], [*rest, address])

    def forget(self, host: str, port: int) -> None:
        """None of the origin's addresses answered: look it up again next time."""
        self._known.pop((host, port), None)


__all__ = ["Resolver"]
