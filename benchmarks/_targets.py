"""The servers the gateway benchmark measures: the fake upstream, satisfice's gateway and the LiteLLM proxy.

TensorZero and Portkey are started by ``_peers.py``.

Each ``start_*`` writes its config into the run's work folder, starts the server through :class:`_procs.Procs`
(loopback only, optionally pinned to CPUs), waits until it answers and returns what to put load on.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _procs import Proc, ProcError, Procs, free_port

ROOT = Path(__file__).resolve().parent.parent
LITELLM_VENV = ROOT / ".bench-venv" / "litellm"
MODEL = "bench-model"
SATISFICE_CLI = [sys.executable, "-m", "satisfice"]
LITELLM_MASTER_KEY = "sk-bench-master-0000"
BODY = json.dumps(
    {"model": MODEL, "messages": [{"role": "user", "content": "Say ok."}], "max_tokens": 5},
    separators=(",", ":"),
).encode()


@dataclass
class Target:
    """Something to put load on: its URL, the headers it needs, and the model name it expects."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = BODY
    info: dict[str, Any] = field(default_factory=dict)
    after_stop: Callable[[], dict[str, Any]] | None = None  # extra facts read once the server has stopped


def start_upstream(procs: Procs, cpus: list[int] | None) -> str:
    """The fake upstream; returns its base URL (``.../v1``)."""
    port = free_port()
    proc = procs.start("upstream", [sys.executable, str(ROOT / "benchmarks" / "_upstream.py"), "--port", str(port)],
                       cpus=cpus)
    proc.wait_http(f"http://127.0.0.1:{port}/v1/models", timeout_s=20)
    return f"http://127.0.0.1:{port}/v1"


SATISFICE_CONFIG = """\
# written by benchmarks/gateway_overhead.py: one fake upstream, one model, one route
auth: true
upstreams:
  - name: fake
    base_url: {base}
    timeout_s: 30
    models: [{model}]
    prices: {{{model}: {{input_per_m: 0.1, output_per_m: 0.2}}}}
models:
  {model}: {{upstreams: [fake]}}
routes:
  task/bench:
    chain: [{model}]
ledger: {{durability: {durability}}}
"""


def _env(changes: dict[str, str | None]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in changes}
    env.update({k: v for k, v in changes.items() if v is not None})
    return env


def _find_key(doc: Any) -> str | None:
    if isinstance(doc, str) and doc.startswith("sk-"):
        return doc
    if isinstance(doc, dict):
        if isinstance(doc.get("key"), str):
            return str(doc["key"])
        doc = list(doc.values())
    if isinstance(doc, list):
        for item in doc:
            found = _find_key(item)
            if found:
                return found
    return None


def start_satisfice(procs: Procs, workdir: Path, cpus: list[int] | None, base: str, model: str, *,
                    name: str = "satisfice", durability: str = "write", workers: int = 1) -> tuple[Proc, Target]:
    """Satisfice's gateway, full path: a virtual key with a large budget, requests to the ``task/bench`` route.

    ``durability`` is the ledger's (``write``: every spend row journaled before its answer; ``off``: rows in memory
    until the next batch); ``workers`` is ``gateway serve --workers``. Each call gets its own store.
    """
    home = workdir / f"{name}-home"
    home.mkdir(exist_ok=True)
    env: dict[str, str | None] = {"SATISFICE_HOME": str(home), "SATISFICE_NO_BUNDLED": "1", "SATISFICE_DB": None}
    config = workdir / f"{name}.yaml"
    config.write_text(SATISFICE_CONFIG.format(base=base, model=MODEL, durability=durability), encoding="utf-8")
    cli = SATISFICE_CLI
    made = subprocess.run([*cli, "gateway", "keys", "create", "--budget-usd", "1000000", "--period", "month",
                           "--json"], capture_output=True, text=True, env=_env(env), timeout=120,
                          check=False)
    key = _find_key(json.loads(made.stdout)) if made.returncode == 0 and made.stdout.strip() else None
    if key is None:
        raise ProcError(f"satisfice gateway keys create failed (exit {made.returncode}): "
                        f"{(made.stderr or made.stdout).strip()[-800:]}")
    port = free_port()
    proc = procs.start(name, [*cli, "gateway", "serve", "--config", str(config), "--port", str(port), "--workers",
                              str(workers)], env=env, cpus=cpus)
    proc.wait_http(f"http://127.0.0.1:{port}/healthz", timeout_s=60)
    body = json.dumps({**json.loads(BODY), "model": model}, separators=(",", ":")).encode()
    target = Target(name, f"http://127.0.0.1:{port}/v1/chat/completions",
                    {"Authorization": f"Bearer {key}"}, body,
                    {"model_requested": model, "durability": durability, "workers": workers},
                    after_stop=lambda: {"spend_log_rows": spend_rows(home / "satisfice.db")})
    return proc, target


