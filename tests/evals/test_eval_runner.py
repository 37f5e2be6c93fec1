"""The runner with a scripted client: errors never scored, retries bounded, cost counted once, cache, budget."""

from __future__ import annotations

from collections import Counter

import pytest
from evals_testkit import FAST, ExactScorer, VirtualClock, candidate, item_index, make_items, max_in_window, run_eval
from sqlalchemy import func, select

from satisfice.clients.scripted import Fault, ScriptedClient
from satisfice.core import CompletionRequest, Message, Score
from satisfice.errors import ConfigError, ProviderError
from satisfice.evals.calls import EvalItem, RunSettings
from satisfice.store import Store
from satisfice.store.schema_evals import EvalErrorRecord, EvalScoreRecord, ResponseRecord
from satisfice.tasks.threshold import Threshold


def flaky_script(permanent: set[int], transient: dict[int, list[Fault]]) -> ScriptedClient:
    """Items in ``permanent`` always fail; items in ``transient`` fail with the given faults first."""
    left = {k: list(v) for k, v in transient.items()}

    def answer(request: CompletionRequest) -> str | Fault:
        i = item_index(request)
        if i in permanent:
            return Fault("server_error", status=503)
        if left.get(i):
            return left[i].pop(0)
        return "yes" if i % 5 else "no"

    return ScriptedClient(answer, model="m")


def per_item_calls(client: ScriptedClient) -> Counter[int]:
    return Counter(item_index(r) for r in client.calls)


async def test_errors_are_never_scored_and_retries_are_bounded_and_visible(store: Store) -> None:
    client = flaky_script({2}, {4: [Fault("rate_limit", retry_after=0.001), Fault("bad_response")]})
    outcome, results = await run_eval(store, make_items(10), [candidate("m", client)])
    by_index = {o.index: o for o in outcome.outcomes}
    calls = per_item_calls(client)
    assert calls[2] == 4 and calls[4] == 3 and all(calls[i] == 1 for i in range(10) if i not in (2, 4))
    assert by_index[2].status == "error" and by_index[2].score is None and by_index[2].attempts == 4
    assert by_index[2].error_kind == "upstream_unavailable"
    assert by_index[4].status == "scored" and by_index[4].attempts == 3
    m = results.models[0]
    assert (m.n, m.n_errors, m.retries) == (9, 1, 3 + 2)
    assert m.accuracy == pytest.approx(7 / 9)  # items 0 and 5 answer "no"; item 2 is not in the denominator
    with store.session() as s:
        errors = s.scalars(select(EvalErrorRecord)).all()
        assert [(e.item_id, e.attempts, e.kind) for e in errors] == [("q2", 4, "upstream_unavailable")]
        scored = {r.item_id for r in s.scalars(select(EvalScoreRecord))}
        assert "q2" not in scored and len(scored) == 9
        assert s.scalar(select(func.count()).select_from(ResponseRecord)) == 9


async def test_cost_is_counted_once_per_answered_request(store: Store) -> None:
    client = flaky_script(set(), {1: [Fault("server_error"), Fault("timeout")], 3: [Fault("reset")]})
    outcome, results = await run_eval(store, make_items(6), [candidate("m", client, price=(1.0, 2.0))])
    # every request: 3 words in ("question i please"), 1 word out -> (3 * 1 + 1 * 2) / 1e6 USD
    assert results.models[0].cost_run == pytest.approx(6 * 5e-6)
    assert outcome.spent_usd == pytest.approx(6 * 5e-6)
    assert len(client.calls) == 6 + 3
    assert results.models[0].tokens_in == 18 and results.models[0].tokens_out == 6


