"""`satisfice web` as a real process: loopback by default, a token for any other address, one-line errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from satisfice.cli import app
from satisfice.cli.web import check_binding, is_loopback
from satisfice.errors import ConfigError


def test_binding_rules() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.org")
    assert check_binding("127.0.0.1", None) is None
    assert check_binding("0.0.0.0", "a-long-enough-token-123") == "a-long-enough-token-123"
    with pytest.raises(ConfigError, match="--token"):
        check_binding("0.0.0.0", None)
    with pytest.raises(ConfigError, match="at least 16"):
        check_binding("127.0.0.1", "short")
    with pytest.raises(ConfigError, match="at least 16"):
        check_binding("127.0.0.1", 'quote"and;semicolon-0123456789')


def test_non_loopback_without_token_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SATISFICE_WEB_TOKEN", raising=False)
    res = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'w.db'}", "web", "--host", "0.0.0.0"])
    assert res.exit_code != 0 and "--token" in str(res.exception or res.output)
    assert not (tmp_path / "w.db").exists()  # refused before the store is touched


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_web_serves_on_loopback_with_the_env_token(tmp_path: Path) -> None:
    port = _free_port()
    token = "env-token-0123456789abcdef"
    env = {**os.environ, "SATISFICE_HOME": str(tmp_path / "home"), "SATISFICE_WEB_TOKEN": token}
    proc = subprocess.Popen([sys.executable, "-m", "satisfice", "--db", f"sqlite:///{tmp_path / 'w.db'}", "web",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/catalog", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "web did not start"
                time.sleep(0.2)
        assert r.status_code == 401
        ok = httpx.get(f"http://127.0.0.1:{port}/api/catalog", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json()["total"] >= 44  # the bundled catalog was loaded at start
        try:  # bound to loopback only: another address of this machine is refused
            addrs = {a for a in socket.gethostbyname_ex(socket.gethostname())[2] if not a.startswith("127.")}
        except OSError:
            addrs = set()
        for addr in addrs:
            with socket.socket() as s:
                s.settimeout(2)
                assert s.connect_ex((addr, port)) != 0
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/ (token required)" in err
