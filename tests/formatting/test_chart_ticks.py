"""The matplotlib charts' tick labels, read from their SVG text: 1-2-5 log ticks, dollars by the one formatter."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from satisfice.reports.selfhost_chart import selfhost_chart

LEVELS = [{"concurrency": c, "output_tokens_per_s": 40.0 * c ** 0.7, "input_tokens_per_s": 300.0 * c ** 0.7,
           "usd_per_m_output": 6.1 / c ** 0.1, "usd_per_m_input": 4.2 / c ** 0.1, "usd_per_m_blended": 4.6 / c ** 0.1}
          for c in (1, 2, 4, 8)]


def _texts(path: Path) -> list[str]:
    """The visible strings of an SVG written with ``svg.fonttype: none`` (text kept as text)."""
    body = path.read_text(encoding="utf-8")
    return [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<text[^>]*>(.*?)</text>", body, re.S)]


def _svg(draw: object, path: Path) -> list[str]:
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):
        draw(path)  # type: ignore[operator]
    return _texts(path)


def test_selfhost_chart_narrow_dollar_range_reads(tmp_path: Path) -> None:
    texts = _svg(lambda p: selfhost_chart(LEVELS, p, title="bench", best_concurrency=4), tmp_path / "s.svg")
    dollars = [t for t in texts if re.fullmatch(r"\$[\d,.]+", t)]
    assert dollars and len(set(dollars)) == len(dollars), dollars
    assert set(dollars) <= {"$1", "$2", "$5", "$10", "$20"}, dollars  # 1-2-5 ticks around $3.7-$6.1
    joined = " ".join(texts)
    for bad in ("×10", "e-0", "e+0", "μ", "10^"):
        assert bad not in joined, (bad, texts)


@pytest.mark.parametrize("kind", ["frontier", "pareto", "cost"])
def test_market_charts_log_ticks(kind: str, tmp_path: Path) -> None:
    from satisfice.catalog.bundled import ensure_bundled
    from satisfice.catalog.repository import load_catalog
    from satisfice.market.cost import cost
    from satisfice.market.frontier import frontier
    from satisfice.market.pareto import pareto
    from satisfice.reports import charts
    from satisfice.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        ensure_bundled(store)
        cat = load_catalog(store)
    finally:
        store.close()
    draw = {"frontier": lambda p: charts.frontier_chart(frontier(cat, "gpqa-diamond", 70.0), p),
            "pareto": lambda p: charts.pareto_chart(pareto(cat, "gpqa-diamond", dt.date(2026, 1, 1)), p),
            "cost": lambda p: charts.cost_chart(cost(cat, ["gpt-4.1", "deepseek-r1", "gpt-4o-mini"], 1e8), p)}[kind]
    texts = _svg(draw, tmp_path / f"{kind}.svg")
    ticks = [t for t in texts if re.fullmatch(r"\$(0\.0*)?[125][0,]*", t)]  # 1-2-5 values; bars carry amounts
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks), texts
    assert not any(bad in " ".join(texts) for bad in ("×10", "e-0", "e+0", "μ")), texts
