"""Gateway overhead benchmark: direct vs satisfice's gateway vs LiteLLM, TensorZero and Portkey, same fake upstream.

satisfice runs with its durable shared ledger (every spend row journaled before the answer is released), and
again with ``ledger.durability: off`` and with ``--workers 2``. Also measured, as the floor: a bare Starlette +
aiohttp relay (``_bare_relay.py``, no gateway work at all).

Usage: ``.venv/bin/python benchmarks/gateway_overhead.py [--duration 10] [--rate 200] [--connections 50]
[--skip-litellm] [--skip-bare] [--skip-satisfice] [--skip-peers] [--skip-variants] [--model task/bench|bench-model]
[--rate-tool wrk|hey] [--no-pin]``. Needs Debian's ``wrk`` (and ``hey`` for ``--rate-tool hey``) and, unless
skipped, LiteLLM, TensorZero and Portkey under ``.bench-venv/``: run ``scripts/setup_bench.sh`` once. Everything
is reached on 127.0.0.1; every process started is stopped on exit (also on Ctrl-C / SIGTERM).

One target at a time (the others are not running meanwhile): a smoke request, a warm-up at the fixed rate,
latency at a light rate (``--light-rate``, unqueued even for LiteLLM), latency at the fixed rate (p50/p99 from
wrk's own histogram, microsecond resolution), then throughput at saturation (``wrk -t1 -c<connections>``).
By default the system under test is pinned to CPU 0 and wrk and the fake upstream to CPU 1. The CPU time the
system under test spent per request, and the CPU used by unrelated processes meanwhile, are reported too.
Prints one JSON document on stdout; progress and warnings on stderr. Exit status 1 when any request failed
(non-2xx or socket error), a target could not be measured, or satisfice's spend log lost rows; 2 when a tool
is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _apis import run_apis, translation_us  # noqa: E402
from _load import LoadError, LoadResult, hey_run, require_tool, wrk_run  # noqa: E402
from _overheads import NAMES, overheads  # noqa: E402
from _peers import portkey_version, start_portkey, start_tensorzero, tensorzero_version  # noqa: E402
from _procs import CpuMeter, Proc, ProcError, Procs  # noqa: E402
from _targets import (  # noqa: E402
    LITELLM_VENV,
    Target,
    litellm_version,
    machine_info,
    py_loop_ms,
    satisfice_version,
    start_bare_relay,
    start_litellm,
    start_satisfice,
    start_upstream,
)


def log(msg: str) -> None:
    """Progress on stderr (stdout carries only the JSON)."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


@dataclass
class Settings:
    """What the command line asked for."""

    duration: float
    warmup: float
    rate: float
    connections: int
    rate_connections: int
    threads: int
    rate_tool: str
    light_rate: float
    pin: bool
    workdir: Path

    def cpus(self, role: str) -> list[int] | None:
        """CPU pinning: the system under test alone on CPU 0; load generator and fake upstream on CPU 1."""
        if not self.pin:
            return None
        return [0] if role == "sut" else [1]


# --- one measurement --------------------------------------------------------------------------------------------


def smoke(target: Target) -> None:
    """One request; anything but a 200 chat completion stops the run with the answer shown."""
    req = urllib.request.Request(target.url, data=target.body, method="POST",
                                 headers={"Content-Type": "application/json", **target.headers})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise ProcError(f"{target.name}: smoke request got HTTP {exc.code}: {exc.read()[:500]!r}") from None
    if not data.get("choices"):
        raise ProcError(f"{target.name}: smoke request answered without choices: {str(data)[:500]}")


def paced(s: Settings, target: Target, duration: float, rate: float | None = None) -> LoadResult:
    """Latency at the fixed rate (or at ``rate``)."""
    rate = rate or s.rate
    if s.rate_tool == "hey":
        return hey_run(target.url, target.body, target.headers, duration_s=duration, rate=rate,
                       workers=s.rate_connections, cpus=s.cpus("load"))
    return wrk_run(target.url, target.body, target.headers, duration_s=duration, connections=s.rate_connections,
                   threads=1, rate=rate, workdir=s.workdir, cpus=s.cpus("load"))


