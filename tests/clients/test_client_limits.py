"""The one HTTP client's limits: connection cap, one deadline with the connect inside, size caps, the stale
keep-alive retry, and TLS against a local server with a self-signed certificate."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_lean_http import RawServer, http

from rawhttp import read_request
from satisfice.clients.http import HttpTransport
from satisfice.errors import BadResponse, Timeout, UpstreamUnavailable

BODY = b'{"model": "m", "prompt": "x"}'


async def test_connections_per_origin_stay_under_the_cap() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections, peak, open_now
        connections += 1
        open_now += 1
        peak = max(peak, open_now)
        try:
            while True:
                await read_request(reader)
                await asyncio.sleep(0.02)
                writer.write(http(b"{}"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            open_now -= 1
            writer.close()

    connections = peak = open_now = 0
    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/completions"
    t = HttpTransport(timeout_s=10.0, max_connections=4)
    try:
        answers = await asyncio.gather(*(t.post(url, BODY, {}) for _ in range(60)))
        assert all(a.status == 200 for a in answers)
        assert connections <= 4 and peak <= 4
        assert t.pool().open_connections(url) <= 4
    finally:
        await t.close()
        server.close()


async def test_the_deadline_includes_connecting() -> None:
    """A TLS handshake that never completes is part of connecting: timeout_s=0.2 ends it, not the 10 s connect."""
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/completions"
    t = HttpTransport(timeout_s=0.2, connect_timeout_s=10.0)
    try:
        started = time.perf_counter()
        with pytest.raises(Timeout):
            await t.post(url, BODY, {})
        assert time.perf_counter() - started < 0.6
        started = time.perf_counter()
        with pytest.raises(Timeout):
            async with t.stream(url, BODY, {}):
                pass
        assert time.perf_counter() - started < 0.6
    finally:
        await t.close()
        server.close()


async def test_answers_over_the_size_cap_fail_also_once_decompressed() -> None:
    big = b'{"a": "' + b"x" * 300_000 + b'"}'
    bomb = gzip.compress(b" " * 5_000_000)  # about 5 KB on the wire, 5 MB inflated
    answers = iter([http(big), http(bomb, "Content-Encoding: gzip"), http(gzip.compress(b'{"ok": 1}'),
                                                                          "Content-Encoding: gzip")])
    t = HttpTransport(timeout_s=5.0, max_response_bytes=100_000)
    try:
        async with RawServer(lambda r: next(answers)) as server:
            with pytest.raises(BadResponse, match="larger than the limit of 100000 bytes"):
                await t.post(server.url, BODY, {})
            with pytest.raises(BadResponse, match="once decompressed"):
                await t.post(server.url, BODY, {})
            assert (await t.post(server.url, BODY, {})).body == b'{"ok": 1}'
    finally:
        await t.close()


async def test_a_stream_over_the_size_cap_fails() -> None:
    chunk = b"data: " + b"y" * 10_000 + b"\n\n"
    answer = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
              + b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(20)) + b"0\r\n\r\n")
    t = HttpTransport(timeout_s=5.0, max_response_bytes=50_000)
    try:
        async with RawServer(lambda r: answer) as server:
            with pytest.raises(BadResponse, match="larger than the limit"):
                async with t.stream(server.url, BODY, {}) as resp:
                    async for _ in resp.iter_chunks():
                        pass
    finally:
        await t.close()


async def test_a_kept_alive_connection_closed_by_the_server_is_retried_once_on_a_new_one() -> None:
    """The server drops the idle connection just as the next request arrives (gunicorn closes at 2 s)."""
    seen: list[int] = []

    async def closes_second(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(0)
        served = 0
        try:
            while True:
                await read_request(reader)
                if served == 1 and len(seen) == 1:
                    break  # close without a byte of answer
                writer.write(http(b'{"n": %d}' % len(seen)))
                await writer.drain()
                served += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(closes_second, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/completions"
    t = HttpTransport(timeout_s=5.0)
    try:
        assert (await t.post(url, BODY, {})).body == b'{"n": 1}'
        assert (await t.post(url, BODY, {})).body == b'{"n": 2}'  # retried on a second connection
        assert len(seen) == 2
    finally:
        await t.close()
        server.close()


async def test_a_fresh_connection_closed_before_answering_is_not_retried() -> None:
    async with RawServer(lambda r: None) as server:
        t = HttpTransport(timeout_s=5.0)
        try:
            with pytest.raises(UpstreamUnavailable, match="closed the connection before answering"):
                await t.post(server.url, BODY, {})
            assert len(server.requests) == 1  # sent once
        finally:
            await t.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                    str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
async def tls_url(certificate: tuple[Path, Path]) -> AsyncIterator[str]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                _, body = await read_request(reader)
                if b'"stream": true' in body:
                    events = b'data: {"choices": []}\n\ndata: [DONE]\n\n'
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: "
                                 + str(len(events)).encode() + b"\r\n\r\n" + events)
                else:
                    writer.write(http(b'{"tls": true}'))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    try:
        yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/chat/completions"
    finally:
        server.close()


async def test_tls_with_a_trusted_self_signed_certificate(certificate: tuple[Path, Path], tls_url: str) -> None:
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    t = HttpTransport(timeout_s=5.0, ssl_context=trusted)
    try:
        for _ in range(3):
            assert (await t.post(tls_url, BODY, {})).body == b'{"tls": true}'
        assert t.pool().open_connections(tls_url) == 1
        async with t.stream(tls_url, b'{"stream": true}', {}) as resp:
            assert (await resp.read()).endswith(b"data: [DONE]\n\n")
    finally:
        await t.close()


async def test_tls_refuses_an_untrusted_certificate(tls_url: str) -> None:
    t = HttpTransport(timeout_s=5.0)
    try:
        with pytest.raises(UpstreamUnavailable, match="certificate not trusted"):
            await t.post(tls_url, BODY, {})
    finally:
        await t.close()


def test_one_stack_model_calls_do_not_load_aiohttp() -> None:
    """Evals and the gateway reach models through the lean client only (aiohttp stays a test-server tool)."""
    code = ("import sys, satisfice.clients.http, satisfice.clients.openai_compat, satisfice.gateway.http.app; "
            "print('aiohttp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_a_stream_read_to_its_last_event_keeps_its_connection() -> None:
    """The terminating chunk comes after [DONE]: a reader that stops at [DONE] still leaves a reusable connection."""
    async def sse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await read_request(reader)
                event = b'data: {"choices": []}\n\ndata: [DONE]\n\n'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                             + f"{len(event):x}\r\n".encode() + event + b"\r\n")
                await writer.drain()
                await asyncio.sleep(0.05)
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(sse, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/chat/completions"
    t = HttpTransport(timeout_s=5.0)
    try:
        for _ in range(3):
            async with t.stream(url, b'{"stream": true}', {}) as resp:
                async for chunk in resp.iter_chunks():
                    if b"[DONE]" in chunk:
                        break
            await asyncio.sleep(0.2)
            assert t.pool().open_connections(url) == 1
        async with t.stream(url, b'{"stream": true}', {}) as resp:
            pass  # left before reading anything: at most 64 KB more are read, then the connection is kept
        await asyncio.sleep(0.2)
        assert t.pool().open_connections(url) == 1
    finally:
        await t.close()
        server.close()
