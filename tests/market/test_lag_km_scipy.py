"""The lag analysis's Kaplan-Meier estimate equals scipy's (``scipy.stats.ecdf`` on right-censored data)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from satisfice.market.lag import km_survival, survival_at


@pytest.mark.parametrize("seed", range(20))
def test_km_survival_matches_scipy_ecdf(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 40))
    times = rng.integers(1, 300, n).astype(float)  # ties on purpose
    observed = rng.random(n) > 0.35
    if not observed.any():
        observed[0] = True
    steps = km_survival(times.tolist(), observed.tolist())
    sf = stats.ecdf(stats.CensoredData(uncensored=times[observed], right=times[~observed])).sf
    for t in np.unique(times):
        assert survival_at(steps, float(t)) == pytest.approx(float(sf.evaluate(t)), abs=1e-12)
