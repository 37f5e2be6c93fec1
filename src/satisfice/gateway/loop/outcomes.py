"""The outcome log: evidence about served answers (verifier verdicts, shadow agreement) and opted-in content.

The request path only appends to in-memory queues (microseconds); a background task writes them to
``gateway_outcomes`` and ``gateway_contents`` in one transaction every ``spend_log.flush_interval_s``, like
shadow rows. Client feedback does not pass through here: it is written at once by
:mod:`satisfice.gateway.loop.feedback`, which answers only after the row is stored. Content (prompt and answer) is
masked with :func:`satisfice.masking.mask` before it is queued, and kept only for routes with
``log_content: true``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Iterable
from typing import Any, TypeVar

from sqlalchemy import insert

from satisfice.gateway.loop.background import cancel
from satisfice.gateway.money.keys import utcnow
from satisfice.gateway.routes.loop_config import EVIDENCE_PRIORITY
from satisfice.masking import mask
from satisfice.store import Store
from satisfice.store.schema_outcomes import GatewayContent, GatewayOutcome

log = logging.getLogger("satisfice.gateway")
K = TypeVar("K", bound=Hashable)


def prompt_text(payload: dict[str, Any]) -> str:
    """A request's prompt as plain text: ``role: content`` lines of a chat, or the completion prompt."""
    messages = payload.get("messages")
    if isinstance(messages, list):
        lines = []
        for message in messages:
            if not isinstance(message, dict):
                continue
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            lines.append(f"{message.get('role', '')}: {content if isinstance(content, str) else ''}")
        return "\n".join(lines)
    prompt = payload.get("prompt")
    if isinstance(prompt, list):
        return "\n".join(str(p) for p in prompt)
    return prompt if isinstance(prompt, str) else ""


def best_scores(rows: Iterable[tuple[K, str, float]]) -> dict[K, float]:
    """One score per key (a request, or a request and model) from ``(key, kind, score)`` rows, oldest first.

    The kind highest in :data:`~satisfice.gateway.routes.loop_config.EVIDENCE_PRIORITY` stands for the key (the latest
    row of that kind); keys keep the order in which they first scored.
    """
    best: dict[K, tuple[int, float]] = {}
    for key, kind, score in rows:
        rank = EVIDENCE_PRIORITY.get(kind, 0)
        held = best.get(key)
        if held is None or rank >= held[0]:
            best[key] = (rank, float(score))
    return {key: score for key, (_, score) in best.items()}


def outcome_row(request_id: str, key_id: str | None, route: str, model: str, kind: str, score: float, *,
                label: str | None = None, comment: str | None = None, experiment: bool = False,
                cost_usd: float | None = None) -> dict[str, Any]:
    """One ``gateway_outcomes`` row as a dict (score clipped to [0, 1])."""
    return {"created_at": utcnow(), "request_id": request_id, "key_id": key_id, "route": route, "model": model,
            "kind": kind, "score": min(1.0, max(0.0, float(score))), "label": label, "comment": comment,
            "superseded": False, "experiment": experiment, "cost_usd": cost_usd}


class OutcomeLog:
    """Queues outcome and content rows and writes them in the background."""

    def __init__(self, store: Store, *, flush_interval_s: float = 0.5) -> None:
        self.store = store
        self.interval = flush_interval_s
        self._outcomes: list[dict[str, Any]] = []
        self._contents: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.written = 0

    @property
    def pending(self) -> int:
        """Rows queued and not written yet."""
        return len(self._outcomes) + len(self._contents)

    def add(self, row: dict[str, Any]) -> None:
        """Queue one outcome row (see :func:`outcome_row`)."""
        self._outcomes.append(row)

    def content(self, request_id: str, route: str, model: str, payload: dict[str, Any], answer: str, cost: float,
                secrets: Iterable[str] = ()) -> None:
        """Queue the masked prompt and answer of one request."""
        keys = tuple(secrets)
        self._contents.append({"request_id": request_id, "created_at": utcnow(), "route": route, "model": model,
                               "prompt": mask(prompt_text(payload), keys), "answer": mask(answer, keys),
                               "cost_usd": cost})

    def _write(self, outcomes: list[dict[str, Any]], contents: list[dict[str, Any]]) -> None:
        with self.store.transaction() as session:
            if outcomes:
                session.execute(insert(GatewayOutcome), outcomes)
            if contents:
                session.execute(insert(GatewayContent), contents)

    async def flush(self) -> int:
        """Write everything queued now (rows go back to the queue if the write fails)."""
        async with self._lock:
            outcomes, self._outcomes = self._outcomes, []
            contents, self._contents = self._contents, []
            if not outcomes and not contents:
                return 0
            try:
                await asyncio.to_thread(self._write, outcomes, contents)
            except Exception:
                self._outcomes[:0] = outcomes
                self._contents[:0] = contents
                raise
            self.written += len(outcomes) + len(contents)
            return len(outcomes) + len(contents)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception:  # rows stay queued; the next round tries again
                log.exception("outcome log: write failed; %d rows stay queued", self.pending)

    def start(self) -> None:
        """Start the background writer (inside a running event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="satisfice-outcome-log")

    async def stop(self) -> None:
        """Stop the writer and write what is queued."""
        task, self._task = self._task, None
        await cancel(task)
        try:
            await self.flush()
        except Exception:
            log.exception("outcome log: %d rows could not be written at shutdown", self.pending)


__all__ = ["OutcomeLog", "best_scores", "outcome_row", "prompt_text"]