async def test_non_retryable_error_is_tried_once(store: Store) -> None:
    def answer(request: CompletionRequest) -> str:
        if item_index(request) == 0:
            raise ProviderError("HTTP 400: bad request", status=400, retryable=False)
        return "yes"

    client = ScriptedClient(answer)
    outcome, results = await run_eval(store, make_items(3), [candidate("m", client)])
    assert per_item_calls(client)[0] == 1
    assert outcome.outcomes[0].status == "error" and outcome.outcomes[0].error_kind == "provider_error"
    assert results.models[0].n_errors == 1 and results.models[0].n == 2


async def test_rerun_costs_nothing_and_gives_identical_results(store: Store) -> None:
    client = flaky_script(set(), {0: [Fault("server_error")]})
    first, r1 = await run_eval(store, make_items(12), [candidate("m", client)])
    calls_after_first = len(client.calls)
    second, r2 = await run_eval(store, make_items(12), [candidate("m", client)])
    assert len(client.calls) == calls_after_first  # zero new calls
    assert (second.calls, second.cache_hits, second.spent_usd) == (0, 12, 0.0)
    assert first.calls == 12 and first.spent_usd > 0
    a, b = r1.models[0], r2.models[0]
    assert (a.n, a.accuracy, a.cost_run, a.tokens_in, a.tokens_out) == (b.n, b.accuracy, b.cost_run, b.tokens_in,
                                                                        b.tokens_out)
    third, _ = await run_eval(store, make_items(12), [candidate("m", client)],
                              settings=RunSettings(backoff=FAST.backoff, use_cache=False))
    assert third.calls == 12 and len(client.calls) == calls_after_first + 12  # --no-cache calls again


async def test_identical_requests_in_flight_are_sent_once(store: Store) -> None:
    client = ScriptedClient(lambda r: "yes", delay_s=0.05)
    base = make_items(1)[0]
    items = [base, EvalItem(1, base.sample, base.request)]  # two items, one identical request
    outcome, results = await run_eval(store, items, [candidate("m", client, concurrency=4)])
    assert len(client.calls) == 1
    assert [o.status for o in outcome.outcomes] == ["scored", "scored"]
    assert sum(o.spent_usd for o in outcome.outcomes) == pytest.approx(outcome.spent_usd)
    assert results.models[0].cost_run == pytest.approx(2 * 5e-6)  # each item costs a request in production


async def test_items_are_looked_up_once_per_run_and_a_repeat_is_paid_once(store: Store,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's first look-up covers its items: no store read per item before sending (a thread hop and a
    query each); an item repeated after its twin was answered still finds the stored answer."""
    from satisfice.evals.cache import ResponseCache

    reads: list[str] = []
    real_get = ResponseCache.get

    def counted_get(self: ResponseCache, key: str) -> object:
        reads.append(key)
        return real_get(self, key)

    monkeypatch.setattr(ResponseCache, "get", counted_get)
    client = ScriptedClient(lambda r: "yes")
    items = make_items(20)
    items.append(EvalItem(20, items[0].sample, items[0].request))  # the first item again, sent last
    outcome, _ = await run_eval(store, items, [candidate("m", client, concurrency=1)])
    assert len(client.calls) == 20 and outcome.cache_hits == 1
    assert len(reads) == 1  # only the repeat, once its twin's answer was stored


async def test_a_slot_is_free_again_once_the_answer_is_stored_not_once_it_is_scored(store: Store) -> None:
    """At concurrency 1, every request goes out while the first answer's scoring still waits (scoring and the
    score's write never hold the request slot)."""
    import asyncio

    all_sent = asyncio.Event()

    def answer(request: CompletionRequest) -> str:
        if item_index(request) == 4:
            all_sent.set()
        return "yes"

    class WaitingScorer:
        needs_reference = True

        async def __call__(self, sample: object, completion: object) -> Score:
            await all_sent.wait()
            return Score(1.0)

    client = ScriptedClient(answer)
    outcome, _ = await asyncio.wait_for(run_eval(store, make_items(5), [candidate("m", client, concurrency=1)],
                                                 scorer_factory=lambda judge: WaitingScorer()), 10)
    assert [o.status for o in outcome.outcomes] == ["scored"] * 5 and len(client.calls) == 5


