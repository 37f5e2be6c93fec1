"""One satisfice eval run for ``eval_throughput.py``, with the CPU of the run itself measured apart from start-up.

``satisfice eval run TASK --concurrency C --json --no-cache`` calls :func:`satisfice.evals.api.evaluate` with no
progress sink; this script makes the same call with a sink that samples the process's CPU time (every thread:
the event loop and the store's writer) and a monotonic clock when the run starts (``start``: right before the
first request) and when the last item's result is committed (its last ``update``). Everything before the first
sample is start-up (imports, opening and migrating the store, the bundled catalog, reading the task).

    python benchmarks/_satisfice_eval.py TASK --concurrency C --stats OUT.json

OUT.json: ``startup_cpu_s``, ``run_cpu_s``, ``run_s``, ``items``, ``status``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


class CpuSink:
    """Progress sink: process CPU and clock at the run's start and at its last item (models summed)."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.start_at: tuple[float, float] | None = None
        self.end_at: tuple[float, float] | None = None

    def start(self, model: str, total: int) -> None:
        """A model's items begin: the first call is the run's start."""
        self.totals[model] = total
        if self.start_at is None:
            self.start_at = (time.monotonic(), time.process_time())

    def update(self, model: str, *, done: int, errors: int, spent_usd: float) -> None:
        """Counts so far; sampled only when a model's last item is in (no clock read per item)."""
        if done == self.totals.get(model):
            self.end_at = (time.monotonic(), time.process_time())


def main(argv: list[str] | None = None) -> int:
    """Run the task once (no cache reads), write the CPU figures to ``--stats``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--stats", required=True)
    args = parser.parse_args(argv)
    from satisfice.evals.api import evaluate

    sink = CpuSink()
    results = evaluate(args.task, concurrency=args.concurrency, use_cache=False, progress=sink)
    if sink.start_at is None or sink.end_at is None:
        raise SystemExit(f"the run did not finish every item (status {results.status})")
    stats = {"startup_cpu_s": round(sink.start_at[1], 3), "run_cpu_s": round(sink.end_at[1] - sink.start_at[1], 3),
             "run_s": round(sink.end_at[0] - sink.start_at[0], 3), "items": sum(sink.totals.values()),
             "status": results.status}
    Path(args.stats).write_text(json.dumps(stats), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
