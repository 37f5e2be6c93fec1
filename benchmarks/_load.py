"""Load generators for the gateway benchmark: Debian's ``wrk`` (saturation, and paced) and ``hey`` (paced).

Each run POSTs one JSON body to one URL and returns a :class:`LoadResult`: requests, achieved rate, latency
percentiles in milliseconds and every kind of error (non-2xx responses included). Nothing here starts servers.

- ``wrk_run(..., rate=None)``: as fast as ``connections`` keep-alive connections allow (throughput at saturation).
- ``wrk_run(..., rate=R)``: the same script paced by a shared schedule (one request every 1/R s per thread, through
  whichever connection is free; LuaJIT's ffi gives the clock). Latency is wrk's own, from write to last byte,
  in microseconds. A target that cannot hold R falls behind the schedule and the achieved rate says so.
- ``hey_run(..., rate=R)``: ``hey -q R/c -c c -z``; hey prints latency with 0.1 ms resolution only.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


class LoadError(RuntimeError):
    """A load generator is missing, failed, or printed something we cannot read."""


@dataclass
class LoadResult:
    """One load-generator run against one URL."""

    tool: str
    requests: int
    duration_s: float
    rps: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    non_2xx: int = 0
    socket_errors: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    target_rate: float | None = None

    @property
    def error_count(self) -> int:
        """Non-2xx responses plus connect/read/write/timeout errors."""
        return self.non_2xx + self.socket_errors

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields, rounded."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, 3)
        out["error_count"] = self.error_count
        return out


def _pinned(cmd: list[str], cpus: list[int] | None) -> list[str]:
    return ["taskset", "-c", ",".join(map(str, cpus)), *cmd] if cpus else cmd


def require_tool(name: str) -> str:
    """Absolute path of ``name`` or a LoadError telling how to install it."""
    path = shutil.which(name)
    if path is None:
        raise LoadError(f"'{name}' not found on PATH; run scripts/setup_bench.sh (installs Debian's wrk and hey)")
    return path


def _lua_string(text: str) -> str:
    """A Lua string literal: safe ASCII kept, every other byte as a decimal escape (valid in LuaJIT)."""
    safe = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:;/{}[]()@+*=!?#$%&^|~<>'")
    return '"' + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in text.encode()) + '"'


_CLOCK = """
local ffi = require("ffi")
pcall(ffi.cdef, [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]])
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local interval = 1000 / RATE
local next_at = nil
function delay()
  local t = now_ms()
  if next_at == nil then next_at = t end
  local wait = next_at - t
  next_at = next_at + interval
  if wait <= 0 then return 0 end
  return math.floor(wait)
end
"""

_DONE = """
non2xx = 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("non2xx") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"non2xx":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def wrk_script(body: bytes, headers: dict[str, str], rate_per_thread: float | None) -> str:
    """The Lua script: POST ``body`` with ``headers``; paced when ``rate_per_thread``; prints a JSON summary."""
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body.decode())}"]
    lines.append(f'wrk.headers["Content-Type"] = {_lua_string("application/json")}')
    for name, value in headers.items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    if rate_per_thread:
        lines.append(f"RATE = {rate_per_thread!r}")
        lines.append(_CLOCK)
    lines.append(_DONE)
    return "\n".join(lines) + "\n"


