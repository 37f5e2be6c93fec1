from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from satisfice.clients.http import HttpTransport
from satisfice.clients.scripted_server import ScriptedServer


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as s:
        yield s


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    """The one transport every model call goes through."""
    t = HttpTransport(timeout_s=5.0)
    try:
        yield t
    finally:
        await t.close()
