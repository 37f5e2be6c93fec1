"""The insight pages in Debian's Chromium (Playwright) against a real server on 127.0.0.1."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from satisfice.store import Store
from satisfice.web import create_app

from .conftest import HOSTILE_NAME

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                                reason="Debian's chromium is not installed (scripts/setup.sh installs it as root)")


def test_feed_and_insights_render_and_link(insight_store: Store) -> None:
    from playwright.sync_api import sync_playwright

    from web.test_browser import ARGS, ServerThread, Watched

    with ServerThread(create_app(insight_store)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            w: Any = Watched(browser, base)
            page = w.open("/insights")
            assert page.locator("main h1").count() == 1
            assert page.locator("#pipeline-line").inner_text().startswith("Pipeline active · last run ")
            items = page.locator("#insights > li")
            assert items.count() > 10
            first_title = items.first.locator("a").inner_text()
            with page.expect_navigation():
                items.first.locator("a").click()
            w.charts_rendered("first insight")
            assert page.locator("#insight-title").inner_text() == first_title
            assert page.locator("#tldr li").count() >= 1 and page.locator(".card").count() >= 1
            page = w.open("/insights?since=2025-01-20")
            dated = page.locator("#insights .date").all_inner_texts()
            assert dated and min(dated) >= "2025-01-20"
            r1 = page.locator("#insights > li", has_text="DeepSeek-R1").last.locator("a")
            with page.expect_navigation():
                r1.click()
            w.charts_rendered("DeepSeek-R1 insight")
            assert page.locator("script.chart-spec").count() == 1
            assert "46 days after o1" in page.locator("#tldr").inner_text()
            w.open("/insights?since=2026-01-10")
            link = w.page.locator("#insights > li", has_text="Evil").first.locator("a")
            with w.page.expect_navigation():
                link.click()
            w.charts_rendered("hostile insight")
            assert HOSTILE_NAME in w.page.locator("#models").inner_text()  # shown as text; no dialog fired
        finally:
            browser.close()
