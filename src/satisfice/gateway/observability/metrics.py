"""Prometheus metrics of one gateway (its own registry, so several gateways can live in one process).

The request path only adds to plain dicts (no locks: everything runs on the event loop); a custom collector
turns them into Prometheus metric families when ``/metrics`` is scraped. So a request pays a few dict updates.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Upper bounds (seconds) of the request latency histogram."""


class GatewayMetrics:
    """Counters and a latency histogram for requests, rejections, escalations, upstream errors, cost, shadows."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str], float] = {}
        self.rejections: dict[str, float] = {}
        self.escalations: dict[str, float] = {}
        self.upstream_errors: dict[tuple[str, str], float] = {}
        self.cost: dict[str, float] = {}
        self.shadows: dict[tuple[str, str], float] = {}
        self.branches: dict[tuple[str, str], float] = {}
        self.usage_invalid: dict[tuple[str, str], float] = {}
        self.tokens_estimated: dict[tuple[str, str], float] = {}
        self.over_reservation: dict[tuple[str, str], float] = {}
        self._latency: dict[str, list[int]] = {}
        self._latency_sum: dict[str, float] = {}
        self._gauges: list[tuple[str, str, Callable[[], float]]] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def request(self, route: str, status: int, seconds: float, cost: float) -> None:
        """Count one admitted request."""
        key = (route, str(status))
        self.requests[key] = self.requests.get(key, 0.0) + 1.0
        counts = self._latency.get(route)
        if counts is None:
            counts = self._latency[route] = [0] * (len(BUCKETS) + 1)
            self._latency_sum[route] = 0.0
        counts[bisect_left(BUCKETS, seconds)] += 1
        self._latency_sum[route] += seconds
        if cost:
            self.cost[route] = self.cost.get(route, 0.0) + cost

    def rejection(self, reason: str) -> None:
        """Count one request rejected before any upstream call."""
        self.rejections[reason] = self.rejections.get(reason, 0.0) + 1.0

    def escalation(self, route: str) -> None:
        """Count one escalation to the next model."""
        self.escalations[route] = self.escalations.get(route, 0.0) + 1.0

    def upstream_error(self, upstream: str, kind: str) -> None:
        """Count one failed upstream attempt."""
        key = (upstream, kind)
        self.upstream_errors[key] = self.upstream_errors.get(key, 0.0) + 1.0

    def usage_flags(self, route: str, upstream: str, *, estimated: bool, invalid: bool, over: bool) -> None:
        """Count a request billed an estimate, given an invalid usage, and/or billed above its reservation."""
        key = (route, upstream)
        if estimated:
            self.tokens_estimated[key] = self.tokens_estimated.get(key, 0.0) + 1.0
        if invalid:
            self.usage_invalid[key] = self.usage_invalid.get(key, 0.0) + 1.0
        if over:
            self.over_reservation[key] = self.over_reservation.get(key, 0.0) + 1.0

    def shadow(self, route: str, outcome: str) -> None:
        """Count one shadow check (``agree``, ``disagree``, ``error``, ``skipped``)."""
        key = (route, outcome)
        self.shadows[key] = self.shadows.get(key, 0.0) + 1.0

    def policy_branch(self, route: str, branch: str) -> None:
        """Count which branch of a route's policy chose the plan (e.g. ``routed``, ``cascade``, ``fallback``)."""
        key = (route, branch)
        self.branches[key] = self.branches.get(key, 0.0) + 1.0

    def gauge(self, name: str, doc: str, read: Callable[[], float]) -> None:
        """A gauge read at scrape time (queue lengths and the like)."""
        self._gauges.append((name, doc, read))

    def collect(self) -> Iterator[Metric]:
        """Metric families for the registry (called on scrape)."""
        yield _counter("satisfice_gateway_requests", "Admitted requests by route and final HTTP status",
                       ["route", "status"], self.requests)
        yield _counter("satisfice_gateway_rejections", "Requests rejected before any upstream call, by reason",
                       ["reason"], {(k,): v for k, v in self.rejections.items()})
        yield _counter("satisfice_gateway_escalations", "Answers that failed a verifier and were escalated",
                       ["route"], {(k,): v for k, v in self.escalations.items()})
        yield _counter("satisfice_gateway_upstream_errors", "Failed upstream attempts by upstream and kind",
                       ["upstream", "kind"], self.upstream_errors)
        yield _counter("satisfice_gateway_cost_usd", "Upstream spend in USD", ["route"],
                       {(k,): v for k, v in self.cost.items()})
        yield _counter("satisfice_gateway_usage_invalid", "Requests whose upstream reported a usage that failed the "
                       "checks (billed the gateway's estimate)", ["route", "upstream"], self.usage_invalid)
        yield _counter("satisfice_gateway_tokens_estimated", "Requests billed the gateway's token estimate (the "
                       "upstream's usage was missing or invalid)", ["route", "upstream"], self.tokens_estimated)
        yield _counter("satisfice_gateway_over_reservation", "Requests that cost more than their reservation "
                       "(billed in full)", ["route", "upstream"], self.over_reservation)
        yield _counter("satisfice_gateway_shadow_checks", "Shadow checks by outcome", ["route", "outcome"],
                       self.shadows)
        yield _counter("satisfice_gateway_policy_branches", "Requests by the branch of the route's policy that "
                       "planned them", ["route", "branch"], self.branches)
        hist = HistogramMetricFamily("satisfice_gateway_request_seconds", "Time from request to last byte",
                                     labels=["route"])
        for route, counts in self._latency.items():
            cumulative, buckets = 0, []
            for bound, count in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            hist.add_metric([route], buckets, self._latency_sum[route])
        yield hist
        for name, doc, read in self._gauges:
            yield GaugeMetricFamily(name, doc, value=read())

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """Current value of a sample (for tests and checks); 0 when absent."""
        got = self.registry.get_sample_value(name, labels or {})
        return float(got) if got is not None else 0.0

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return bytes(generate_latest(self.registry))


def _counter(name: str, doc: str, labels: list[str], values: Mapping[Any, float]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=labels)
    for key, value in values.items():
        family.add_metric(list(key), value)
    return family


__all__ = ["BUCKETS", "GatewayMetrics"]
