"""`--concurrency` is the number of requests in flight, end to end: no transport cap below it."""

from __future__ import annotations

import time
from pathlib import Path

from eval_taskfiles import write_task
from evals_testkit import max_in_window

import satisfice
from satisfice.clients.scripted_server import Received, ScriptedServerThread, Step

HOLD_S = 2.0


def test_concurrency_above_the_transport_default_reaches_the_server(tmp_path: Path, db_url: str) -> None:
    """With 150 in flight asked and every answer held 2 s, the server sees 150 requests before any returns.

    The transport's default pool is 100 connections per origin: with a cap there, no window shorter than the 2 s
    hold could contain more than 100 arrivals (the 101st waits for a connection to come free), whatever the load.
    """
    arrivals: list[float] = []

    def script(received: Received) -> Step:
        arrivals.append(time.monotonic())
        return Step.delay(HOLD_S, "positive")

    with ScriptedServerThread(script, record=False) as server:
        task = write_task(tmp_path / "t", server.base_url, n=150, concurrency=4)
        result = satisfice.evaluate(task, store=db_url, concurrency=150, use_cache=False)
    assert len(arrivals) == 150
    together = max_in_window(arrivals, HOLD_S * 0.95)
    assert together == 150, f"only {together} requests were in flight together"
    assert result.models[0].n == 150
    assert "requests in flight at most (reached of allowed): cheap 150 of 150" in result.notes
