"""Epoch AI's published trend table, reproduced from their input data through our importer.

Published figures: tests/market/data/epoch_published.json (sources named inside it).
"""

import json
from pathlib import Path

import pytest

from satisfice.catalog.repository import apply_batch, load_catalog
from satisfice.catalog.sources import parse_file
from satisfice.market import epoch_trends

DATA = Path(__file__).parent / "data" / "epoch_published.json"
EPOCH_DIR = Path(__file__).resolve().parents[1] / "data" / "shared" / "epoch"
REL = 1e-9  # published at full double precision; their statsmodels fit on raw ordinals agrees to ~1e-11


@pytest.fixture
def published():
    return json.loads(DATA.read_text())


@pytest.fixture
def epoch_result(store):
    files = sorted(EPOCH_DIR.glob("*.csv"))
    assert len(files) == 2, f"Epoch AI's two input files are expected under {EPOCH_DIR}"
    for f in files:
        apply_batch(store, parse_file(f, "epoch"))
    return epoch_trends(load_catalog(store), "all")


def test_same_thresholds_counts_and_factors(epoch_result, published):
    ours = {(t.benchmark, t.threshold): t for t in epoch_result.trends}
    theirs = {(p["benchmark"], p["threshold"]): p for p in published["trends"]}
    assert sorted(ours) == sorted(theirs)
    for key, p in theirs.items():
        t = ours[key]
        assert t.fit is not None
        assert t.n == p["n"], key
        assert (str(t.points[0].date), str(t.points[-1].date)) == (p["start_date"], p["end_date"]), key
        assert t.fit.factor_per_year == pytest.approx(p["factor_per_year"], rel=REL), key
        assert t.fit.ci90[0] == pytest.approx(p["ci90"][0], rel=REL), key
        assert t.fit.ci90[1] == pytest.approx(p["ci90"][1], rel=REL), key
        assert round(t.fit.r2, 2) == p["r2_rounded_2"], key
        assert t.upper_bound == (float("inf") if p["upper_bound"] == "inf" else p["upper_bound"])


def test_same_regression_points(epoch_result, published):
    ours = {(t.benchmark, t.threshold): t for t in epoch_result.trends}
    for p in published["trends"]:
        t = ours[(p["benchmark"], p["threshold"])]
        assert [(str(e.date), e.price, e.score) for e in t.points] == \
            [(q["date"], q["price"], q["score"]) for q in p["points"]], (p["bench"], p["threshold_model"])


def test_same_thresholds_left_out_for_too_few_points(epoch_result, published):
    ours = sorted((t.benchmark, t.threshold, t.n) for t in epoch_result.skipped)
    theirs = sorted((s["benchmark"], s["threshold"], s["n"]) for s in published["skipped"])
    assert ours == theirs


def test_reasoning_models_left_out(epoch_result):
    assert set(epoch_result.excluded_models) == {"o1", "o1-mini", "o1-preview", "o3-mini", "DeepSeek-R1"}
