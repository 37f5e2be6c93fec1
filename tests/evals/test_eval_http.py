"""The runner against a real OpenAI-compatible scripted server on 127.0.0.1: faults over HTTP."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from evals_testkit import candidate, make_items, run_eval

from satisfice.clients.http import HttpTransport
from satisfice.clients.openai_compat import OpenAICompatClient
from satisfice.clients.scripted_server import Received, ScriptedServer, Step
from satisfice.core import ModelRef
from satisfice.evals.calls import RunSettings
from satisfice.evals.limits import Backoff
from satisfice.store import Store


def _index(received: Received) -> int:
    return int(received.body["messages"][-1]["content"].split()[1])


async def test_http_faults_are_retried_bounded_and_never_scored(store: Store) -> None:
    plans: dict[int, list[Step]] = {
        0: [Step.rate_limit(retry_after=0.05)],
        1: [Step.error(500), Step.error(503)],
        2: [Step.delay(2.0, "yes")],  # longer than the request timeout
        3: [Step.malformed()],
        4: [Step.truncated("yes")],
        5: [Step.error(500)] * 10,  # still failing after the last attempt
        6: [Step.error(400, "bad request")],  # not retryable
    }

    def script(received: Received) -> Step:
        steps = plans.get(_index(received))
        return steps.pop(0) if steps else Step.answer("yes")

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(seconds)

    settings = RunSettings(max_attempts=4, timeout_s=0.5, backoff=Backoff(base_s=0.001, cap_s=0.004))
    async with ScriptedServer(script) as server:
        transport = HttpTransport(timeout_s=5.0)
        client = OpenAICompatClient(ModelRef("m", base_url=server.base_url), transport=transport)
        try:
            outcome, results = await run_eval(store, make_items(10), [candidate("m", client)], settings=settings,
                                              sleep=sleep)
        finally:
            await transport.close()
        requests = Counter(_index(r) for r in server.received)
    assert dict(requests) == {0: 2, 1: 3, 2: 2, 3: 2, 4: 2, 5: 4, 6: 1, 7: 1, 8: 1, 9: 1}
    by_index = {o.index: o for o in outcome.outcomes}
    assert {i for i, o in by_index.items() if o.status == "error"} == {5, 6}
    assert by_index[5].error_kind == "upstream_unavailable" and by_index[5].attempts == 4
    assert by_index[6].error_kind == "provider_error" and by_index[6].attempts == 1
    assert [by_index[i].attempts for i in range(5)] == [2, 3, 2, 2, 2]
    assert all(by_index[i].score == 1.0 for i in range(10) if i not in (5, 6))
    m = results.models[0]
    assert (m.n, m.n_errors, m.accuracy) == (8, 2, 1.0)
    # the report can say what went wrong: the first error's message is kept
    assert m.error_example in {by_index[5].error_message, by_index[6].error_message} and m.error_example
    assert max(sleeps) >= 0.05  # Retry-After honoured (backoff alone is capped at 4 ms)
    # cost once: 8 answered requests, each 3 words in and 1 out at $1/$2 per M; failed attempts cost nothing
    assert m.cost_run == pytest.approx(8 * 5e-6) and outcome.spent_usd == pytest.approx(8 * 5e-6)
    assert (m.tokens_in, m.tokens_out) == (24, 8)
