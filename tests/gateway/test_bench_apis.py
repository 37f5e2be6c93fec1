"""The interleaving of ``gateway_overhead.py --apis``: rotated rounds and paired per-round differences."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from _apis import TARGETS, rotated, summarize  # noqa: E402

NAMES = ["chat", "responses_translated", "messages_translated", "responses_passthrough", "messages_passthrough",
         "embeddings_passthrough"]


def test_every_item_takes_every_place_over_as_many_rounds() -> None:
    items = list(range(10))
    orders = [rotated(items, r) for r in range(10)]
    assert all(sorted(order) == items for order in orders)
    assert {order.index(3) for order in orders} == set(range(10))


def _round(drift: float, extra: dict[str, float]) -> dict[str, dict[str, Any]]:
    """A round in which the machine adds ``drift`` ms to everything and each target its own ``extra``."""
    got: dict[str, dict[str, Any]] = {f"direct:{e}": {"p50_ms": 0.2 + drift, "p99_ms": 1.0 + drift}
                                      for e in ("chat", "responses", "messages", "embeddings")}
    for name in NAMES:
        got[name] = {"p50_ms": 1.0 + drift + extra.get(name, 0.0), "p99_ms": 3.0 + drift, "rate": 100.0,
                     "foreign_cpu_pct": 50.0, "gateway_cpu_ms_per_request": 1.0 + extra.get(name, 0.0)}
    return got


def test_paired_differences_cancel_the_drift_of_the_machine() -> None:
    assert [t[0] for t in TARGETS].count("chat") == 1
    # messages_translated is 0.1 ms slower than chat in every round; the machine drifts by up to 3 ms per round
    # (applied to one target alone in one round, as a late burst of other work would)
    rounds = [_round(d, {"messages_translated": 0.1}) for d in (0.0, 3.0, 1.0)]
    rounds[1]["responses_translated"]["p50_ms"] += 2.0
    report = summarize(rounds)
    assert report["messages_translated"]["vs_chat_p50_ms"] == 0.1
    assert report["messages_translated"]["vs_chat_p50_ms_range"] == [0.1, 0.1]
    assert report["responses_translated"]["vs_chat_p50_ms"] == 0.0
    assert report["responses_translated"]["vs_chat_p50_ms_range"] == [0.0, 2.0]
    assert report["chat"]["overhead_p50_ms"] == 0.8 and report["chat"]["overhead_p50_ms_rounds"] == [0.8] * 3
    assert report["messages_translated"]["vs_chat_cpu_ms"] == 0.1
    assert report["chat_last"]["overhead_p50_ms"] == 0.8  # the key older reports had: chat in the last round
