"""The comparisons the gateway benchmark reports: each gateway minus direct, and throughput ratios.

``overhead_*`` keys are satisfice with its durable shared ledger (the default); ``*_nodurable`` the same gateway
with ``ledger.durability: off`` (spend rows only in memory until the next batch), so their difference is what
durability costs. ``workers2_*`` compare ``gateway serve --workers 2`` with one worker.
"""

from __future__ import annotations

from typing import Any

NAMES = ("satisfice", "satisfice_nodurable", "satisfice_workers2", "bare_relay", "litellm", "tensorzero", "portkey")


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | None:
    return round(a["rps_max"] / b["rps_max"], 2) if a and b and b.get("rps_max") else None


def overheads(report: dict[str, Any]) -> None:
    """Add the comparison keys to ``report`` (None where a side was not measured)."""
    direct, sat = report.get("direct"), report.get("satisfice")

    def diff(m: dict[str, Any] | None, key: str) -> float | None:
        if m is None or direct is None or m.get(key) is None or direct.get(key) is None:
            return None
        return round(float(m[key]) - float(direct[key]), 3)

    report["overhead_p50_ms"] = diff(sat, "p50_ms")
    report["overhead_p99_ms"] = diff(sat, "p99_ms")
    report["throughput_ratio_vs_litellm"] = _ratio(sat, report.get("litellm"))
    report["throughput_ratio_vs_tensorzero"] = _ratio(sat, report.get("tensorzero"))
    report["throughput_ratio_vs_portkey"] = _ratio(sat, report.get("portkey"))
    for name, suffix in (("satisfice_nodurable", "nodurable"), ("tensorzero", "tensorzero"), ("portkey", "portkey"),
                         ("litellm", "litellm"), ("bare_relay", "bare_relay"), ("satisfice_workers2", "workers2")):
        report[f"overhead_p50_ms_{suffix}"] = diff(report.get(name), "p50_ms")
        report[f"overhead_p99_ms_{suffix}"] = diff(report.get(name), "p99_ms")
    nodur = report.get("satisfice_nodurable")
    report["durability_cost_p50_ms"] = (None if report["overhead_p50_ms"] is None
                                        or report["overhead_p50_ms_nodurable"] is None
                                        else round(report["overhead_p50_ms"] - report["overhead_p50_ms_nodurable"], 3))
    report["durability_throughput_ratio"] = _ratio(sat, nodur)
    report["workers2_throughput_ratio_vs_1"] = _ratio(report.get("satisfice_workers2"), sat)
    # names kept from earlier reports
    report["bare_relay_overhead_p50_ms"] = report["overhead_p50_ms_bare_relay"]
    report["bare_relay_overhead_p99_ms"] = report["overhead_p99_ms_bare_relay"]
    report["litellm_overhead_p50_ms"] = report["overhead_p50_ms_litellm"]
    report["litellm_overhead_p99_ms"] = report["overhead_p99_ms_litellm"]

    def light_diff(m: dict[str, Any] | None, key: str) -> float | None:
        if m is None or direct is None or not m.get("light") or not direct.get("light"):
            return None
        a, b = m["light"].get(key), direct["light"].get(key)
        return None if a is None or b is None else round(float(a) - float(b), 3)

    report["light_overhead_ms"] = {name: {"p50": light_diff(report.get(name), "p50_ms"),
                                          "p99": light_diff(report.get(name), "p99_ms")}
                                   for name in NAMES if report.get(name)}


__all__ = ["NAMES", "overheads"]
