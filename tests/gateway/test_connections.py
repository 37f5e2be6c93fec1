"""Connection limits of a real gateway process: head size cap (431), head deadline, cap on open connections (503),
and real requests still served next to hostile connections."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from satisfice.clients.scripted_server import ScriptedServerThread

from .conftest import FAKE_PROVIDER_KEY, base_config
from .test_server import free_port, wait_ready

LIMITS = {"head_timeout_s": 1.0, "keep_alive_s": 1.0, "max_open_connections": 40}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    with ScriptedServerThread(default="hello") as upstream:
        cfg = base_config(upstream.base_url, limits=LIMITS)
        config = tmp_path / "gateway.yaml"
        config.write_text(yaml.safe_dump(cfg))
        port = free_port()
        env = {**os.environ, "SATISFICE_NO_BUNDLED": "1", "GW_TEST_PROVIDER_KEY": FAKE_PROVIDER_KEY,
               "SATISFICE_HOME": str(tmp_path / "home")}
        proc = subprocess.Popen([sys.executable, "-m", "satisfice", "--db", f"sqlite:///{tmp_path / 'gw.db'}",
                                 "gateway", "serve", "--config", str(config), "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, proc)
            yield url
        finally:
            proc.kill()
            proc.wait(timeout=10)


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return out


def _ok(url: str) -> bool:
    r = httpx.post(url + "/v1/chat/completions", json={"model": "small", "messages": [{"role": "user",
                                                                                       "content": "hi"}]}, timeout=10)
    return r.status_code == 200


def test_a_head_over_64_kib_gets_431_and_is_closed(gateway: str) -> None:
    sock = _connect(gateway)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000)
    assert _read_all(sock).startswith(b"HTTP/1.1 431")
    sock.close()
    sock = _connect(gateway)
    try:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (8 * 1024 * 1024))
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed by the server mid-send, after its 431
    sock.close()
    sock = _connect(gateway)  # a head just under the cap is served
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 60_000 + b"\r\nConnection: close\r\n\r\n")
    assert _read_all(sock).startswith(b"HTTP/1.1 200")
    sock.close()


def test_slow_heads_and_idle_sockets_are_closed_at_the_head_deadline(gateway: str) -> None:
    slow, idle = _connect(gateway), _connect(gateway)
    slow.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    for n in range(3):
        slow.sendall(b"X-Drip-%d: 1\r\n" % n)  # a header every 0.4 s: each read is prompt, the head never ends
        time.sleep(0.4)
    assert _read_all(slow) == b"" and _read_all(idle) == b""  # both closed, without an answer
    assert time.monotonic() - started < 4.0
    slow.close()
    idle.close()


def test_connections_beyond_the_cap_get_a_fast_503_and_service_continues(gateway: str) -> None:
    held = [_connect(gateway) for _ in range(40)]
    time.sleep(0.2)
    extra = _connect(gateway)
    started = time.monotonic()
    assert _read_all(extra).startswith(b"HTTP/1.1 503") and time.monotonic() - started < 1.0
    extra.close()
    time.sleep(1.5)  # the held sockets never sent a head: closed at the deadline
    for sock in held:
        sock.close()
    assert _ok(gateway)


def test_real_requests_keep_succeeding_next_to_hostile_connections(gateway: str) -> None:
    hostile: list[Any] = []
    for n in range(30):
        sock = _connect(gateway)
        if n % 2:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # a head that never ends
        hostile.append(sock)
    assert all(_ok(gateway) for _ in range(5))
    for sock in hostile:
        sock.close()
