"""A bounded load test in-process: 5,000 requests at 50 concurrent, with the full request path on."""

from __future__ import annotations

import asyncio
import gc
import os

import orjson

from satisfice.clients.scripted_server import ScriptedServer
from satisfice.gateway.money.keys import create_key
from satisfice.store import Store

from .conftest import base_config, chat, make_gateway, running, spend_rows


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_load_5000_requests_50_concurrent(store: Store) -> None:
    async with ScriptedServer(default="ok", record=False) as upstream:
        key = create_key(store, budget_usd=1000).key
        cfg = base_config(upstream.base_url, auth=True, routes={"t": {"chain": ["small", "big"],
                                                                       "verifiers": ["non_empty"]}})
        gw = make_gateway(store, cfg)
        bodies = [orjson.dumps(chat("small", "hi", max_tokens=8)), orjson.dumps(chat("task/t", "hi", max_tokens=8))]
        statuses: dict[int, int] = {}

        async def worker(client: object, n: int) -> None:
            for i in range(n):
                resp = await client.post("/v1/chat/completions", content=bodies[i % 2])  # type: ignore[attr-defined]
                statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

        async with running(gw, key) as client:
            await asyncio.gather(*(worker(client, 10) for _ in range(50)))  # warm-up: 500
            gc.collect()
            before = rss_bytes()
            await asyncio.gather(*(worker(client, 90) for _ in range(50)))  # 4,500 more
            gc.collect()
            after = rss_bytes()
    assert statuses == {200: 5000}
    rows = spend_rows(store)
    assert len(rows) == 5000 and all(r.status == 200 for r in rows)
    assert {r.route for r in rows} == {"small", "task/t"}
    # memory roughly flat: allow 40 MB of allocator noise, far below what leaking 4,500 requests' state would need
    print(f"RSS before {before / 2**20:.1f} MiB, after {after / 2**20:.1f} MiB")
    assert after - before < 40 * 1024 * 1024, (before, after)
