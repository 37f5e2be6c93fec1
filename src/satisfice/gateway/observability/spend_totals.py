"""The spend log's totals in SQL, one definition for ``gateway report`` and the dashboard's rollup.

:func:`spend_totals` gives the aggregate columns of :data:`SPEND_FIELDS`, in that order, for a ``select`` that
adds its own grouping columns and filters. A request counts as an error when its status is 400 or more or its
stream was interrupted; savings are counted only over rows that have a reference cost.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func

from satisfice.store.schema_gateway import GatewaySpend

SPEND_FIELDS = ("requests", "errors", "escalated", "cost", "n_ref", "ref_cost", "cost_with_ref", "usage_invalid",
                "over_reservation")
"""What :func:`spend_totals` computes, in its order."""


def spend_totals() -> list[ColumnElement[Any]]:
    """Aggregates over ``gateway_spend`` rows: one per name of :data:`SPEND_FIELDS` (sums are 0, never NULL)."""
    sp = GatewaySpend
    failed = case((sp.status >= 400, 1), (sp.outcome == "interrupted", 1), else_=0)
    return [
        func.count(),
        func.coalesce(func.sum(failed), 0),
        func.coalesce(func.sum(case((sp.escalations > 0, 1), else_=0)), 0),
        func.coalesce(func.sum(sp.cost_usd), 0.0),
        func.count(sp.reference_cost_usd),
        func.coalesce(func.sum(sp.reference_cost_usd), 0.0),
        func.coalesce(func.sum(case((sp.reference_cost_usd.is_not(None), sp.cost_usd), else_=0.0)), 0.0),
        func.coalesce(func.sum(case((sp.usage_invalid.is_(True), 1), else_=0)), 0),
        func.coalesce(func.sum(case((sp.over_reservation.is_(True), 1), else_=0)), 0),
    ]


__all__ = ["SPEND_FIELDS", "spend_totals"]