def wrk_run(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    duration_s: float,
    connections: int,
    threads: int = 1,
    rate: float | None = None,
    workdir: Path,
    timeout_s: float = 10.0,
    cpus: list[int] | None = None,
) -> LoadResult:
    """Run wrk once; saturation when ``rate`` is None, else paced at ``rate`` requests/s in total."""
    wrk = require_tool("wrk")
    threads = max(1, min(threads, connections))
    script = workdir / f"wrk-{'paced' if rate else 'max'}.lua"
    script.write_text(wrk_script(body, headers, rate / threads if rate else None), encoding="utf-8")
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
           f"--timeout={max(1, math.ceil(timeout_s))}s", "-s", str(script), url]
    cmd = _pinned(cmd, cpus)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + timeout_s + 30, check=False)
    match = re.search(r"^WRKJSON (\{.*\})$", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or match is None:
        raise LoadError(f"wrk failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-600:]}")
    data = json.loads(match.group(1))
    duration = data["duration_us"] / 1e6
    socket = {k: int(data[k]) for k in ("connect", "read", "write", "timeout") if data[k]}
    got = int(data["requests"])
    return LoadResult(
        tool="wrk",
        requests=got,
        duration_s=duration,
        rps=got / duration if duration > 0 else 0.0,
        p50_ms=data["p50_us"] / 1000 if got else None,
        p90_ms=data["p90_us"] / 1000 if got else None,
        p99_ms=data["p99_us"] / 1000 if got else None,
        max_ms=data["max_us"] / 1000 if got else None,
        non_2xx=int(data["non2xx"]),  # counted by the script's response(); wrk's own "status" is only > 399
        socket_errors=sum(socket.values()),
        errors={**socket, **({"non_2xx": int(data["non2xx"])} if data["non2xx"] else {})},
        target_rate=rate,
    )


_HEY_PCT = re.compile(r"^\s*(\d+)% in ([0-9.]+) secs", re.MULTILINE)
_HEY_STATUS = re.compile(r"^\s*\[(\d{3})\]\s+(\d+) responses", re.MULTILINE)
_HEY_ERR = re.compile(r"^\s*\[(\d+)\]\s+(.+)$", re.MULTILINE)


def parse_hey(text: str, rate: float | None) -> LoadResult:
    """Read hey's default summary (percentiles, status code and error distributions)."""
    total = re.search(r"Total:\s+([0-9.]+) secs", text)
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    if total is None or rps is None:
        raise LoadError(f"cannot read hey's output: {text.strip()[-600:]}")
    pct = {int(p): float(s) * 1000 for p, s in _HEY_PCT.findall(text)}
    status_part = text.split("Status code distribution:", 1)[1] if "Status code distribution:" in text else ""
    status_part = status_part.split("Error distribution:", 1)[0]
    statuses = {int(code): int(n) for code, n in _HEY_STATUS.findall(status_part)}
    errors: dict[str, int] = {}
    if "Error distribution:" in text:
        for n, msg in _HEY_ERR.findall(text.split("Error distribution:", 1)[1]):
            kind = "timeout" if "Timeout" in msg or "deadline" in msg else "connect" if "connect" in msg else "read"
            errors[kind] = errors.get(kind, 0) + int(n)
    non_2xx = sum(n for code, n in statuses.items() if not 200 <= code < 300)
    if non_2xx:
        errors["non_2xx"] = non_2xx
    duration = float(total.group(1))
    answered = sum(statuses.values())
    slowest = re.search(r"Slowest:\s+([0-9.]+) secs", text)
    return LoadResult(
        tool="hey",
        requests=answered,
        duration_s=duration,
        rps=answered / duration if duration > 0 else 0.0,  # hey's own Requests/sec counts failures too
        p50_ms=pct.get(50),
        p90_ms=pct.get(90),
        p99_ms=pct.get(99),
        max_ms=float(slowest.group(1)) * 1000 if slowest else None,
        non_2xx=non_2xx,
        socket_errors=sum(v for k, v in errors.items() if k != "non_2xx"),
        errors=errors,
        target_rate=rate,
    )


def hey_run(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    duration_s: float,
    rate: float,
    workers: int,
    timeout_s: float = 10.0,
    cpus: list[int] | None = None,
) -> LoadResult:
    """Run ``hey -z <duration> -q <rate/workers> -c <workers>`` (one CPU for hey) and parse its summary."""
    hey = require_tool("hey")
    cmd = [hey, "-z", f"{max(1, round(duration_s))}s", "-q", f"{rate / workers:g}", "-c", str(workers),
           "-cpus", "1", "-t", str(max(1, math.ceil(timeout_s))), "-m", "POST", "-T", "application/json",
           "-d", body.decode()]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    cmd = _pinned(cmd, cpus)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + timeout_s + 30, check=False)
    if proc.returncode != 0:
        raise LoadError(f"hey failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-600:]}")
    return parse_hey(proc.stdout, rate)
