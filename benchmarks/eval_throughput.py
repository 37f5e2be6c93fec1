"""Eval throughput: satisfice beside inspect_ai on one local server, at 0 ms and 200 ms of server latency.

A fake OpenAI-compatible server (``_latency_upstream.py``: uvloop + httptools, every answer after a fixed think
time, counting requests in flight) serves both runners. For each latency and concurrency C, each runner
evaluates N items (one model, exact match) from a fresh store / log folder, as its own process, timed by
``/usr/bin/time`` (wall, CPU, peak RSS). The evaluation's own duration ``eval_s`` comes from each runner's
timestamps (satisfice's run row, inspect_ai's log stats); ``startup_s`` = wall - eval_s is reported and excluded:

- ``items_per_s`` = N / eval_s;
- ``share_of_ideal`` = (N x latency / C) / eval_s: 1.0 is the latency bound (200 ms runs only);
- ``peak_in_flight``: the most requests the server saw at once (what C actually reached);
- ``cpu_s`` / ``cpu_ms_per_item``: the whole process, start-up included; for satisfice also the run alone
  (``_satisfice_eval.py``: process CPU, every thread, sampled right before the first request and when the last
  result is committed): ``run_cpu_s``, ``run_cpu_ms_per_item``, ``run_s`` (that span's wall time) and
  ``startup_cpu_s`` (CPU before the first request);
- ``server_cpu_s``: the fake server's CPU during the run (it shares the machine); ``foreign_pct``: CPU used by
  other processes meanwhile, as a share of the whole machine (a few percent is background; more means the
  wall-clock figures of that row were disturbed).

``bare_client`` (``_bare_eval_client.py``) is the floor: the simplest client doing the same HTTP work (same bodies,
C keep-alive connections, answers parsed and compared) with nothing else (no store, no durability, no retries).
Its share of the ideal is what any Python client reaches on this machine and server; satisfice's rows also give
``share_of_floor`` = bare_client's eval_s / satisfice's eval_s in the same configuration.

satisfice runs through ``_satisfice_eval.py``, which calls ``evaluate()`` as ``satisfice eval run --json
--no-cache`` does, with a progress sink that samples the CPU clock.

inspect_ai runs from its own virtual environment (``.bench-venv/inspect``: ``python -m venv .bench-venv/inspect &&
.bench-venv/inspect/bin/pip install inspect-ai openai``), its ``openai`` provider pointed at the same server
with ``OPENAI_BASE_URL``. Without it the inspect_ai rows say "not installed".

    .venv/bin/python benchmarks/eval_throughput.py [--items 2000] [--latencies 0,200] [--concurrency 32,128,512]
        [--runners bare_client,satisfice,inspect_ai] [--repeat 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _procs import CpuMeter, Proc, Procs, free_port

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
INSPECT = REPO / ".bench-venv" / "inspect" / "bin" / "inspect"
MODEL, MAX_TOKENS = "bench-model", 5
"""What every runner asks for, so that they send the same request bodies."""

INSPECT_TASK = '''
from inspect_ai import Task, task
from inspect_ai.dataset import FieldSpec, json_dataset
from inspect_ai.scorer import exact
from inspect_ai.solver import generate


@task
def bench():
    return Task(dataset=json_dataset("data.jsonl", FieldSpec(input="text", target="label", id="id")),
                solver=generate(), scorer=exact())
'''


def write_task(folder: Path, n: int, base_url: str) -> Path:
    """The same N items for both runners: a JSONL dataset, a satisfice task file and an inspect_ai task."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": f"r{i}", "text": f"Review {i}: it was fine. Positive or negative?", "label": "ok"}
            for i in range(n)]
    (folder / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "task.yaml").write_text(f"""name: throughput
dataset:
  path: data.jsonl
  fields: {{text: text, target: label, id: id}}
prompt:
  user: "{{{{ text }}}}"
  max_tokens: {MAX_TOKENS}
scorer:
  type: exact
candidates:
  - id: bench
    base_url: {base_url}
    provider_model: {MODEL}
    input_per_m: 0.1
    output_per_m: 0.2
""", encoding="utf-8")
    (folder / "inspect_task.py").write_text(INSPECT_TASK, encoding="utf-8")
    return folder / "task.yaml"


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Run ``cmd`` under /usr/bin/time: wall and CPU seconds, peak RSS in MB; raises on failure."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name, *cmd]
        done = subprocess.run(full, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {done.stderr[-1500:]}{done.stdout[-500:]}")
        wall, user, sys_s, rss_kb = tf.read().split()[-4:]
    return {"wall_s": float(wall), "cpu_s": float(user) + float(sys_s), "peak_rss_mb": float(rss_kb) / 1024}


def _stats(url: str, reset: bool = False) -> dict[str, Any]:
    req = urllib.request.Request(url + "/stats", method="POST" if reset else "GET", data=b"" if reset else None)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return dict(json.loads(resp.read()))


def runner_cmd(runner: str, folder: Path, c: int, logdir: Path, server: str) -> list[str]:
    """The command line of one run (satisfice and bare_client write their figures to ``logdir``/cpu.json)."""
    if runner == "bare_client":
        return [str(REPO / ".venv" / "bin" / "python"), str(HERE / "_bare_eval_client.py"), str(folder / "data.jsonl"),
                server + "/v1", "--model", MODEL, "--max-tokens", str(MAX_TOKENS), "--concurrency", str(c),
                "--stats", str(logdir / "cpu.json")]
    if runner == "satisfice":
        return [str(REPO / ".venv" / "bin" / "python"), str(HERE / "_satisfice_eval.py"), str(folder / "task.yaml"),
                "--concurrency", str(c), "--stats", str(logdir / "cpu.json")]
    return [str(INSPECT), "eval", "inspect_task.py", "--model", f"openai/{MODEL}",
            "-M", "responses_api=false", "--max-connections", str(c), "--max-samples", str(c),
            "--log-dir", str(logdir), "--log-format", "json", "--display", "none"]


def busy_seconds(runner: str, home: Path) -> float:
    """The evaluation's own duration, from the runner's timestamps (start-up and shut-down excluded).

    satisfice: the run row's ``started_at``/``finished_at`` in the store; inspect_ai: the log's
    ``stats.started_at``/``completed_at``; bare_client: its first request to its last answer.
    """
    if runner == "bare_client":
        return float(json.loads((home / "logs" / "cpu.json").read_text(encoding="utf-8"))["run_s"])
    if runner == "satisfice":
        with sqlite3.connect(home / "satisfice.db") as db:
            start, end = db.execute("SELECT started_at, finished_at FROM eval_runs ORDER BY id DESC LIMIT 1").fetchone()
    else:
        log = json.loads(next((home / "logs").glob("*.json")).read_text(encoding="utf-8"))
        if log.get("status") != "success":
            raise RuntimeError(f"inspect_ai run ended {log.get('status')}: {str(log.get('error'))[:500]}")
        start, end = log["stats"]["started_at"], log["stats"]["completed_at"]
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


def measure(runner: str, folder: Path, server: str, n: int, c: int, latency_s: float,
            work: Path, meter: tuple[Procs, Proc]) -> dict[str, Any]:
    """One runner at one (latency, concurrency), from a fresh store / log folder."""
    if runner == "inspect_ai" and not INSPECT.exists():
        return {"runner": runner, "error": "not installed (.bench-venv/inspect)"}
    home = Path(tempfile.mkdtemp(dir=work))
    (home / "logs").mkdir()
    env = {**os.environ, "OPENAI_BASE_URL": server + "/v1", "OPENAI_API_KEY": "bench", "NO_COLOR": "1",
           "INSPECT_LOG_LEVEL": "warning", "SATISFICE_HOME": str(home)}
    _stats(server, reset=True)
    with CpuMeter(*meter) as cpu:
        t = timed(runner_cmd(runner, folder, c, home / "logs", server), env, folder)
    stats = _stats(server)
    busy = busy_seconds(runner, home)
    row: dict[str, Any] = {
        "runner": runner, "concurrency": c, "latency_ms": latency_s * 1000, "items": n, "wall_s": t["wall_s"],
        "startup_s": round(t["wall_s"] - busy, 2), "eval_s": round(busy, 3), "cpu_s": round(t["cpu_s"], 2),
        "peak_rss_mb": round(t["peak_rss_mb"], 1), "requests": stats["requests"],
        "peak_in_flight": stats["peak_in_flight"], "items_per_s": round(n / busy, 1),
        "cpu_ms_per_item": round(1000 * t["cpu_s"] / n, 3), "server_cpu_s": cpu.result["sut_cpu_s"],
        "foreign_pct": cpu.result.get("foreign_pct")}
    if runner == "satisfice":
        own = json.loads((home / "logs" / "cpu.json").read_text(encoding="utf-8"))
        row.update(startup_cpu_s=own["startup_cpu_s"], run_cpu_s=own["run_cpu_s"], run_s=own["run_s"],
                   run_cpu_ms_per_item=round(1000 * own["run_cpu_s"] / n, 3))
    if latency_s > 0:
        row["share_of_ideal"] = round(n * latency_s / c / busy, 3)
    return row


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median ``eval_s`` (the lower middle one of an even count), listing every run's ``eval_s``."""
    timed_runs = sorted((r for r in runs if "eval_s" in r), key=lambda r: r["eval_s"])
    if not timed_runs:
        return runs[0]
    row = dict(timed_runs[(len(timed_runs) - 1) // 2])
    if len(runs) > 1:
        row["eval_s_runs"] = [r["eval_s"] for r in runs if "eval_s" in r]
    return row


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run every configuration for both runners, print one JSON document."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--latencies", default="0,200", help="server think times in ms, comma-separated")
    parser.add_argument("--concurrency", default="32,128,512", help="comma-separated")
    parser.add_argument("--runners", default="bare_client,satisfice,inspect_ai")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each runner per configuration, in turns; the row is the median run by eval_s, "
                             "with every run's eval_s in eval_s_runs")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, Procs(Path(tmp)) as procs:
        work = Path(tmp)
        for latency in (float(x) for x in args.latencies.split(",")):
            port = free_port()
            proc = procs.start(f"upstream-{latency:g}", [sys.executable, str(HERE / "_latency_upstream.py"),
                                                         "--port", str(port), "--latency-ms", str(latency)],
                               cwd=HERE)
            server = f"http://127.0.0.1:{port}"
            proc.wait_http(server + "/stats", timeout_s=20)
            folder = work / f"task-{latency:g}"
            write_task(folder, args.items, server + "/v1")
            for c in (int(x) for x in args.concurrency.split(",")):
                tries: dict[str, list[dict[str, Any]]] = {}
                for _ in range(args.repeat):  # the runners take turns, so a disturbance touches each alike
                    for runner in args.runners.split(","):
                        started = time.monotonic()
                        row = measure(runner, folder, server, args.items, c, latency / 1000.0, work, (procs, proc))
                        row["bench_s"] = round(time.monotonic() - started, 1)
                        tries.setdefault(runner, []).append(row)
                        print(json.dumps(row), file=sys.stderr, flush=True)
                chosen = {runner: median_run(runs) for runner, runs in tries.items()}
                floor = chosen.get("bare_client")
                for runner, row in chosen.items():
                    if runner == "satisfice" and floor is not None and "eval_s" in floor and "eval_s" in row:
                        row["share_of_floor"] = round(floor["eval_s"] / row["eval_s"], 3)
                    rows.append(row)
            procs.stop(proc)
    print(json.dumps({"items": args.items, "cpus": os.cpu_count(), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
