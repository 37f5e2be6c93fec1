"""Log-linear price trend: ordinary least squares of log10(price) on the date as a day number.

This is the fit Epoch AI used (statsmodels ``ols('log_price ~ date')`` with
``date = Timestamp.toordinal()``), computed by ``scipy.stats.linregress``: the factor per year is
``10 ** (-slope * 365)`` and its 90% interval comes from the two-sided t-interval on the slope with ``n - 2``
degrees of freedom (``conf_int(alpha=0.1)``). The dates are centred before fitting, which changes nothing in the
result but keeps the arithmetic exact to double precision.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from satisfice.core import DAYS_PER_YEAR  # Epoch AI converts the daily slope with 365 days per year


@dataclass(frozen=True)
class TrendFit:
    """A fitted exponential decline of price over time."""

    factor_per_year: float
    """Price divides by this much per year (> 1 means falling)."""
    ci90: tuple[float, float]
    """90% interval of ``factor_per_year`` (low, high)."""
    r2: float
    n: int
    slope_per_day: float
    """Slope of log10(price) per day."""
    intercept: float
    """log10(price) at day number 0 (``date.toordinal() == 0``)."""
    start_date: dt.date
    end_date: dt.date

    def predict(self, date: dt.date) -> float:
        """Fitted price on a date."""
        return float(10 ** (self.intercept + self.slope_per_day * date.toordinal()))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (the keys of the issue's contract first)."""
        return {
            "factor_per_year": self.factor_per_year,
            "ci90": [self.ci90[0], self.ci90[1]],
            "r2": self.r2,
            "n": self.n,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "slope_log10_per_day": self.slope_per_day,
        }


def fit_price_trend(points: Sequence[tuple[dt.date, float]]) -> TrendFit | None:
    """Fit ``log10(price) = a + b * day`` by least squares; None when it cannot be fitted.

    It cannot be fitted with fewer than 3 points (no degrees of freedom for the interval), with a
    non-positive price, or when every point falls on the same day.
    """
    from scipy import stats

    n = len(points)
    if n < 3 or any(price <= 0 or not math.isfinite(price) for _, price in points):
        return None
    xs = [float(d.toordinal()) for d, _ in points]
    ys = [math.log10(p) for _, p in points]
    x_mean = math.fsum(xs) / n
    dx = [x - x_mean for x in xs]
    if max(dx) == min(dx):
        return None
    if max(ys) == min(ys):  # a flat price: an exact fit with no spread
        slope, se, r2 = 0.0, 0.0, 1.0
    else:
        fit = stats.linregress(dx, ys)
        slope, se, r2 = float(fit.slope), float(fit.stderr), float(fit.rvalue) ** 2
    y_mean = math.fsum(ys) / n
    t = float(stats.t.ppf(0.95, n - 2))
    low_slope, high_slope = slope - t * se, slope + t * se
    return TrendFit(
        factor_per_year=10 ** (-slope * DAYS_PER_YEAR),
        ci90=(10 ** (-high_slope * DAYS_PER_YEAR), 10 ** (-low_slope * DAYS_PER_YEAR)),
        r2=r2,
        n=n,
        slope_per_day=slope,
        intercept=y_mean - slope * x_mean,
        start_date=min(d for d, _ in points),
        end_date=max(d for d, _ in points),
    )
