"""What a person reads on each dashboard page, in Chromium, at three data sizes.

Each page is rendered with (a) an empty store, (b) the catalog with one gateway request and one eval run and
(c) the catalog with 100,000 spend rows and 50 eval runs; the test then reads the chart titles and tick labels
from the DOM and the page's visible text: no scientific notation ("e-0"), no SI "μ" on any axis, no tick label
twice on one axis, no time ticks finer than the data (seconds on daily or hourly buckets), no literal entity
such as "&lt;" (double escaping), and no table date wrapped over two lines. With SATISFICE_SCREENSHOTS=DIR each
page at each size is saved as ``DIR/pages/<size>-<page>.jpg`` (``SATISFICE_SCREENSHOTS=docs/screenshots``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from satisfice.store import open_store
from satisfice.web import create_app, read_only_store

from .seed import seed_catalog, seed_evals, seed_gateway
from .test_browser import ServerThread, Watched, chromium_browser, pytestmark  # noqa: F401

READ = """() => [...document.querySelectorAll('.chart')].map(div => ({
  id: div.id,
  title: [...div.querySelectorAll('.gtitle')].map(t => t.textContent).join(' '),
  axes: [...div.querySelectorAll('g.xaxislayer-above, g.yaxislayer-above')].map(g => ({
    name: (g.querySelector('.xtick') ? 'x' : 'y') + ':' + div.id,
    ticks: [...g.querySelectorAll('.xtick text, .ytick text')].map(t => t.textContent)})),
  axisTitles: [...div.querySelectorAll('.xtitle, .ytitle')].map(t => t.textContent),
  legend: [...div.querySelectorAll('.legendtext')].map(t => t.textContent),
  xtype: div._fullLayout && div._fullLayout.xaxis ? div._fullLayout.xaxis.type : null,
  xrange: div._fullLayout && div._fullLayout.xaxis ? div._fullLayout.xaxis.range : null,
}))"""
WRAPPED_DATES = """() => [...document.querySelectorAll('td')].filter(td => /^\\d{4}-\\d{2}-\\d{2}$/.test(
  td.innerText.trim().replace(/\\s+/g, '')) && td.innerText.trim().includes('\\n')).map(td => td.innerText)"""
SUB_SECOND = re.compile(r"\d:\d\d:\d\d|\.\d{3}")


def _build(kind: str, folder: Path) -> tuple[str, list[int]]:
    url = f"sqlite:///{folder / f'{kind}.db'}"
    store = open_store(url)
    runs: list[int] = []
    try:
        if kind == "one":
            seed_catalog(store, folder)
            seed_gateway(store, 1, days=1)
            runs = seed_evals(store, 1, items=20)
        elif kind == "large":
            seed_catalog(store, folder)
            seed_gateway(store, 100_000, days=365)
            runs = seed_evals(store, 50, items=40)
    finally:
        store.close()
    return url, runs


@pytest.fixture(scope="module", params=["empty", "one", "large"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str,
                                                                                                         list[int]]]:
    url, runs = _build(request.param, tmp_path_factory.mktemp(request.param))
    store = read_only_store(url)
    try:
        with ServerThread(create_app(store)) as base:
            yield request.param, base, runs
    finally:
        store.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with chromium_browser() as b:  # one browser for the three data sizes
        yield b


def _pages(kind: str, runs: list[int]) -> dict[str, str]:
    pages = {"insights": "/", "market": "/market", "catalog": "/catalog", "evals": "/evals", "gateway": "/gateway",
             "gateway-day": "/gateway?days=1",
             "gateway-all": "/gateway?days=all", "pipeline": "/pipeline"}
    if kind != "empty":  # an empty store has no model to show
        pages["model"] = "/catalog/deepseek-r1"
    if runs:
        pages["eval-run"] = f"/evals/{runs[-1]}"
    return pages


def _problems(path: str, charts: list[dict[str, Any]], text: str) -> list[str]:
    found = []
    for where, body in (("page text", text), *((f"chart {c['id']}", repr(c)) for c in charts)):
        for bad in ("e-0", "e+0", "&lt;", "&gt;", "&amp;", "μ", "NaN", "undefined"):
            if bad in body:
                found.append(f"{path} {where}: {bad!r}")
    for c in charts:
        for axis in c["axes"]:
            ticks = [t for t in axis["ticks"] if t.strip()]
            if len(set(ticks)) != len(ticks):
                found.append(f"{path} {axis['name']}: duplicated tick labels {ticks}")
            if axis["name"].startswith("x") and c["xtype"] == "date" and any(SUB_SECOND.search(t) for t in ticks):
                found.append(f"{path} {axis['name']}: ticks finer than the data {ticks}")
    return found


def test_what_a_person_reads(chromium: Any, site: tuple[str, str, list[int]]) -> None:
    kind, base, runs = site
    w = Watched(chromium, base)
    problems: list[str] = []
    rendered = 0
    shots = Path(os.environ["SATISFICE_SCREENSHOTS"]) / "pages" if os.environ.get("SATISFICE_SCREENSHOTS") else None
    for name, path in _pages(kind, runs).items():
        page = w.open(path)
        if shots is not None:  # every page at every size, as it looks (docs/screenshots/pages)
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"{kind}-{name}.jpg"), type="jpeg", quality=50)
        charts = page.evaluate(READ)
        rendered += len(charts)
        problems += _problems(path, charts, page.locator("body").inner_text())
        problems += [f"{path}: date wrapped {d!r}" for d in page.evaluate(WRAPPED_DATES)]
        for c in charts:
            if c["title"] == "" and c["axes"]:
                problems.append(f"{path} chart {c['id']}: no title")
    w.page.close()
    assert not problems, "\n".join(problems)
    assert rendered >= (0 if kind == "empty" else 8), rendered
