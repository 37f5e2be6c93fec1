"""The dashboard in a real browser: Playwright driving Debian's Chromium against a real server on 127.0.0.1.

Each page loads with no console error and no dialog (imported names carry script tags), every chart renders,
and pickers and filters change what is shown. With SATISFICE_SCREENSHOTS=DIR the pages are saved as PNGs there
(the README's screenshots: ``SATISFICE_SCREENSHOTS=docs/screenshots pytest tests/web/test_browser.py``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from satisfice.store import Store
from satisfice.web import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                       reason="Debian's chromium is not installed (scripts/setup.sh installs it as root)"),
]


class ServerThread:
    """uvicorn serving the dashboard on an ephemeral 127.0.0.1 port in a thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def base_url(ro_store: Store) -> Iterator[str]:
    with ServerThread(create_app(ro_store)) as url:
        yield url


@contextlib.contextmanager
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (its own browser download needs the internet)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium_browser() as b:
        yield b


class Watched:
    """A page that records console errors, uncaught exceptions, dialogs and requests to other hosts."""

    def __init__(self, browser: Any, base: str, size: tuple[int, int] = (1280, 860)) -> None:
        self.base = base
        self.page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on("request", lambda r: None if r.url.startswith(base) else self.problems.append(
            f"request to another site: {r.url}"))

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base + path, wait_until="load")
        assert response is not None and response.status == 200, (path, response and response.status)
        self.charts_rendered(path)
        return self.page

    def pick(self, selector: str, value: str) -> Any:
        """Choose ``value`` in a picker: its form submits itself; wait for the new page and its charts."""
        with self.page.expect_navigation():
            self.page.select_option(selector, value)
        self.charts_rendered(f"{self.page.url} after {selector}={value}")
        return self.page

    def charts_rendered(self, path: str) -> None:
        expected = self.page.locator("script.chart-spec").count()
        if expected:
            self.page.wait_for_function(
                "n => document.querySelectorAll('.chart[data-rendered=\"1\"] .main-svg').length >= n", arg=expected,
                timeout=15000)
        assert not self.problems, (path, self.problems)


def test_every_page_renders_without_errors(browser: Any, base_url: str, seeded: tuple[str, list[int]]) -> None:
    w = Watched(browser, base_url)
    pages = {"insights": "/", "market": "/market", "catalog": "/catalog", "model": "/catalog/deepseek-r1",
             "hostile-model": "/catalog/evil-model", "evals": "/evals", "eval-run": f"/evals/{seeded[1][0]}",
             "gateway": "/gateway", "pipeline": "/pipeline"}
    for name, path in pages.items():
        page = w.open(path)
        assert page.locator("main h1").count() == 1
        if name in ("insights", "market", "model", "eval-run", "gateway"):
            assert page.locator("script.chart-spec").count() >= 1, name
    hostile = w.open("/catalog/evil-model")
    assert hostile.locator("#model-name").inner_text().startswith('<script>alert("pwned")</script>')


