"""Bounded sources: a dripping source is cut at its wall-clock timeout and frees the lock, a killed run's lock
lapses within its short lease, over-long ids skip one entry the same on every store, database errors show no SQL."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest
from pipeline_helpers import Clock, Server, openrouter_doc
from sqlalchemy.exc import IntegrityError

from satisfice.pipeline import PipelineBusy, run, status
from satisfice.pipeline.fetch import Fetched
from satisfice.pipeline.lock import run_lock
from satisfice.pipeline.runner import _message
from satisfice.store import Store


@pytest.fixture
def dripping() -> Iterator[str]:
    """A source that answers 200 and then sends one byte every 0.3 s, forever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed at the end of the test
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    def drip(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            while not stop.is_set():
                conn.sendall(b" ")
                time.sleep(0.3)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/models"
    finally:
        stop.set()
        listener.close()


def test_a_dripping_source_is_cut_at_its_timeout_and_the_lock_is_freed(store: Store, clock: Clock,
                                                                       dripping: str) -> None:
    started = time.monotonic()
    report = run(store, {"openrouter": dripping}, now=clock, timeout=2.0)
    elapsed = time.monotonic() - started
    assert not report["ok"] and "timed out: no complete answer within 2 s" in report["sources"][0]["error"]
    assert elapsed < 2.0 + 5.0
    assert status(store)["running_since"] is None


def test_the_cli_exits_1_within_its_timeout(tmp_path: pytest.TempPathFactory, dripping: str) -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "satisfice", "--db", f"sqlite:///{tmp_path}/p.db", "pipeline",
                           "run", "--timeout", "2", "--source", f"openrouter={dripping}", "--json"],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SATISFICE_NO_BUNDLED": "1", "SATISFICE_HOME": str(tmp_path)})
    assert done.returncode == 1 and "timed out" in done.stdout
    assert time.monotonic() - started < 2.0 + 5.0 + 10.0  # the timeout, the margin, and the CLI's start-up


def test_a_killed_runs_lock_lapses_and_a_live_one_is_renewed(store: Store, tmp_path: pytest.TempPathFactory) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with run_lock(store, now, lease=dt.timedelta(seconds=0.8)):  # renewed every 0.2 s while held
        time.sleep(1.5)
        with pytest.raises(PipelineBusy):
            with run_lock(store, dt.datetime.now(dt.UTC).replace(tzinfo=None)):
                pass
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import datetime as dt, time
        from satisfice.store import open_store
        from satisfice.pipeline.lock import run_lock
        with run_lock(open_store({store.url!r}), dt.datetime.now(dt.UTC).replace(tzinfo=None),
                      lease=dt.timedelta(seconds=1)):
            print("held", flush=True)
            time.sleep(600)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        os.kill(holder.pid, signal.SIGKILL)
    finally:
        holder.wait(timeout=10)
    with pytest.raises(PipelineBusy):
        with run_lock(store, dt.datetime.now(dt.UTC).replace(tzinfo=None)):
            pass
    time.sleep(1.2)  # the dead holder's lease (1 s here, 60 s by default) runs out
    with run_lock(store, dt.datetime.now(dt.UTC).replace(tzinfo=None)):
        pass


def test_an_overlong_model_id_skips_that_entry_with_a_named_error(store: Store, server: Server,
                                                                  clock: Clock) -> None:
    long_id = "vendor/" + "x" * 10_000
    url = server.serve("/m", openrouter_doc({"deepseek/deepseek-v4-pro": (0.435, 0.87), long_id: (1.0, 2.0)}))
    report = run(store, {"openrouter": url}, now=clock)
    source = report["sources"][0]
    assert report["ok"] and source["new_offers"] >= 1
    skipped = source["skipped"]
    assert skipped[0].endswith("id is 10,000 characters, over the store's limit of 200; skipped")
    assert all("x" * 100 not in line for line in skipped)  # the error names the entry, briefly


def test_a_database_error_shows_no_sql_or_parameters() -> None:
    exc = IntegrityError("INSERT INTO offers (model_id) VALUES (?)", ("secret-parameter",),
                         Exception("UNIQUE constraint failed: offers.model_id\nDETAIL: Key (model_id)=(secret)"))
    message = _message(exc, Fetched(b"", "https://example.test/models", None, ".json"))
    assert message == ("https://example.test/models: database error (Exception): UNIQUE constraint failed: "
                       "offers.model_id")
