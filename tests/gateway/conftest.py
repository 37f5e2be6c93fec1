from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from satisfice.clients.scripted_server import ScriptedServer
from satisfice.gateway.http.app import Gateway
from satisfice.gateway.money.keys import create_key
from satisfice.gateway.routes.config import parse_config
from satisfice.store import Store
from satisfice.store.schema_gateway import GatewayShadow, GatewaySpend

FAKE_PROVIDER_KEY = "sk-provider-SECRET-0123456789abcdef"
PRICE = {"input_per_m": 1.0, "output_per_m": 2.0}


def base_config(*urls: str, **extra: Any) -> dict[str, Any]:
    """Upstreams a, b, ... serving models small and big (each upstream serves both), priced."""
    upstreams = []
    for i, url in enumerate(urls):
        upstreams.append({"name": chr(ord("a") + i), "base_url": url, "api_key_env": "GW_TEST_PROVIDER_KEY",
                          "timeout_s": 2.0, "models": {"small": "small-wire", "big": None},
                          "prices": {"small": PRICE, "big": {"input_per_m": 10.0, "output_per_m": 20.0}}})
    cfg: dict[str, Any] = {"auth": False, "upstreams": upstreams, "spend_log": {"flush_interval_s": 0.05}}
    cfg.update(extra)
    return cfg


def make_gateway(store: Store, cfg: dict[str, Any], tmp: Path | None = None, **kwargs: Any) -> Gateway:
    return Gateway(parse_config(yaml.safe_dump(cfg), base_dir=tmp), store, **kwargs)


@asynccontextmanager
async def running(gw: Gateway, key: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with gw.running():
        transport = httpx.ASGITransport(app=gw.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw", headers=headers,
                                     timeout=30) as client:
            yield client


def chat(model: str = "small", text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def spend_rows(store: Store) -> list[GatewaySpend]:
    with store.session() as s:
        return list(s.scalars(select(GatewaySpend).order_by(GatewaySpend.id)))


def shadow_rows(store: Store) -> list[GatewayShadow]:
    with store.session() as s:
        return list(s.scalars(select(GatewayShadow).order_by(GatewayShadow.id)))


def errors_of(row: GatewaySpend) -> list[str]:
    return list(json.loads(row.errors))


@pytest.fixture(autouse=True)
def _provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_TEST_PROVIDER_KEY", FAKE_PROVIDER_KEY)


@pytest.fixture
async def upstream() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer(default="ok") as server:
        yield server


@pytest.fixture
async def upstream2() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer(default="from b") as server:
        yield server


@pytest.fixture
def new_key(store: Store) -> Callable[..., str]:
    def make(budget_usd: float | None = None, period: str = "month") -> str:
        return create_key(store, budget_usd=budget_usd, period=period, name="test").key

    return make
