from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from satisfice.clients.http import HttpTransport
from satisfice.clients.scripted_server import ScriptedServer


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as s:
        yield s


@pytest.fixture(params=[False, True], ids=["aiohttp", "lean"])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[HttpTransport]:
    """The transport both ways: posts through aiohttp, and through the lean pool the gateway uses."""
    t = HttpTransport(timeout_s=5.0, lean_posts=request.param)
    try:
        yield t
    finally:
        await t.close()
