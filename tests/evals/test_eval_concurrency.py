"""`--concurrency` is the number of requests in flight, end to end: no transport cap below it."""

from __future__ import annotations

import time
from pathlib import Path

from eval_taskfiles import write_task

import satisfice
from satisfice.clients.scripted_server import Received, ScriptedServerThread, Step


def test_concurrency_above_the_transport_default_reaches_the_server(tmp_path: Path, db_url: str) -> None:
    """With 150 in flight asked and every answer held 0.6 s, the server sees 150 requests before any returns.

    The transport's default pool is 100 connections per origin; a cap there would hold the first wave at 100.
    """
    arrivals: list[float] = []

    def script(received: Received) -> Step:
        arrivals.append(time.monotonic())
        return Step.delay(0.6, "positive")

    with ScriptedServerThread(script, record=False) as server:
        task = write_task(tmp_path / "t", server.base_url, n=150, concurrency=4)
        result = satisfice.evaluate(task, store=db_url, concurrency=150, use_cache=False)
    assert len(arrivals) == 150
    first_wave = sum(1 for t in arrivals if t - arrivals[0] < 0.5)
    assert first_wave == 150, f"only {first_wave} requests were in flight together"
    assert result.models[0].n == 150
    assert "requests in flight at most (reached of allowed): cheap 150 of 150" in result.notes