def start_bare_relay(procs: Procs, cpus: list[int] | None, base: str) -> tuple[Proc, Target]:
    """The floor: a bare Starlette + aiohttp relay to the same upstream (``benchmarks/_bare_relay.py``)."""
    port = free_port()
    proc = procs.start("bare_relay", [sys.executable, str(ROOT / "benchmarks" / "_bare_relay.py"), "--port",
                                      str(port), "--upstream", base], cpus=cpus)
    proc.wait_http(f"http://127.0.0.1:{port}/v1/models", timeout_s=30)
    return proc, Target("bare_relay", f"http://127.0.0.1:{port}/v1/chat/completions")


def spend_rows(db: Path) -> int | str:
    """Rows in the gateway's spend log after a clean shutdown (every admitted request should have one)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM gateway_spend").fetchone()[0])
    except sqlite3.Error as exc:
        return f"unreadable: {exc}"


LITELLM_CONFIG = """\
# written by benchmarks/gateway_overhead.py
model_list:
  - model_name: {model}
    litellm_params:
      model: openai/{model}
      api_base: {base}
      api_key: sk-fake-upstream
    model_info:
      input_cost_per_token: 0.0000001
      output_cost_per_token: 0.0000002
general_settings:
  master_key: {master}
litellm_settings:
  telemetry: false
"""


def litellm_version() -> str | None:
    """LiteLLM's version in its own venv, or None when that venv is missing."""
    python = LITELLM_VENV / "bin" / "python"
    if not python.exists():
        return None
    out = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                         capture_output=True, text=True, timeout=60, check=False)
    return out.stdout.strip() or None


def start_litellm(procs: Procs, workdir: Path, cpus: list[int] | None, base: str) -> tuple[Proc, Target]:
    """The LiteLLM proxy from ``.bench-venv/litellm``, one uvicorn worker, master key auth, no database."""
    config = workdir / "litellm.yaml"
    config.write_text(LITELLM_CONFIG.format(model=MODEL, base=base, master=LITELLM_MASTER_KEY), encoding="utf-8")
    port = free_port()
    env: dict[str, str | None] = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False",
                                  "NO_PROXY": "127.0.0.1,localhost", "DATABASE_URL": None, "HOME": str(workdir)}
    cmd = [str(LITELLM_VENV / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1", "--port",
           str(port), "--num_workers", "1"]
    proc = procs.start("litellm", cmd, env=env, cpus=cpus, cwd=workdir)
    proc.wait_http(f"http://127.0.0.1:{port}/health/liveliness", timeout_s=120)
    target = Target("litellm", f"http://127.0.0.1:{port}/v1/chat/completions",
                    {"Authorization": f"Bearer {LITELLM_MASTER_KEY}"})
    return proc, target


def machine_info() -> dict[str, Any]:
    """CPU model, cores, kernel, Python, tool versions."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "wrk": (wrk.stdout or wrk.stderr).split("Copyright")[0].strip(), "py_loop_ms": py_loop_ms()}


def py_loop_ms() -> float:
    """Best of 3 timings of a 1M-step pure-Python loop: a rough speed mark to compare runs and machines."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return round(best * 1000, 1)


def satisfice_version() -> str | None:
    """The installed satisfice's version, if any."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("satisfice")
    except PackageNotFoundError:
        return None
