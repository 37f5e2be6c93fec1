"""The lean POST client against a raw HTTP server on 127.0.0.1 that answers with scripted bytes."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from satisfice.clients.http import HttpTransport
from satisfice.errors import BadResponse, ConfigError, Timeout, UpstreamUnavailable

Answer = Callable[[bytes], bytes | None]  # request bytes -> raw answer (None: close without answering)


class RawServer:
    """Reads one request at a time (headers + Content-Length body) and writes what ``answer`` returns."""

    def __init__(self, answer: Answer, *, stall_first_s: float = 0.0) -> None:
        self.answer = answer
        self.stall_first_s = stall_first_s
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1/chat/completions"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = self.answer(request)
                if self.stall_first_s and len(self.requests) == 1:
                    await asyncio.sleep(self.stall_first_s)
                    break
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def http(body: bytes, *extra: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", "Content-Type: application/json", *extra]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in extra):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@pytest.fixture
async def lean() -> AsyncIterator[HttpTransport]:
    t = HttpTransport(timeout_s=5.0)
    try:
        yield t
    finally:
        await t.close()


async def test_keep_alive_reuses_one_connection(lean: HttpTransport) -> None:
    async with RawServer(lambda r: http(b'{"ok": true}')) as server:
        for _ in range(5):
            raw = await lean.post(server.url, b'{"a": 1}', {"Authorization": "Bearer sk-x"})
            assert (raw.status, raw.body) == (200, b'{"ok": true}')
    assert server.connections == 1 and len(server.requests) == 5
    first = server.requests[0]
    assert first.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer sk-x\r\n" in first and b"Content-Length: 8\r\n" in first
    assert f"\r\nHost: 127.0.0.1:{server.url.split(':')[2].split('/')[0]}\r\n".encode() in first
    assert raw.headers["content-type"] == "application/json" and raw.headers["Content-Type"] == "application/json"


async def test_chunked_gzip_and_until_close_bodies(lean: HttpTransport) -> None:
    zipped = gzip.compress(b'{"zipped": 1}')
    answers = iter([
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\n\r\n",
        http(zipped, "Content-Encoding: gzip"),
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"until\": \"close\"}",
    ])
    async with RawServer(lambda r: next(answers)) as server:
        assert (await lean.post(server.url, b"{}", {})).body == b'{"a": 1}'
        assert (await lean.post(server.url, b"{}", {})).body == b'{"zipped": 1}'
        assert (await lean.post(server.url, b"{}", {})).body == b'{"until": "close"}'


async def test_statuses_and_retry_after_come_back_raw(lean: HttpTransport) -> None:
    async with RawServer(lambda r: http(b'{"error": {"message": "slow down"}}', "Retry-After: 3",
                                        status="429 Too Many Requests")) as server:
        raw = await lean.post(server.url, b"{}", {})
    assert raw.status == 429 and raw.headers["retry-after"] == "3"


async def test_closed_before_answering_truncated_and_garbage(lean: HttpTransport) -> None:
    async with RawServer(lambda r: None) as server:
        with pytest.raises(UpstreamUnavailable, match="closed the connection before answering"):
            await lean.post(server.url, b"{}", {})
    async with RawServer(lambda r: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"a\"") \
            as server:
        with pytest.raises(BadResponse, match="truncated"):
            await lean.post(server.url, b"{}", {})
    async with RawServer(lambda r: b"NOT HTTP AT ALL\r\n\r\n") as server:
        with pytest.raises(BadResponse, match="invalid HTTP response"):
            await lean.post(server.url, b"{}", {})
    with pytest.raises(UpstreamUnavailable, match="cannot connect|connection failed"):
        await lean.post("http://127.0.0.1:9/v1/chat/completions", b"{}", {})


async def test_timeout_drops_the_connection_and_the_next_call_works(lean: HttpTransport) -> None:
    async with RawServer(lambda r: http(b"{}"), stall_first_s=1.0) as server:
        with pytest.raises(Timeout):
            await lean.post(server.url, b"{}", {}, timeout_s=0.2)
        assert (await lean.post(server.url, b"{}", {})).status == 200
    assert server.connections == 2  # the timed-out connection was not reused


async def test_header_injection_and_bad_urls_are_refused(lean: HttpTransport) -> None:
    with pytest.raises(ConfigError, match="line break"):
        await lean.post("http://127.0.0.1:9/v1", b"{}", {"X-Evil": "a\r\nInjected: yes"})
    with pytest.raises(ConfigError, match="invalid URL"):
        await lean.post("ftp://example.com/x", b"{}", {})
    with pytest.raises(ConfigError, match="credentials"):
        await lean.post("http://user:pw@127.0.0.1:9/v1", b"{}", {})


async def test_an_idle_connection_is_not_reused_after_the_keepalive() -> None:
    t = HttpTransport(timeout_s=5.0, keepalive_s=0.1)
    try:
        async with RawServer(lambda r: http(b"{}")) as server:
            await t.post(server.url, b"{}", {})
            await t.post(server.url, b"{}", {})
            await asyncio.sleep(0.3)
            await t.post(server.url, b"{}", {})
        assert server.connections == 2
    finally:
        await t.close()


class _CountedLookups:
    """Wraps the running loop's ``getaddrinfo``: counts the look-ups, optionally answers with given addresses."""

    def __init__(self, answer: list[str] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.real = self.loop.getaddrinfo
        self.answer = answer
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        self.calls.append(host)
        if self.answer is None:
            return list(await self.real(host, port, **kwargs))  # type: ignore[arg-type]
        if not self.answer:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in self.answer]

    def __enter__(self) -> _CountedLookups:
        self.loop.getaddrinfo = self  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.getaddrinfo = self.real  # type: ignore[method-assign]


