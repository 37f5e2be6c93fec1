"""Group commit: concurrent writes share transactions, each is durable when its await returns, failures reach
every caller in the failed batch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from satisfice.core import Completion, CompletionRequest, Message, ModelRef, Usage
from satisfice.evals.cache import ResponseCache, response_row, score_row
from satisfice.evals.writer import GroupWriter
from satisfice.store import Store
from satisfice.store.schema_evals import EvalScoreRecord, ResponseRecord

REF = ModelRef("m", base_url="http://127.0.0.1:9/v1")


def _row(i: int, text: str = "yes") -> dict[str, object]:
    request = CompletionRequest(messages=[Message("user", f"item {i}")], max_tokens=3)
    return response_row(f"{i:064d}", REF, request, Completion(text, Usage(3, 1)), 0.001, 1)


def _count(store: Store, table: type) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


@pytest.mark.db
async def test_concurrent_writes_are_grouped_and_durable_on_return(store: Store) -> None:
    cache = ResponseCache(store)
    run_id = cache.start_run("t", "h", "task.yaml", ["m"])
    writer = GroupWriter(cache)
    seen: list[int] = []

    async def one(i: int) -> None:
        await writer.write("response", _row(i))
        seen.append(_count(store, ResponseRecord))  # committed before the await returned
        await writer.write("score", score_row(run_id, "m", f"r{i}", i, f"{i:064d}", 1.0, "", 0.0))

    await asyncio.gather(*(one(i) for i in range(300)))
    await writer.close()
    assert _count(store, ResponseRecord) == 300 and _count(store, EvalScoreRecord) == 300
    assert all(n >= 1 for n in seen)
    assert writer.writes == 600
    assert writer.batches < 300, "300 concurrent answers should share transactions"


@pytest.mark.db
async def test_a_replaced_answer_keeps_the_newest(store: Store) -> None:
    cache = ResponseCache(store)
    async with GroupWriter(cache) as writer:
        await asyncio.gather(writer.write("response", _row(1, "old")), writer.write("response", _row(1, "new")))
        await writer.write("response", _row(1, "newest"))
    hit = cache.get(f"{1:064d}")
    assert hit is not None and hit.completion.text == "newest"


@pytest.mark.db
async def test_a_failed_batch_fails_every_write_in_it(store: Store) -> None:
    cache = ResponseCache(store)
    writer = GroupWriter(cache)
    bad = score_row(999_999, "m", "r0", 0, "k", 1.0, "", 0.0)  # no such run: the foreign key refuses it
    bad["run_id"] = None  # NOT NULL on every store
    with pytest.raises(Exception):  # noqa: B017  (the store's own integrity error, whichever the dialect)
        await writer.write("score", bad)
    await writer.write("response", _row(2))  # the writer goes on after a failed batch
    await writer.close()
    assert cache.get(f"{2:064d}") is not None


@pytest.mark.db
async def test_one_loop_turn_of_writes_is_committed_in_bounded_batches(store: Store,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """300 writes handed over in one turn go in batches of at most MAX_BATCH, the first released first."""
    from satisfice.evals import writer as writer_module

    cache = ResponseCache(store)
    sizes: list[int] = []
    real = cache.write_batch

    def counted(writes: list[tuple[str, dict[str, Any]]]) -> None:
        sizes.append(len(writes))
        real(writes)

    monkeypatch.setattr(cache, "write_batch", counted)
    writer = GroupWriter(cache)
    order: list[int] = []

    async def one(i: int) -> None:
        await writer.write("response", _row(i))
        order.append(i)

    await asyncio.gather(*(one(i) for i in range(300)))
    await writer.close()
    assert sum(sizes) == 300 and max(sizes) <= writer_module.MAX_BATCH and len(sizes) >= 3
    assert order[:writer_module.MAX_BATCH] == list(range(writer_module.MAX_BATCH))  # the first batch came back first
    assert _count(store, ResponseRecord) == 300
