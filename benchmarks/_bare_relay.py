"""The floor for the gateway benchmark: the bare relay the gateway issue describes, and nothing else.

Starlette + uvicorn (uvloop, httptools), one route, each request body posted to the upstream through one shared
aiohttp ``ClientSession`` and the answer returned as is. No keys, budgets, routing, spend log or metrics: what a
Python relay costs on this machine before any gateway work, so the report can say how much of satisfice's
overhead is its own.

Run: ``python benchmarks/_bare_relay.py --port N --upstream http://127.0.0.1:M/v1`` (binds 127.0.0.1 only).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build(upstream: str) -> Starlette:
    """The relay app for ``upstream`` (a base URL ending in ``/v1``)."""
    url = upstream.rstrip("/") + "/chat/completions"
    state: dict[str, aiohttp.ClientSession] = {}

    async def relay(request: Request) -> Response:
        body = await request.body()
        async with state["session"].post(url, data=body, headers={"Content-Type": "application/json"}) as r:
            data = await r.read()
            return Response(data, status_code=r.status, media_type="application/json")

    async def models(request: Request) -> Response:
        return Response(b'{"object":"list","data":[]}', media_type="application/json")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512))
        yield
        await state["session"].close()

    return Starlette(routes=[Route("/v1/chat/completions", relay, methods=["POST"]),
                             Route("/v1/models", models, methods=["GET"])], lifespan=lifespan)


def main() -> None:
    """Serve until stopped."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True)
    args = p.parse_args()
    uvicorn.run(build(args.upstream), host="127.0.0.1", port=args.port, loop="uvloop", http="httptools",
                access_log=False, log_level="warning", server_header=False, date_header=False)


if __name__ == "__main__":
    main()