async def test_a_host_name_is_looked_up_once_for_many_connections(lean: HttpTransport) -> None:
    """20 requests at once to ``localhost`` open 20 connections after one look-up (it used to be one each)."""
    async with RawServer(lambda r: http(b"{}")) as server:
        url = server.url.replace("127.0.0.1", "localhost")
        with _CountedLookups(["127.0.0.1"]) as lookups:
            await asyncio.gather(*(lean.post(url, b"{}", {}) for _ in range(20)))
            assert server.connections == 20
            assert lookups.calls == ["localhost"]
            await lean.post(url, b"{}", {})  # a kept connection: no look-up either
            assert lookups.calls == ["localhost"]
        with _CountedLookups() as literal:
            await lean.post(server.url, b"{}", {})
            assert literal.calls == []  # an IP address is never looked up


async def test_looked_up_addresses_expire_and_a_refusing_address_is_tried_last() -> None:
    t = HttpTransport(timeout_s=5.0, keepalive_s=0.05, dns_ttl_s=0.2)
    try:
        async with RawServer(lambda r: http(b"{}")) as server:
            url = server.url.replace("127.0.0.1", "provider.test")
            port = int(server.url.split(":")[2].split("/")[0])
            with _CountedLookups(["127.0.0.2", "127.0.0.1"]) as lookups:  # the server listens on .1 only
                assert (await t.post(url, b"{}", {})).status == 200
                pool = t.pool()
                assert await pool.resolver.addresses("provider.test", port) == [("127.0.0.1", port),
                                                                                ("127.0.0.2", port)]
                await asyncio.sleep(0.1)  # the idle connection is dropped; the addresses are still kept
                await t.post(url, b"{}", {})
                assert lookups.calls == ["provider.test"]
                await asyncio.sleep(0.25)  # now they have expired
                await t.post(url, b"{}", {})
                assert lookups.calls == ["provider.test", "provider.test"]
    finally:
        await t.close()


async def test_an_origin_whose_addresses_all_refuse_is_looked_up_again(lean: HttpTransport) -> None:
    async with RawServer(lambda r: http(b"{}")) as server:
        url = server.url.replace("127.0.0.1", "moved.test")
        with _CountedLookups(["127.0.0.3"]) as lookups:
            with pytest.raises(UpstreamUnavailable, match="cannot connect"):
                await lean.post(url, b"{}", {})
            lookups.answer = ["127.0.0.1"]  # the name now points elsewhere
            assert (await lean.post(url, b"{}", {})).status == 200
            assert lookups.calls == ["moved.test", "moved.test"]
            lookups.answer = []  # a name that no longer resolves: an error naming it, nothing kept
            gone = r"no-such-host.test:9/v1: cannot connect \(Name or service not known"
            with pytest.raises(UpstreamUnavailable, match=gone):
                await lean.post("http://no-such-host.test:9/v1", b"{}", {})
            with pytest.raises(UpstreamUnavailable, match="cannot connect"):
                await lean.post("http://no-such-host.test:9/v1", b"{}", {})
            assert lookups.calls[2:] == ["no-such-host.test", "no-such-host.test"]
