"""Evals and the gateway price from today's catalog: a model the pipeline brought in has a price; one
without a price says so loudly (never $0) and names the command that fetches it."""

from __future__ import annotations

import pytest
from pipeline_helpers import Clock, Server, modelsdev_doc

from satisfice.catalog.repository import load_catalog
from satisfice.errors import ConfigError
from satisfice.evals.pricing import price_for, unknown_price_message
from satisfice.gateway.routes.config import parse_config
from satisfice.gateway.routes.router import build_router, catalog_prices
from satisfice.pipeline import run
from satisfice.store import Store

CONFIG = """
upstreams:
  - {name: up, base_url: "http://127.0.0.1:9/v1", models: [deepseek-v4-pro]}
routes:
  task/x: {chain: [deepseek-v4-pro]}
"""


def test_unknown_price_is_loud_then_the_pipeline_fetches_it(store: Store, server: Server, clock: Clock) -> None:
    before = price_for("deepseek-v4-pro", catalog=load_catalog(store))
    assert not before.known and before.price is None
    assert "satisfice pipeline run" in before.describe()
    assert "never $0" in unknown_price_message("deepseek-v4-pro")
    cfg = parse_config(CONFIG)
    with pytest.raises(ConfigError, match="satisfice pipeline run"):
        build_router(cfg, prices=catalog_prices(store), decisions=lambda task: None)
    run(store, {"models-dev": server.serve("/m", modelsdev_doc({"deepseek": {"deepseek-v4-pro": (0.435, 0.87)}}))},
        now=clock)
    after = price_for("deepseek-v4-pro", catalog=load_catalog(store), today=clock.now.date())
    assert after.known and after.price is not None and after.price.input_per_m == 0.435
    router = build_router(cfg, prices=catalog_prices(store), decisions=lambda task: None)
    assert router is not None
