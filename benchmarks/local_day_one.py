"""Day one with local models: the sentiment example on a fresh store, first-use calibration included.

Runs ``satisfice.evaluate("examples/sentiment/task.yaml", max_spend=1.0)`` on a new temporary store (so both local
models are benched on the task's prompts first), then again on the same store (calibrated: nothing benched, answers
from the store), and prints one JSON document: wall seconds of each run, each model's price, cost per request and
median latency, the recommendation and what decided it.

Run: ``python benchmarks/local_day_one.py [--limit N]`` (needs xllamacpp and both model packages; several minutes
on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _run(limit: int | None, lines: list[str]) -> tuple[float, Any]:
    import satisfice

    started = time.perf_counter()
    result = satisfice.evaluate(REPO / "examples/sentiment/task.yaml", max_spend=1.0, limit=limit,
                                on_progress=lines.append)
    return time.perf_counter() - started, result


def _doc(seconds: float, result: Any) -> dict[str, Any]:
    return {"wall_s": round(seconds, 1), "recommended": result.recommended, "basis": result.basis,
            "models": [{"model": m.model, "decision": m.decision, "price": m.price_note,
                        "cost_per_request_usd": m.cost_per_request, "latency_p50_ms":
                        None if m.latency_p50_s is None else round(m.latency_p50_s * 1000)} for m in result.models]}


def main() -> None:
    """Run fresh, then calibrated, and print the JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N items")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satisfice-day-one-") as home:
        os.environ["SATISFICE_HOME"] = home
        os.environ.pop("SATISFICE_DB", None)
        lines: list[str] = []
        fresh = _run(args.limit, lines)
        calibrated = _run(args.limit, [])
    print(json.dumps({"load_average_1m": os.getloadavg()[0], "cpus": os.cpu_count(), "limit": args.limit,
                      "calibration": lines, "fresh": _doc(*fresh), "calibrated": _doc(*calibrated)}, indent=2))


if __name__ == "__main__":
    main()
