"""Drift alarms: is a route's recent accuracy, from its recorded outcomes, surely below the route's bar?

For a route with ``drift: {bar, confidence, window}``, every ``check_s`` the gateway takes the scores of the
answers it actually served (outcomes of the model that answered each request, one per request, feedback
before shadow before verifier) over the most recent ``window`` scored requests, computes the betting
confidence sequence on them (:func:`satisfice.evals.sequences.confidence_sequence`, each side at
``(1 - confidence) / 2``), and raises the alarm when its upper bound is below the bar. The result goes to the
store (``gateway_drift``, read by ``satisfice gateway report``) and to ``/metrics``
(``satisfice_gateway_drift_alarm`` and ``satisfice_gateway_accuracy_upper_bound`` by route).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import numpy as np
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from satisfice.evals.sequences import confidence_sequence
from satisfice.gateway.loop.background import cancel
from satisfice.gateway.loop.outcomes import best_scores
from satisfice.gateway.money.keys import utcnow
from satisfice.gateway.routes.config import GatewayConfig
from satisfice.gateway.routes.loop_config import DriftConfig
from satisfice.store import Store
from satisfice.store.schema_outcomes import GatewayDrift

log = logging.getLogger("satisfice.gateway")


def served_scores(session: Session, route: str, window: int, kinds: list[str]) -> np.ndarray:
    """Scores of the served answers of the ``window`` most recent scored requests, oldest first."""
    marks = ", ".join(f":k{i}" for i in range(len(kinds)))
    rows = session.execute(text(
        "SELECT o.request_id, o.kind, o.score FROM gateway_outcomes o JOIN gateway_spend s "
        "ON s.entry_id = o.request_id AND s.model = o.model "
        f"WHERE o.route = :r AND o.superseded = :f AND o.kind IN ({marks}) ORDER BY o.id DESC LIMIT :n"),
        {"r": route, "f": False, "n": window * len(kinds), **{f"k{i}": k for i, k in enumerate(kinds)}}).all()
    scores = list(best_scores((r[0], r[1], r[2]) for r in reversed(rows)).values())
    return np.array(scores[-window:], dtype=float)


def check_route(store: Store, route: str, cfg: DriftConfig) -> GatewayDrift:
    """Compute a route's drift check and store it (replacing the previous one)."""
    with store.transaction() as session:
        scores = served_scores(session, route, cfg.window, list(cfg.evidence))
        low, high = confidence_sequence(scores, cfg.confidence, horizon=cfg.window)
        row = GatewayDrift(route=route, checked_at=utcnow(), bar=cfg.bar, confidence=cfg.confidence,
                           window=cfg.window, scored=int(scores.size),
                           accuracy=float(scores.mean()) if scores.size else None, ci_low=low, ci_high=high,
                           alarm=bool(scores.size and high < cfg.bar))
        row = session.merge(row)
        session.flush()
        session.expunge(row)
        return row


def load_drift(store: Store) -> list[GatewayDrift]:
    """Every route's latest drift check, by route."""
    with store.session() as session:
        rows = list(session.scalars(select(GatewayDrift).order_by(GatewayDrift.route)))
        session.expunge_all()
        return rows


class DriftMonitor(Collector):
    """Checks the watched routes in the background and exposes the result as Prometheus gauges."""

    def __init__(self, config: GatewayConfig, store: Store) -> None:
        self.store = store
        self.routes = {name: r.drift for name, r in config.routes.items() if r.drift is not None}
        self.latest: dict[str, GatewayDrift] = {}
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> None:
        """Check every watched route now."""
        for route, cfg in self.routes.items():
            row = await asyncio.to_thread(check_route, self.store, route, cfg)
            if row.alarm and not (route in self.latest and self.latest[route].alarm):
                log.warning("gateway: drift alarm on %s: recent accuracy is at most %.3f, below its bar %.3f",
                            route, row.ci_high, row.bar)
            self.latest[route] = row

    async def _run(self) -> None:
        interval = min(c.check_s for c in self.routes.values())
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check()
            except Exception:  # the next round tries again
                log.exception("gateway: drift check failed")

    def start(self) -> None:
        """Start the background checks (inside a running event loop)."""
        if self.routes and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="satisfice-drift")

    async def stop(self) -> None:
        """Stop the background checks."""
        task, self._task = self._task, None
        await cancel(task)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """``satisfice_gateway_drift_alarm`` and ``satisfice_gateway_accuracy_upper_bound`` by route."""
        alarm = GaugeMetricFamily("satisfice_gateway_drift_alarm", "1 when a route's recent accuracy is surely "
                                  "below its bar", labels=["route"])
        upper = GaugeMetricFamily("satisfice_gateway_accuracy_upper_bound", "Anytime-valid upper bound on a "
                                  "route's recent accuracy", labels=["route"])
        for route, row in self.latest.items():
            alarm.add_metric([route], 1.0 if row.alarm else 0.0)
            upper.add_metric([route], row.ci_high)
        yield alarm
        yield upper


__all__ = ["DriftMonitor", "check_route", "load_drift", "served_scores"]
