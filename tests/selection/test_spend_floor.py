"""The spend floors of ``benchmarks/selection_floor.py``: what no test could beat, pinned on real MBPP outcomes.

The issue's "no passing case above 25% spend" cannot hold for MBPP at a 0.60 bar: gpt-4 (44% of the table's
cost) passes its every-item bound by 2 successes in 299, so even the most powerful fixed-sample test needs
nearly all of its items; the adaptive method must not be reported below that floor.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from satisfice.evals.adaptive import select_adaptive
from satisfice.evals.outcomes import OutcomesTable, load_outcomes

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from selection_floor import floors, np_median_items, np_power, sprt_items  # noqa: E402

MBPP = Path(__file__).resolve().parents[1] / "data" / "shared" / "routerbench" / "mbpp_train_outcomes.csv"


@pytest.fixture(scope="module")
def mbpp() -> OutcomesTable:
    return load_outcomes(MBPP)


@pytest.mark.parametrize(("t", "direction"), [(10, 1), (150, 1), (299, 1), (40, -1), (250, -1)])
def test_most_powerful_test_has_exactly_its_level_under_the_hypothesis(t: int, direction: int) -> None:
    assert np_power(299, 180, 180, t, 0.01, direction) == pytest.approx(0.01, abs=1e-9)


def test_power_rises_to_one_with_every_item() -> None:
    powers = [np_power(299, 180, 205, t, 0.001, +1) for t in (50, 150, 250, 299)]
    assert powers == sorted(powers) and powers[-1] == pytest.approx(1.0)
    assert np_power(299, 180, 150, 299, 0.001, -1) == pytest.approx(1.0)
    # the median item count is where the power first reaches one half
    t = np_median_items(299, 180, 205, 0.001, +1)
    assert np_power(299, 180, 205, t, 0.001, +1) >= 0.5 > np_power(299, 180, 205, t - 1, 0.001, +1)


def test_sprt_told_the_truth_is_exact_at_the_last_item_and_stops_early_on_a_wide_gap() -> None:
    rng = np.random.default_rng(3)
    x = rng.permutation(np.r_[np.ones(250), np.zeros(49)])
    assert sprt_items(x, 180, +1, 1e-3, 250) < 100
    narrow = rng.permutation(np.r_[np.ones(182), np.zeros(117)])
    assert 250 < sprt_items(narrow, 180, +1, 1e-3, 182) <= 299  # a gap of 2 successes: nearly every item


def test_mbpp_at_060_is_out_of_reach_for_any_test_and_adaptive_stays_above_the_floor(mbpp: OutcomesTable) -> None:
    bounds = floors(mbpp, 0.60, 0.95, seed=0)
    assert bounds["floor"] is not None and bounds["floor"] > 0.6  # nearly all of gpt-4 and claude-v2
    spends = []
    for seed in range(3):
        sel = select_adaptive(mbpp, 0.60, seed=seed)
        assert sel.recommended == "gpt-4-1106-preview"
        spends.append(sel.extras["eval_spend"] / sel.extras["exhaustive_spend"])
    assert float(np.median(spends)) >= bounds["floor"]


def test_cheap_passing_case_has_a_low_floor_and_adaptive_is_near_it(mbpp: OutcomesTable) -> None:
    bounds = floors(mbpp, 0.55, 0.95, seed=0)
    assert bounds["floor"] is not None and bounds["oracle"] is not None
    assert bounds["floor"] < 0.05 and bounds["oracle"] < 0.05
    sel = select_adaptive(mbpp, 0.55, seed=0)
    assert sel.extras["eval_spend"] / sel.extras["exhaustive_spend"] < 2 * bounds["oracle"]


def test_fractional_scores_get_no_floor() -> None:
    table = OutcomesTable.from_arrays({"a": [0.5, 1.0, 0.0], "b": [1.0, 0.0, 1.0]},
                                      {"a": [1e-4] * 3, "b": [2e-4] * 3})
    assert floors(table, 0.6, 0.95, seed=0) == {"oracle": None, "floor": None}
