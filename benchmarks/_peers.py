"""The peer gateways the benchmark measures beside satisfice: TensorZero (Rust) and Portkey (Node).

TensorZero comes from its PyPI wheel (which embeds the Rust gateway) in ``.bench-venv/tensorzero``; ``_tz_serve.py``
starts it with ``tensorzero._start_http_gateway`` (no ClickHouse, no PostgreSQL: observability off) and prints
its URL. Portkey comes from npm (``@portkey-ai/gateway``) in ``.bench-venv/portkey``, run by Node with
``--headless``; the upstream is chosen per request with ``x-portkey-provider: openai`` and
``x-portkey-custom-host``. ``scripts/setup_bench.sh`` installs both. A peer that is not installed is reported
as not measured, with the reason, never estimated.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from _procs import Proc, ProcError, Procs, free_port
from _targets import BODY, ROOT, Target

TZ_VENV = ROOT / ".bench-venv" / "tensorzero"
PORTKEY_DIR = ROOT / ".bench-venv" / "portkey"
PORTKEY_SERVER = PORTKEY_DIR / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"

TZ_CONFIG = """\
# written by benchmarks/gateway_overhead.py
[models.bench-model]
routing = ["fake"]

[models.bench-model.providers.fake]
type = "openai"
model_name = "bench-model"
api_base = "{base}/"
api_key_location = "none"
"""


def _version(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


def tensorzero_version() -> str | None:
    """The tensorzero wheel's version in its venv, or None when absent."""
    python = TZ_VENV / "bin" / "python"
    if not python.exists():
        return None
    return _version([str(python), "-c", "import importlib.metadata as m; print(m.version('tensorzero'))"])


def portkey_version() -> str | None:
    """The installed @portkey-ai/gateway version, or None when it (or Node) is absent."""
    if not PORTKEY_SERVER.exists() or shutil.which("node") is None:
        return None
    try:
        meta = json.loads((PORTKEY_SERVER.parent.parent / "package.json").read_text())
    except (OSError, ValueError):
        return None
    node = _version(["node", "--version"])
    return f"{meta.get('version')} (node {node})"


def _wait_line(log: Path, prefix: str, proc: Proc, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc.alive():
            raise ProcError(f"{proc.name} exited early: {log.read_text(errors='replace')[-800:]}")
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith(prefix):
                return line.strip()
        time.sleep(0.1)
    raise ProcError(f"{proc.name} did not print its URL within {timeout_s:g}s")


def start_tensorzero(procs: Procs, workdir: Path, cpus: list[int] | None, base: str) -> tuple[Proc, Target]:
    """TensorZero's gateway (from its wheel) in front of the same fake upstream, OpenAI-compatible endpoint."""
    if tensorzero_version() is None:
        raise ProcError(f"tensorzero not installed in {TZ_VENV} (scripts/setup_bench.sh installs it)")
    config = workdir / "tensorzero.toml"
    config.write_text(TZ_CONFIG.format(base=base), encoding="utf-8")
    proc = procs.start("tensorzero", [str(TZ_VENV / "bin" / "python"), str(ROOT / "benchmarks" / "_tz_serve.py"),
                                      str(config)], cpus=cpus, env={"RUST_LOG": "error"})
    url = _wait_line(workdir / "tensorzero.log", "http://", proc, 60)
    body = json.dumps({**json.loads(BODY), "model": "tensorzero::model_name::bench-model"},
                      separators=(",", ":")).encode()
    proc.wait_http(url.removesuffix("/openai/v1") + "/health", timeout_s=30)
    return proc, Target("tensorzero", f"{url}/chat/completions", {}, body, {"observability": "off (no database)"})


def start_portkey(procs: Procs, workdir: Path, cpus: list[int] | None, base: str) -> tuple[Proc, Target]:
    """Portkey's open-source gateway on Node, headless, upstream chosen per request by headers."""
    if portkey_version() is None:
        raise ProcError(f"@portkey-ai/gateway not installed in {PORTKEY_DIR} or node missing "
                        "(scripts/setup_bench.sh installs it)")
    port = free_port()
    proc = procs.start("portkey", ["node", str(PORTKEY_SERVER), f"--port={port}", "--headless"], cpus=cpus,
                       cwd=workdir, env={"NODE_ENV": "production"})
    headers = {"x-portkey-provider": "openai", "x-portkey-custom-host": base, "Authorization": "Bearer sk-fake"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "Ready" not in (workdir / "portkey.log").read_text(errors="replace"):
        if not proc.alive():
            raise ProcError(f"portkey exited early: {(workdir / 'portkey.log').read_text(errors='replace')[-800:]}")
        time.sleep(0.2)
    return proc, Target("portkey", f"http://127.0.0.1:{port}/v1/chat/completions", headers, BODY,
                        {"binds": "all interfaces (no host option in start-server.js); measured on 127.0.0.1"})


__all__ = ["portkey_version", "start_portkey", "start_tensorzero", "tensorzero_version"]
