import subprocess
import sys

import pytest
from market_builders import build, gp

from satisfice.errors import ConfigError
from satisfice.market import epoch_trends, frontier, gap, pareto
from satisfice.reports import charts


@pytest.fixture(scope="module")
def cat():
    return build([gp(f"c{k}", f"202{k}-0{k + 1}-01", 60 + k, 16.0 / 3**k) for k in range(4)]
                 + [gp(f"o{k}", f"202{k}-0{k + 3}-15", 55 + 2 * k, 4.0 / 3**k, True) for k in range(4)]
                 + [gp("x", "2023-05-01", None, 1.0)])


def test_frontier_chart_png_and_svg(cat, tmp_path):
    r = frontier(cat, "gpqa-diamond", 58)
    assert r.trend is not None
    png = charts.frontier_chart(r, tmp_path / "f.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = charts.frontier_chart(r, tmp_path / "sub" / "f.svg")
    text = svg.read_text()
    assert "<svg" in text and "GPQA Diamond" in text and "3:1 input:output" in text
    assert list(tmp_path.glob(".chart-*")) == []  # no temp files left behind


def test_other_charts(cat, tmp_path):
    assert charts.pareto_chart(pareto(cat, "gpqa-diamond"), tmp_path / "p.png").stat().st_size > 1000
    assert charts.gap_chart(gap(cat, "gpqa-diamond", under=5), tmp_path / "g.svg").stat().st_size > 1000
    trends = epoch_trends(cat, "gpqa-diamond")
    assert trends.trends
    assert charts.trends_chart(trends, tmp_path / "t.pdf").read_bytes()[:4] == b"%PDF"


def test_empty_results_still_draw(tmp_path):
    empty = build([gp("a", "2024-01-01", 10, 1.0)])
    charts.frontier_chart(frontier(empty, "gpqa-diamond", 90), tmp_path / "e1.png")
    charts.gap_chart(gap(empty, "gpqa-diamond"), tmp_path / "e2.png")
    charts.trends_chart(epoch_trends(empty, "gpqa-diamond"), tmp_path / "e3.png")
    charts.pareto_chart(pareto(empty, "mmlu"), tmp_path / "e4.png")
    assert len(list(tmp_path.glob("e*.png"))) == 4


def test_unknown_extension_is_refused_and_writes_nothing(cat, tmp_path):
    with pytest.raises(ConfigError, match=r"\.png"):
        charts.frontier_chart(frontier(cat, "gpqa-diamond", 58), tmp_path / "f.jpg")
    assert list(tmp_path.iterdir()) == []


def test_importing_charts_does_not_import_matplotlib():
    code = "import sys, satisfice.reports.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
