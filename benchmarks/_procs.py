"""Start, wait for and always stop the servers a benchmark needs (each in its own process group, loopback only)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType


class ProcError(RuntimeError):
    """A server did not start, or died."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


class Proc:
    """One started server: its Popen, its log file and a name for messages."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], log: Path) -> None:
        self.name = name
        self.popen = popen
        self.log = log

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.popen.poll() is None

    def log_tail(self) -> str:
        """The end of its combined stdout/stderr."""
        return _tail(self.log)

    def wait_http(self, url: str, *, timeout_s: float, headers: Mapping[str, str] | None = None) -> None:
        """Poll ``url`` until it answers with any HTTP status below 500; ProcError on death or timeout."""
        deadline = time.monotonic() + timeout_s
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.alive():
                raise ProcError(f"{self.name} exited with {self.popen.returncode} while starting:\n{self.log_tail()}")
            request = urllib.request.Request(url, headers=dict(headers or {}))
            try:
                with urllib.request.urlopen(request, timeout=2) as resp:
                    resp.read()
                    return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.1)
        raise ProcError(f"{self.name} not ready at {url} after {timeout_s:.0f}s ({last}):\n{self.log_tail()}")

    def stop(self, grace_s: float = 5.0) -> None:
        """SIGTERM the whole process group, then SIGKILL it after ``grace_s``."""
        if self.popen.poll() is not None:
            return
        for sig, wait in ((signal.SIGINT, grace_s), (signal.SIGTERM, grace_s / 2), (signal.SIGKILL, grace_s)):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            break
        # reap stragglers left in the group (workers of a server that exited first)
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Procs:
    """Context manager owning every server started through it; all are stopped on exit, whatever happened."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Proc] = []

    def start(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        env: Mapping[str, str | None] | None = None,
        cpus: Sequence[int] | None = None,
        cwd: Path | None = None,
    ) -> Proc:
        """Start ``cmd`` in a new session (its own process group), output to ``<workdir>/<name>.log``.

        ``env`` adds to (``None``: removes from) this process's environment; ``cpus`` pins it with taskset.
        """
        log = self.workdir / f"{name}.log"
        full_env = dict(os.environ)
        for var, value in (env or {}).items():  # None removes a variable
            if value is None:
                full_env.pop(var, None)
            else:
                full_env[var] = value
        argv = list(cmd)
        if cpus:
            argv = ["taskset", "-c", ",".join(str(c) for c in cpus), *argv]
        with log.open("wb") as out:
            popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=full_env,
                cwd=str(cwd) if cwd else None, start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        """Stop one server now."""
        proc.stop()

    def __enter__(self) -> Procs:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for proc in reversed(self.started):
            proc.stop()


def _busy_ticks() -> int:
    """Clock ticks spent in processes (user + nice + system) on all CPUs since boot.

    irq/softirq time is left out: on loopback most of it is the kernel carrying our own requests, and it is
    charged to no process, so counting it would make our own load look like someone else's.
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[0] + fields[1] + fields[2]


def _group_ticks(pgids: set[int]) -> int:
    """utime + stime of every live process whose process group is in ``pgids``."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()  # fields after "(comm)": state ppid pgrp ... utime(12) stime(13)
        if int(rest[2]) in pgids:
            total += int(rest[11]) + int(rest[12])
    return total


class CpuMeter:
    """How much CPU other processes (not this benchmark, its servers or its load generators) used meanwhile.

    Linux only (/proc). ``foreign_pct`` is a share of the whole machine (all cores = 100 %); a few percent is
    normal background, much more means the numbers measured in that window are disturbed.
    """

    def __init__(self, procs: Procs, sut: Proc | None = None) -> None:
        self.procs = procs
        self.sut = sut
        self.tick = os.sysconf("SC_CLK_TCK")

    def _sut(self) -> int:
        return _group_ticks({self.sut.popen.pid}) if self.sut is not None else 0

    def _ours(self) -> int:
        pgids = {p.popen.pid for p in self.procs.started if p.alive()}
        own = os.times()
        own_ticks = round((own.user + own.system + own.children_user + own.children_system) * self.tick)
        return own_ticks + _group_ticks(pgids)

    def __enter__(self) -> CpuMeter:
        self.t0 = time.monotonic()
        self.busy0, self.ours0, self.sut0 = _busy_ticks(), self._ours(), self._sut()
        self.result: dict[str, float] = {}
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        capacity = (time.monotonic() - self.t0) * self.tick * (os.cpu_count() or 1)
        busy, ours, sut = _busy_ticks() - self.busy0, self._ours() - self.ours0, self._sut() - self.sut0
        self.result = {"sut_cpu_s": round(sut / self.tick, 2)}
        if capacity > 0:
            self.result.update({"ours_pct": round(100 * ours / capacity, 1),
                                "foreign_pct": round(100 * max(0, busy - ours) / capacity, 1)})