def measure(s: Settings, target: Target, procs: Procs, sut: Proc | None) -> dict[str, Any]:
    """Warm up, then fixed-rate latency, then saturation throughput; the M object of the report.

    ``cpu.sut_ms_per_request`` is the CPU time the system under test spent per request (all its threads):
    unlike latency and throughput it hardly moves when other processes compete for the cores.
    """
    smoke(target)
    with CpuMeter(procs, sut) as cpu:
        m = _measure(s, target)
    m["cpu"] = cpu.result
    if sut is not None and m["requests_completed"] > 1:
        m["cpu"]["sut_ms_per_request"] = round(1000 * cpu.result["sut_cpu_s"] / (m["requests_completed"] - 1), 3)
    if cpu.result.get("foreign_pct", 0) > 10:
        m["warning_cpu"] = (f"other processes used {cpu.result['foreign_pct']}% of the machine meanwhile: "
                            "these numbers are disturbed")
    return m


def _measure(s: Settings, target: Target) -> dict[str, Any]:
    warm = paced(s, target, s.warmup) if s.warmup > 0 else None
    light: LoadResult | None = None
    if s.light_rate > 0:
        log(f"{target.name}: latency at a light {s.light_rate:g} req/s for {s.duration:g}s ({s.rate_tool})")
        light = paced(s, target, s.duration, s.light_rate)
    log(f"{target.name}: latency at {s.rate:g} req/s for {s.duration:g}s ({s.rate_tool})")
    lat = paced(s, target, s.duration)
    log(f"{target.name}: saturation, {s.connections} connections for {s.duration:g}s (wrk -t{s.threads})")
    sat = wrk_run(target.url, target.body, target.headers, duration_s=s.duration, connections=s.connections,
                  threads=s.threads, workdir=s.workdir, cpus=s.cpus("load"))
    runs = [r for r in (warm, light, lat, sat) if r is not None]
    errors = sum(r.error_count for r in runs)
    m: dict[str, Any] = {
        "rps_max": round(sat.rps, 1),
        "p50_ms": _r(lat.p50_ms),
        "p99_ms": _r(lat.p99_ms),
        "rate": round(lat.rps, 1),
        "rate_target": s.rate,
        "p90_ms": _r(lat.p90_ms),
        "max_ms": _r(lat.max_ms),
        "saturation_p50_ms": _r(sat.p50_ms),
        "saturation_p99_ms": _r(sat.p99_ms),
        "errors": errors,
        "requests_completed": 1 + sum(r.requests for r in runs),
        "light": None if light is None else {"rate": round(light.rps, 1), "rate_target": s.light_rate,
                                             "p50_ms": _r(light.p50_ms), "p99_ms": _r(light.p99_ms),
                                             "errors": light.error_count},
        "runs": {"latency": lat.as_dict(), "saturation": sat.as_dict(),
                 **({"light": light.as_dict()} if light else {}), **({"warmup": warm.as_dict()} if warm else {})},
        **target.info,
    }
    if lat.rps < 0.95 * s.rate:
        m["warning"] = f"did not hold the fixed rate: {lat.rps:.0f} of {s.rate:g} req/s"
    log(f"{target.name}: rps_max={m['rps_max']} p50={m['p50_ms']}ms p99={m['p99_ms']}ms errors={errors}")
    return m


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# --- the run -------------------------------------------------------------------------------------------------------


