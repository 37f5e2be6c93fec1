"""Wall time of `satisfice --help` (and `python -c pass` for the interpreter's own start), as JSON.

    .venv/bin/python benchmarks/cli_startup.py [--runs 15]

Each run is a fresh process; the figures are the minimum and median over the runs. The import-time breakdown
behind them: `python -X importtime -m satisfice --help`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time


def _times(command: list[str], runs: int, env: dict[str, str]) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {"SATISFICE_HOME": home, "PATH": "/usr/bin:/bin"}
        subprocess.run([sys.executable, "-m", "satisfice", "--help"], check=True, stdout=subprocess.DEVNULL, env=env)
        report = {}
        for name, command in (("python -c pass", [sys.executable, "-c", "pass"]),
                              ("satisfice --help", [sys.executable, "-m", "satisfice", "--help"]),
                              ("satisfice market --help", [sys.executable, "-m", "satisfice", "market", "--help"])):
            times = _times(command, args.runs, env)
            report[name] = {"min_s": round(min(times), 3), "median_s": round(statistics.median(times), 3),
                            "runs": args.runs}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
