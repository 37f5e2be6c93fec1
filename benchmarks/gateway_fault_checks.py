"""Cost per request of the gateway's fault checks on the hot path, each timed alone (best of 5 runs).

The journal line with its crc32 and sequence number against the plain line it replaced, the journal's
"writable?" check made before admitting a request, and the circuit breaker looked up per (upstream, model)
against one breaker per upstream.

Usage: ``.venv/bin/python benchmarks/gateway_fault_checks.py [--number 200000]``; prints one JSON document
(nanoseconds per call).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import timeit
from collections.abc import Callable
from typing import Any

import orjson

from satisfice.gateway.money.journal_records import encode
from satisfice.gateway.money.ledger import SpendRow
from satisfice.gateway.wire.upstream import Breaker, Upstream


def main() -> None:
    """Time each check; print one JSON document."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--number", type=int, default=200_000)
    args = p.parse_args()
    row = SpendRow(created_at=time.time(), key_id="key_abcdef123456", route="task/bench", endpoint="chat",
                   stream=False, models_tried='["bench-model@a"]', model="bench-model", upstream="a", input_tokens=12,
                   output_tokens=40, tokens_estimated=False, cost_usd=0.000123, reference_cost_usd=0.0004,
                   latency_ms=1.234, escalations=0, errors="[]", status=200, outcome="ok",
                   entry_id="gw_0123456789abcdef:12345", usage_invalid=False, over_reservation=False,
                   reserved_usd=0.0012, upstream_api="chat", lease_epoch=1765000000000000)

    class Journal:
        fault: str | None = None

    journal: Any = Journal()
    upstream = Upstream("a", "http://127.0.0.1:1", None, 1.0, {}, Breaker(5, 30.0))
    checks: dict[str, Callable[[], object]] = {
        "journal_line_before": lambda: orjson.dumps(["m2026-12", *row[:-1]]) + b"\n",
        "journal_line_crc32_seq": lambda: encode([12345, "m2026-12", *row]),
        "journal_writable_check": lambda: journal is not None and journal.fault is not None,
        "breaker_per_upstream": lambda: upstream.breaker.allows(1.0),
        "breaker_per_upstream_model": lambda: upstream.breaker_for("bench-model").allows(1.0),
    }
    out: dict[str, Any] = {name + "_ns": round(min(timeit.repeat(fn, number=args.number, repeat=5))
                                              / args.number * 1e9, 1) for name, fn in checks.items()}
    out["loadavg_1m"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
