"""A provider key in an upstream's error text never reaches an eval's error rows, its results or the report:
masking happens in the client, before the runner, the store or the report shortens anything."""

from __future__ import annotations

import itertools

import pytest
from evals_testkit import candidate, make_items, run_eval
from sqlalchemy import select

from satisfice.clients.http import HttpTransport
from satisfice.clients.openai_compat import OpenAICompatClient
from satisfice.clients.scripted_server import ScriptedServer, Step
from satisfice.core import ModelRef
from satisfice.evals.calls import RunSettings
from satisfice.evals.limits import Backoff
from satisfice.masking import FRAGMENT
from satisfice.store import Store
from satisfice.store.schema_evals import EvalErrorRecord

KEYS = ["sk-eval-Qm3vT8xK2pL9wR4nY7bZ1cF6hJ0", "Zq8wL2mX9pR4tY7uB3nV6cK1jH5gF0dSa"]


def leaked(text: str, key: str) -> list[str]:
    return [key[i:i + FRAGMENT] for i in range(len(key) - FRAGMENT + 1) if key[i:i + FRAGMENT] in text]


@pytest.mark.parametrize("key", KEYS, ids=["prefixed", "no prefix"])
async def test_eval_errors_hold_no_fragment_of_the_key(store: Store, monkeypatch: pytest.MonkeyPatch,
                                                       key: str) -> None:
    monkeypatch.setenv("EVAL_SECRET_KEY", key)
    pads = itertools.cycle([150, 165, 170, 180, 185, 190, 195, 199, 260, 270, 290, 299])
    settings = RunSettings(max_attempts=1, timeout_s=2.0, backoff=Backoff(base_s=0.001, cap_s=0.002))
    async with ScriptedServer(lambda r: Step.error(400, "k" * next(pads) + key + " rejected")) as server:
        transport = HttpTransport(timeout_s=5.0)
        ref = ModelRef("m", base_url=server.base_url, api_key_env="EVAL_SECRET_KEY")
        client = OpenAICompatClient(ref, transport=transport)
        try:
            outcome, results = await run_eval(store, make_items(12), [candidate("m", client)], settings=settings)
        finally:
            await transport.close()
    messages = [o.error_message or "" for o in outcome.outcomes]
    assert len(messages) == 12 and all(messages)
    assert not leaked(" ".join(messages), key)
    assert results.models[0].error_example and not leaked(results.models[0].error_example, key)
    with store.session() as s:
        stored = [r.message for r in s.scalars(select(EvalErrorRecord))]
    assert stored and not leaked(" ".join(stored), key)
