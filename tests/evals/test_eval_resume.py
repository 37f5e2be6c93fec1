"""kill -9 in the middle of `satisfice eval`, then resume: same results, nothing stored is ever sent again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from eval_taskfiles import item_of, sentiment_script, write_task
from sqlalchemy import select

from satisfice.clients.scripted_server import ScriptedServerThread
from satisfice.store import open_store
from satisfice.store.schema_evals import ResponseRecord

N, CONCURRENCY = 24, 2
STABLE = ("model", "n", "n_errors", "n_missing", "n_not_run", "accuracy", "ci_low", "ci_high", "decision", "cost_run",
          "cost_per_request", "cost_per_1k", "annual_cost", "tokens_in", "tokens_out")


def _eval(db: str, task: Path) -> list[str]:
    return [sys.executable, "-m", "satisfice", "--db", db, "eval", str(task), "--json"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SATISFICE_DB"}
    env.update(SATISFICE_HOME=str(home), SATISFICE_NO_BUNDLED="1")
    return env


def _stored_items(db: str) -> set[int]:
    store = open_store(db)
    try:
        with store.session() as s:
            return {int(json.loads(r)["messages"][-1][1].split()[2]) for r in s.scalars(select(ResponseRecord.request))}
    finally:
        store.close()


def test_kill_9_then_resume_loses_nothing_and_pays_nothing_twice(tmp_path: Path, db_url: str) -> None:
    with ScriptedServerThread(sentiment_script(delay_s=0.08)) as server:
        task = write_task(tmp_path / "task", server.base_url, n=N, concurrency=CONCURRENCY)
        db = db_url  # the killed-and-resumed store (PostgreSQL too in the database pass)
        proc = subprocess.Popen(_eval(db, task), env=_env(tmp_path), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(server.received) < N // 3:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited early"
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        before = [item_of(r) for r in server.received]
        stored = _stored_items(db)
        assert 0 < len(stored) < N  # killed mid-run, with answers already committed

        resumed = subprocess.run(_eval(db, task), env=_env(tmp_path), capture_output=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr.decode()
        after = [item_of(r) for r in server.received][len(before):]

        fresh = subprocess.run(_eval(f"sqlite:///{tmp_path / 'fresh.db'}", task), env=_env(tmp_path),
                               capture_output=True, timeout=120)
        assert fresh.returncode == 0, fresh.stderr.decode()

    doc, ref = json.loads(resumed.stdout), json.loads(fresh.stdout)
    # results identical to an uninterrupted run
    assert [{k: m[k] for k in STABLE} for m in doc["models"]] == [{k: m[k] for k in STABLE} for m in ref["models"]]
    assert doc["recommended"] == ref["recommended"] and doc["sentence"] == ref["sentence"]
    assert doc["models"][0]["n"] == N
    # nothing lost: every item was asked; the resumed run used every stored answer
    assert set(before) | set(after) == set(range(N))
    assert doc["cache_hits"] == len(stored) and doc["calls"] == N - len(stored)
    # nothing paid twice: an answer that was stored is never requested again ...
    assert not stored & set(after)
    # ... and the only requests sent twice are those in flight at the kill (at most max_concurrency of them)
    twice = set(before) & set(after)
    print(f"killed after {len(before)} requests, {len(stored)} answers stored; sent again: {sorted(twice)}")
    assert len(twice) <= CONCURRENCY
    assert twice <= set(before) - stored
    assert len(after) == len(set(after)) and len(before) == len(set(before))