def test_pickers_and_filters_change_what_is_shown(browser: Any, base_url: str) -> None:
    w = Watched(browser, base_url)
    page = w.open("/market?benchmark=gpqa-diamond&threshold=50")
    before = page.locator("#frontier-table tbody tr").count()
    with page.expect_navigation():
        page.fill("#pick-threshold", "80")
        page.press("#pick-threshold", "Enter")
    w.charts_rendered("/market threshold")
    after = page.locator("#frontier-table tbody tr").count()
    assert 0 < after < before and "threshold=80" in page.url
    page = w.pick("#pick-benchmark", "mmlu")
    assert "benchmark=mmlu" in page.url and "threshold=&" in page.url  # the new benchmark starts at its own bar
    assert page.locator("#pick-threshold").input_value() != "80"
    page = w.pick("#pick-blend", "0.5")
    assert "1:1" in page.locator("#frontier-summary").inner_text()

    page = w.open("/")
    findings = page.locator("#findings").inner_text()
    page = w.pick("#pick-blend", "0.5")
    assert page.locator("#findings").inner_text() != findings and "input_share=0.5" in page.url

    page = w.open("/evals")
    runs = page.locator("#runs tbody tr").count()
    page = w.pick("#filter-task", "extraction")
    assert 0 < page.locator("#runs tbody tr").count() < runs
    assert set(page.locator("#runs tbody tr td:nth-child(2)").all_inner_texts()) == {"extraction"}

    page = w.open("/catalog")
    total = page.locator("#catalog-table tbody tr").count()
    page = w.pick("#filter-weights", "open")
    opened = page.locator("#catalog-table tbody tr").count()
    assert 0 < opened < total
    assert set(page.locator("#catalog-table tbody tr td:nth-child(3)").all_inner_texts()) == {"open"}

    page = w.open("/gateway?days=all")
    month = page.locator("#routes tbody tr td:nth-child(2)").all_inner_texts()
    page = w.pick("#pick-days", "1")
    day = page.locator("#routes tbody tr td:nth-child(2)").all_inner_texts()
    assert day != month
    page = w.pick("#pick-route", "task/sentiment")
    assert "task/sentiment" in page.locator("main h2").all_inner_texts()[1]


@pytest.mark.skipif(not os.environ.get("SATISFICE_SCREENSHOTS"),
                    reason="opt-in: set SATISFICE_SCREENSHOTS=DIR to save them")
def test_screenshots(browser: Any, tmp_path: Path) -> None:
    """The README's screenshots, from a store without the hostile names (PNG, viewport-sized, 1x)."""
    from satisfice.catalog.repository import apply_batch
    from satisfice.catalog.sources import parse_file
    from satisfice.store import open_store
    from satisfice.web import read_only_store

    from .seed import seed_catalog, seed_evals, seed_gateway

    url = f"sqlite:///{tmp_path / 'shots.db'}"
    rw = open_store(url)
    seed_catalog(rw, tmp_path, hostile=False)
    history = Path(__file__).resolve().parents[1] / "data" / "shared" / "openrouter_price_history.json"
    apply_batch(rw, parse_file(history))  # real dated prices per provider for the model page
    from satisfice import pipeline

    snapshots = Path(__file__).resolve().parents[1] / "data" / "pipeline"
    assert pipeline.run(rw, {"litellm": str(snapshots / "litellm_prices_subset.json")})["ok"]
    seed_gateway(rw, 20000, hostile=False)
    runs = seed_evals(rw, 3, hostile=False)
    rw.close()
    folder = Path(os.environ["SATISFICE_SCREENSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    store = read_only_store(url)
    shots = {"insights": "/#lag", "market": "/market?benchmark=gpqa-diamond&threshold=70", "catalog": "/catalog",
             "model": "/catalog/deepseek-r1", "eval-run": f"/evals/{runs[0]}", "gateway": "/gateway",
             "pipeline": "/pipeline"}
    try:
        with ServerThread(create_app(store)) as base:
            w = Watched(browser, base, (1200, 700))
            for name, path in shots.items():
                page = w.open(path)
                page.screenshot(path=str(folder / f"{name}.png"))
                assert (folder / f"{name}.png").stat().st_size <= 150_000, name
    finally:
        store.close()


def test_pipeline_page_after_a_run(browser: Any, store: Store, db_url: str) -> None:
    from satisfice import pipeline
    from satisfice.catalog.bundled import ensure_bundled
    from satisfice.web import read_only_store

    ensure_bundled(store)
    snapshots = Path(__file__).resolve().parents[1] / "data" / "pipeline"
    assert pipeline.run(store, {"litellm": str(snapshots / "litellm_prices_subset.json")})["ok"]
    ro = read_only_store(db_url)
    try:
        with ServerThread(create_app(ro)) as base:
            w = Watched(browser, base)
            page = w.open("/pipeline?days=90")
            assert page.locator("script.chart-spec").count() == 1
            assert "litellm" in page.locator("#sources").inner_text()
            page = w.pick("#pick-days", "1")
            assert "days=1" in page.url
    finally:
        ro.close()