def run_target(procs: Procs, s: Settings, name: str, start: Callable[[], tuple[Proc | None, Target]],
               report: dict[str, Any], problems: list[str]) -> None:
    """Start one target, measure it, stop it (so an idle server never competes with the next one)."""
    log(f"{name}: starting")
    proc: Proc | None = None
    target: Target | None = None
    try:
        proc, target = start()
        sut = proc or next((p for p in procs.started if p.name == "upstream" and p.alive()), None)
        report[name] = measure(s, target, procs, sut)
        if report[name]["errors"]:
            problems.append(f"{name}: {report[name]['errors']} failed requests")
        if proc is not None and not proc.alive():
            problems.append(f"{name}: the server died during the run")
    except (ProcError, LoadError, OSError, subprocess.SubprocessError, ValueError) as exc:
        report[name] = None
        problems.append(f"{name}: not measured: {exc}")
        log(f"{name}: FAILED: {exc}")
    finally:
        if proc is not None:
            procs.stop(proc)
    if target is not None and target.after_stop is not None and report.get(name):
        extra = target.after_stop()
        report[name].update(extra)
        rows, done = extra.get("spend_log_rows"), report[name]["requests_completed"]
        if isinstance(rows, int) and rows < done:
            problems.append(f"{name}: spend log has {rows} rows for at least {done} completed requests")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line."""
    p = argparse.ArgumentParser(description="Gateway overhead: direct vs satisfice vs LiteLLM (loopback only).")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured run (default 10)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up at the fixed rate (default 2)")
    p.add_argument("--rate", type=float, default=200.0, help="fixed request rate for latency (default 200/s)")
    p.add_argument("--light-rate", type=float, default=20.0,
                   help="also measure latency at this light rate, unqueued even for LiteLLM (0: skip; default 20)")
    p.add_argument("--connections", type=int, default=50, help="connections at saturation (default 50)")
    p.add_argument("--rate-connections", type=int, default=10, help="connections at the fixed rate (default 10)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads at saturation (default 1)")
    p.add_argument("--rate-tool", choices=["wrk", "hey"], default="wrk",
                   help="fixed-rate generator: wrk paced by a Lua schedule (us resolution, default) or hey (0.1 ms)")
    p.add_argument("--no-pin", dest="pin", action="store_false",
                   help="do not pin the system under test to CPU 0 and load/upstream to CPU 1")
    p.add_argument("--model", default="task/bench",
                   help="model sent to satisfice: 'task/bench' (route policy, default) or 'bench-model' (pass-through)")
    p.add_argument("--skip-litellm", action="store_true", help="do not measure LiteLLM (its venv is absent)")
    p.add_argument("--skip-bare", action="store_true",
                   help="do not measure the bare Starlette + aiohttp relay (the floor for a Python relay)")
    p.add_argument("--skip-satisfice", action="store_true", help="do not measure satisfice's gateway")
    p.add_argument("--skip-variants", action="store_true",
                   help="do not measure satisfice with durability off and with --workers 2")
    p.add_argument("--skip-peers", action="store_true", help="do not measure TensorZero and Portkey")
    p.add_argument("--keep-workdir", action="store_true", help="keep configs and server logs (path on stderr)")
    p.add_argument("--apis", action="store_true",
                   help="instead: p50/p99 overhead per client API (chat, responses, messages, embeddings; translated "
                        "and pass-through) at --rate over --rate-connections, for --duration each, in --rounds "
                        "rounds whose order rotates")
    p.add_argument("--rounds", type=int, default=5,
                   help="--apis: rounds; each measures every API and upstream endpoint once, in an order rotated "
                        "by one place per round (default 5)")
    return p.parse_args(argv)


def _apis_main(args: argparse.Namespace, workdir: Path, pin: bool) -> int:
    """The ``--apis`` run: one JSON document with the overhead per client API."""
    speed = py_loop_ms()
    try:
        apis = run_apis(workdir, duration=args.duration, rate=args.rate, connections=args.rate_connections,
                        sut_cpus=[0] if pin else None, load_cpus=[1] if pin else None, log=log,
                        rounds=max(1, args.rounds), warmup=args.warmup)
    except (ProcError, LoadError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"apis": apis, "translation_cpu_us": translation_us(),
                      "settings": {"duration_s": args.duration, "rate": args.rate,
                                   "connections": args.rate_connections, "pinned": pin,
                                   "rounds": max(1, args.rounds), "warmup_s": args.warmup,
                                   "order": "rotated by one place per round"},
                      "machine": {**machine_info(), "py_loop_ms_start": speed,
                                  "loadavg_1m_end": round(os.getloadavg()[0], 2)}}, indent=2))
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the JSON report."""
    args = parse_args(argv)
    try:
        require_tool("wrk")
        if args.rate_tool == "hey":
            require_tool("hey")
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    lit_version = None if args.skip_litellm or args.apis else litellm_version()
    if not args.skip_litellm and not args.apis and lit_version is None:
        print(f"error: LiteLLM not found in {LITELLM_VENV}; run scripts/setup_bench.sh, or pass --skip-litellm",
              file=sys.stderr)
        return 2
    if args.skip_litellm:
        log("LiteLLM skipped: 'litellm' and the ratio will be null (scripts/setup_bench.sh installs it)")
    pin = args.pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    signal.signal(signal.SIGTERM, _interrupt)  # so that the finally blocks stop every server
    workdir = Path(tempfile.mkdtemp(prefix="satisfice-bench-"))
    if args.apis:
        return _apis_main(args, workdir, pin)
    s = Settings(args.duration, args.warmup, args.rate, args.connections, args.rate_connections, args.threads,
                 args.rate_tool, args.light_rate, pin, workdir)
    report: dict[str, Any] = {"direct": None, **{n: None for n in NAMES}}
    problems: list[str] = []
    warnings: list[str] = []
    load_before = os.getloadavg()[0]
    speed_before = py_loop_ms()
    started = time.monotonic()
    try:
        with Procs(workdir) as procs:
            base = start_upstream(procs, s.cpus("load"))
            run_target(procs, s, "direct",
                       lambda: (None, Target("direct", f"{base}/chat/completions")), report, problems)
            if not args.skip_satisfice:
                run_target(procs, s, "satisfice",
                           lambda: start_satisfice(procs, s.workdir, s.cpus("sut"), base, args.model),
                           report, problems)
            if not args.skip_satisfice and not args.skip_variants:
                run_target(procs, s, "satisfice_nodurable",
                           lambda: start_satisfice(procs, s.workdir, s.cpus("sut"), base, args.model,
                                                   name="satisfice_nodurable", durability="off"), report, problems)
                # two workers get both cores (the load generator and the upstream still run on CPU 1)
                run_target(procs, s, "satisfice_workers2",
                           lambda: start_satisfice(procs, s.workdir, None, base, args.model,
                                                   name="satisfice_workers2", workers=2), report, problems)
            if not args.skip_bare:
                run_target(procs, s, "bare_relay", lambda: start_bare_relay(procs, s.cpus("sut"), base),
                           report, problems)
            if not args.skip_litellm:
                run_target(procs, s, "litellm", lambda: start_litellm(procs, s.workdir, s.cpus("sut"), base),
                           report, problems)
            if not args.skip_peers:
                run_target(procs, s, "tensorzero", lambda: start_tensorzero(procs, s.workdir, s.cpus("sut"), base),
                           report, problems)
                run_target(procs, s, "portkey", lambda: start_portkey(procs, s.workdir, s.cpus("sut"), base),
                           report, problems)
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    except ProcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep_workdir:
            log(f"configs and logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    overheads(report)
    report["ok"] = not problems
    report["problems"] = problems
    report["warnings"] = warnings + [f"{n}: {m[w]}" for n in ("direct", *NAMES)
                                     for w in ("warning", "warning_cpu") if (m := report.get(n)) and m.get(w)]
    for line in report["warnings"]:
        log(f"warning: {line}")
    measured = (report[n] for n in ("direct", *NAMES))
    report["errors_total"] = sum(m["errors"] for m in measured if m)
    report["settings"] = {
        "duration_s": s.duration, "warmup_s": s.warmup, "rate": s.rate, "light_rate": s.light_rate,
        "rate_tool": s.rate_tool,
        "rate_connections": s.rate_connections, "saturation": f"wrk -t{s.threads} -c{s.connections}",
        "pinning": "system under test on CPU 0; wrk, hey and the fake upstream on CPU 1" if pin else "none",
        "skipped": [n for n, skip in (("satisfice", args.skip_satisfice), ("bare_relay", args.skip_bare),
                                       ("litellm", args.skip_litellm), ("variants", args.skip_variants),
                                       ("peers", args.skip_peers)) if skip],
    }
    report["machine"] = {**machine_info(), "py_loop_ms_start": speed_before, "loadavg_1m_start": round(load_before, 2),
                         "loadavg_1m_end": round(os.getloadavg()[0], 2)}
    speed_after = report["machine"]["py_loop_ms"]
    if max(speed_before, speed_after) > 1.25 * min(speed_before, speed_after):
        report["warnings"].append(f"the CPU's speed changed during the run (a fixed Python loop took {speed_before} ms "
                                  f"at the start, {speed_after} ms at the end): compare targets with care")
        log(f"warning: {report['warnings'][-1]}")
    report["versions"] = {"litellm": lit_version, "satisfice": satisfice_version(),
                          "tensorzero": None if args.skip_peers else tensorzero_version(),
                          "portkey": None if args.skip_peers else portkey_version()}
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))
    if problems:
        log("NOT CLEAN: " + "; ".join(problems))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