async def test_a_score_that_cannot_be_stored_fails_the_run(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scores are written off the request path, yet a failed score write still ends the run with its error."""
    from typing import Any

    from satisfice.evals.cache import ResponseCache

    real = ResponseCache.write_batch

    def no_scores(self: ResponseCache, writes: list[tuple[str, dict[str, Any]]]) -> None:
        if any(kind == "score" for kind, _ in writes):
            raise OSError("disk full")
        real(self, writes)

    monkeypatch.setattr(ResponseCache, "write_batch", no_scores)
    client = ScriptedClient(lambda r: "yes")
    with pytest.raises(OSError, match="disk full"):
        await run_eval(store, make_items(50), [candidate("m", client, concurrency=4)])
    assert len(client.calls) < 50  # it stopped sending once a score failed


async def test_max_spend_stops_before_exceeding_and_resumes(store: Store) -> None:
    client = ScriptedClient(lambda r: "yes")
    price = (1000.0, 1000.0)  # USD per M: a request reserves (ceil(17/3)+8 + 5 tokens) * $0.001 = $0.019
    limit = 0.05  # each answer really costs $0.004 (4 tokens), so about 8 fit before a reservation does not
    settings = RunSettings(backoff=FAST.backoff, max_spend=limit)
    outcome, results = await run_eval(store, make_items(20), [candidate("m", client, price=price, concurrency=1)],
                                      settings=settings)
    assert outcome.status == "stopped_budget"
    assert 0 < outcome.spent_usd <= limit
    m = results.models[0]
    assert m.n == outcome.calls == len(client.calls) and m.n_not_run == 20 - m.n and m.n_not_run > 0
    assert {o.status for o in outcome.outcomes} == {"scored", "skipped"}
    # a bigger budget resumes: the answered items come from the cache, the rest are paid for once
    more, results2 = await run_eval(store, make_items(20), [candidate("m", client, price=price, concurrency=1)],
                                    settings=RunSettings(backoff=FAST.backoff, max_spend=1.0))
    assert more.status == "complete" and more.cache_hits == m.n and more.calls == 20 - m.n
    assert len(client.calls) == 20 and results2.models[0].n == 20


async def test_max_spend_refuses_models_without_a_price(store: Store) -> None:
    with pytest.raises(ConfigError, match="no price known for m"):
        await run_eval(store, make_items(2), [candidate("m", ScriptedClient(["yes"]), price=None)],
                       settings=RunSettings(max_spend=1.0))


async def test_requests_per_minute_are_respected(store: Store) -> None:
    clock = VirtualClock()
    sent: list[float] = []

    def answer(request: CompletionRequest) -> str:
        sent.append(clock())
        return "yes"

    cand = candidate("m", ScriptedClient(answer), concurrency=8, rpm=60)  # 1 per second, burst 1
    outcome, _ = await run_eval(store, make_items(30), [cand], clock=clock, sleep=clock.sleep)
    assert len(sent) == 30 and outcome.status == "complete"
    for window in (1.0, 5.0, 60.0):
        assert max_in_window(sent, window) <= 1 + 1.0 * window
    assert max(sent) >= 29.0  # 30 requests at 1/s after the first


async def test_tokens_per_minute_are_respected(store: Store) -> None:
    clock = VirtualClock()
    sent: list[float] = []

    def answer(request: CompletionRequest) -> str:
        sent.append(clock())
        return "yes"

    # 600/min = 10 tokens/s, bucket of 10. A request reserves ceil(17/3) + 8 + 5 = 19 tokens up front and gets
    # back what it did not use (each really uses 4: 3 in, 1 out).
    cand = candidate("m", ScriptedClient(answer), concurrency=4, tpm=600)
    await run_eval(store, make_items(10), [cand], clock=clock, sleep=clock.sleep)
    assert len(sent) == 10
    for window in (2.0, 10.0):  # tokens used in a window <= capacity + rate * T + one overdraft of a reservation
        assert max_in_window(sent, window) * 4 <= 10 + 10 * window + 19
    assert max(sent) >= (10 * 4 - 10) / 10  # the bucket really held requests back


async def test_retry_after_is_honoured(store: Store) -> None:
    clock = VirtualClock()
    script = [Fault("rate_limit", retry_after=7.0), "yes"]
    outcome, _ = await run_eval(store, make_items(1), [candidate("m", ScriptedClient(script))], clock=clock,
                                sleep=clock.sleep)
    assert outcome.outcomes[0].status == "scored" and outcome.outcomes[0].attempts == 2
    assert max(clock.sleeps) >= 7.0  # backoff alone would have waited ~1 ms


async def test_timeouts_are_errors_after_bounded_attempts(store: Store) -> None:
    client = ScriptedClient(lambda r: "yes", delay_s=2.0)
    settings = RunSettings(max_attempts=2, timeout_s=0.05, backoff=FAST.backoff)
    outcome, results = await run_eval(store, make_items(2), [candidate("m", client)], settings=settings)
    assert [o.error_kind for o in outcome.outcomes] == ["timeout", "timeout"]
    assert len(client.calls) == 4 and results.models[0].n == 0 and results.models[0].decision == "undecided"


async def test_scorer_failure_is_an_error_not_a_score(store: Store) -> None:
    class Broken:
        needs_reference = False

        async def __call__(self, sample: object, completion: object) -> Score:
            raise KeyError("no such field")

    outcome, results = await run_eval(store, make_items(2), [candidate("m", ScriptedClient(lambda r: "yes"))],
                                      scorer_factory=lambda judge: Broken())
    assert {o.status for o in outcome.outcomes} == {"error"}
    assert results.models[0].n == 0 and results.models[0].errors_by_kind == {"scorer_error": 2}
    assert results.models[0].cost_run is not None  # the answers were paid for and are counted


async def test_judge_costs_are_counted_and_cached(store: Store) -> None:
    judge_client = ScriptedClient(lambda r: "GRADE: C")

    class Judged:
        needs_reference = True

        def __init__(self, judge: object) -> None:
            self.judge = judge

        async def __call__(self, sample: object, completion: object) -> Score:
            graded = await self.judge.complete(  # type: ignore[attr-defined]
                CompletionRequest(messages=(Message("user", f"grade: {completion.text} ok"),)))  # type: ignore[attr-defined]
            return Score(1.0 if "C" in graded.text else 0.0)

    judge = candidate("judge", judge_client, price=(10.0, 10.0))
    threshold = Threshold(bar=0.5)
    outcome, results = await run_eval(store, make_items(3), [candidate("m", ScriptedClient(lambda r: "yes"))],
                                      scorer_factory=lambda j: Judged(j), judge=judge, threshold=threshold)
    m = results.models[0]
    # judge request "grade: yes ok" = 3 words in, 2 words out ("GRADE: C") at $10/M each
    assert m.judge_cost == pytest.approx(3 * 5 * 10 / 1e6)
    # the three judge requests are identical ("grade: yes ok"): sent once, paid once
    assert outcome.spent_usd == pytest.approx(3 * 5e-6 + 5 * 10 / 1e6)
    assert m.cost_per_request == pytest.approx(5e-6)  # the judge is not part of the production cost
    # identical judge requests (same answer) are sent once; a rerun sends nothing
    assert len(judge_client.calls) == 1
    again, _ = await run_eval(store, make_items(3), [candidate("m", ScriptedClient(lambda r: "yes"))],
                              scorer_factory=lambda j: Judged(j), judge=judge, threshold=threshold)
    assert again.calls == 0 and again.spent_usd == 0.0 and len(judge_client.calls) == 1


def test_exact_scorer_kit_is_sane() -> None:
    assert ExactScorer.needs_reference
