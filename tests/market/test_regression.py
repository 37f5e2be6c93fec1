import datetime as dt
import math

import pytest
from scipy import stats

from satisfice.market.regression import fit_price_trend

D0 = dt.date(2023, 1, 1)


def test_exact_halving_per_year_gives_factor_two_and_a_zero_width_interval():
    pts = [(D0 + dt.timedelta(days=365 * k), 8.0 / 2**k) for k in range(4)]
    fit = fit_price_trend(pts)
    assert fit is not None
    assert fit.factor_per_year == pytest.approx(2.0, rel=1e-12)
    assert fit.ci90 == pytest.approx((2.0, 2.0), rel=1e-9)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.n == 4 and fit.start_date == D0 and fit.end_date == D0 + dt.timedelta(days=3 * 365)
    assert fit.predict(D0 + dt.timedelta(days=365)) == pytest.approx(4.0)


def test_matches_scipy_linregress_and_t_interval():
    days = [0, 40, 100, 180, 300, 410]
    prices = [30.0, 12.0, 9.0, 2.5, 1.9, 0.4]
    fit = fit_price_trend([(D0 + dt.timedelta(days=x), p) for x, p in zip(days, prices, strict=True)])
    ref = stats.linregress(days, [math.log10(p) for p in prices])
    t = stats.t.ppf(0.95, len(days) - 2)
    assert fit is not None
    assert fit.slope_per_day == pytest.approx(ref.slope, rel=1e-12)
    assert fit.r2 == pytest.approx(ref.rvalue**2, rel=1e-12)
    assert fit.factor_per_year == pytest.approx(10 ** (-ref.slope * 365), rel=1e-10)
    assert fit.ci90[0] == pytest.approx(10 ** (-(ref.slope + t * ref.stderr) * 365), rel=1e-9)
    assert fit.ci90[1] == pytest.approx(10 ** (-(ref.slope - t * ref.stderr) * 365), rel=1e-9)
    assert fit.ci90[0] < fit.factor_per_year < fit.ci90[1]


@pytest.mark.parametrize("pts", [
    [],
    [(D0, 1.0), (D0 + dt.timedelta(days=9), 0.5)],
    [(D0, 1.0), (D0, 0.5), (D0, 0.2)],
    [(D0, 1.0), (D0 + dt.timedelta(days=1), 0.0), (D0 + dt.timedelta(days=2), 0.5)],
])
def test_cannot_fit_returns_none(pts):
    assert fit_price_trend(pts) is None
