"""The bytes of an HTTP/1.1 exchange for :mod:`satisfice.clients.lean_http`: request head, decoded answer body."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from urllib.parse import urlsplit

from satisfice.errors import BadResponse, ConfigError

Origin = tuple[str, str, int]


def inflate(data: bytes, encoding: str, limit: int) -> bytes:
    """Decoded body, never more than ``limit`` bytes of output."""
    if encoding in ("", "identity"):
        return data
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadResponse(f"unsupported Content-Encoding {encoding!r}")
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else (zlib.MAX_WBITS if data[:1] == b"\x78"
                                                                else -zlib.MAX_WBITS)
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BadResponse(f"response body could not be decoded ({encoding}: {exc})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise BadResponse(f"response larger than the limit of {limit} bytes once decompressed")
    return out


def check_header_text(text: str) -> None:
    """ConfigError when ``text`` would split the request (a line break in a header or the URL)."""
    if "\r" in text or "\n" in text:
        raise ConfigError("a header or URL contains a line break (refused: it would split the HTTP request)")


def header_block(headers: Mapping[str, str], length: int, streaming: bool) -> bytes:
    """The header lines after the request line (streams ask for an uncompressed answer)."""
    lines = []
    has_type = has_accept = False
    for name, value in headers.items():
        lname = name.lower()
        if lname in ("content-length", "host", "transfer-encoding", "connection", "accept-encoding"):
            continue
        has_type = has_type or lname == "content-type"
        has_accept = has_accept or lname == "accept"
        text = f"{name}: {value}\r\n"
        check_header_text(text[:-2])
        lines.append(text)
    if not has_type:
        lines.append("Content-Type: application/json\r\n")
    if not has_accept:
        lines.append("Accept: text/event-stream\r\n" if streaming else "Accept: application/json\r\n")
    lines.append("Accept-Encoding: identity\r\n" if streaming else "Accept-Encoding: gzip, deflate\r\n")
    lines.append(f"Content-Length: {length}\r\n\r\n")
    try:
        return "".join(lines).encode("latin-1")
    except UnicodeEncodeError:
        raise ConfigError("a request header holds a character HTTP headers cannot carry (not Latin-1)") from None


def request_target(url: str) -> tuple[Origin, bytes]:
    """(scheme, host, port) and the request line with the Host header for a POST to ``url``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"invalid URL {url.split('?', 1)[0]!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"invalid URL {url.split('?', 1)[0]!r}: http(s)://host/... expected")
    if parts.username or parts.password:
        raise ConfigError("credentials in an upstream URL are not supported; use api_key_env")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    check_header_text(path)
    default = (parts.scheme, port) in (("http", 80), ("https", 443))
    host_header = (f"[{host}]" if ":" in host else host) + ("" if default else f":{port}")
    return (parts.scheme, host, port), f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\n".encode("latin-1")


__all__ = ["Origin", "check_header_text", "header_block", "inflate", "request_target"]
