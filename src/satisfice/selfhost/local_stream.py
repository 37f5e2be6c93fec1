"""One streamed request to a local model running in this process, timed token by token (the bench's local streamer).

The model runs on xllamacpp's in-process engine with one decoding slot per concurrent request (continuous
batching), loaded by :func:`satisfice.clients.local.load_engine`. Each request runs in its own worker thread;
the engine calls back with every event as it is produced, and the callback notes the time, so the timings are
the engine's own and the event loop adds nothing to them. Token counts are the engine's ``usage`` (its tokenizer),
including the prompt tokens it reused from a slot's prefix cache.

Given a task's own requests, the streamer sends those (in turn) instead of synthetic prompts, each generating
exactly ``output_tokens`` tokens: the bench then measures the prompts the task will send, shared prefix included.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from satisfice.clients.local import LocalModelClient, load_engine
from satisfice.clients.sse import read_chunk
from satisfice.core import CompletionRequest, ModelRef, Usage
from satisfice.selfhost.driver import make_prompt
from satisfice.selfhost.economics import RequestSample

_CTX_MARGIN = 64
"""Context tokens per slot beyond prompt + output (the prompt's token count is only approximate)."""


def sample_from_events(start: float, end: float, events: list[tuple[float, Any]]) -> RequestSample:
    """A sample from ``(time, event)`` pairs as the engine produced them (usage from the last event that has it)."""
    times: list[float] = []
    usage: Usage | None = None
    for when, event in events:
        if not isinstance(event, dict):
            continue
        if "error" in event:
            return RequestSample(start, end, error="engine_error")
        text, _, chunk_usage, _, _ = read_chunk(event)
        if text:
            times.append(when)
        if chunk_usage is not None:
            usage = chunk_usage
    first = times[0] if times else None
    gaps = tuple(b - a for a, b in zip(times, times[1:], strict=False))
    if usage is None:
        return RequestSample(start, end, first_token=first, output_tokens=len(times), gaps=gaps, usage_reported=False)
    if not usage.valid:
        return RequestSample(start, end, error="invalid_usage")
    return RequestSample(start, end, first_token=first, input_tokens=usage.input_tokens,
                         output_tokens=usage.output_tokens, gaps=gaps, cached_input_tokens=usage.cached_input_tokens)


class LocalStreamer:
    """A :class:`~satisfice.selfhost.driver.Streamer` for a ``local/...`` model run in this process.

    Args:
        model_id: ``local/smollm2-135m`` or ``local/gemma3-270m``.
        prompt_tokens: About how many tokens each prompt has.
        output_tokens: Tokens generated per request (end-of-text is ignored, so every request does the same work).
        slots: Parallel decoding slots: the highest concurrency the bench will use.
        n_threads: CPU threads for the engine (default: all cores).
        requests: A task's own requests, sent in turn instead of synthetic prompts (empty: synthetic).
        n_ctx: Context window of the engine (default: enough for every slot's prompt and output).

    Raises:
        ConfigError: unknown local model, or xllamacpp or the weights are not installed (with the pip command).
    """

    def __init__(self, model_id: str, *, prompt_tokens: int, output_tokens: int, slots: int,
                 n_threads: int | None = None, requests: Sequence[CompletionRequest] = (),
                 n_ctx: int | None = None) -> None:
        self._client = LocalModelClient(ModelRef(model_id))  # checks the model and its packages, loads nothing
        self.model_id = model_id
        self.prompt_tokens = prompt_tokens
        self.output_tokens = output_tokens
        self.slots = max(1, slots)
        self.n_ctx = n_ctx or self.slots * (prompt_tokens + output_tokens + _CTX_MARGIN)
        self.requests = list(requests)
        self._n_threads = n_threads
        self._engine: Any = None
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="selfhost-local")

    def load(self) -> float:
        """Load the engine now (blocking); returns the seconds it took (0 when already loaded)."""
        if self._engine is not None:
            return 0.0
        started = time.perf_counter()
        self._engine = load_engine(self.model_id, slots=self.slots, n_ctx=self.n_ctx, n_threads=self._n_threads)
        return time.perf_counter() - started

    def _run(self, chat: bool, body: dict[str, Any]) -> RequestSample:
        events: list[tuple[float, Any]] = []
        clock = time.perf_counter

        def on_event(event: Any) -> None:
            events.append((clock(), event))

        start = clock()
        try:
            handler = self._engine.handle_chat_completions if chat else self._engine.handle_completions
            result = handler(body, on_event)
        except (ValueError, RuntimeError, TypeError):
            return RequestSample(start, clock(), error="engine_error")
        end = clock()
        if isinstance(result, dict) and "error" in result:
            return RequestSample(start, end, error="engine_error")
        return sample_from_events(start, end, events)

    async def __call__(self, index: int) -> RequestSample:
        """Run request ``index`` on the engine in a worker thread and time its stream."""
        if self._engine is None:
            await asyncio.to_thread(self.load)
        _, request = self.request(index)
        chat, body = self._client.payload(request)
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, chat, body)

    def request(self, index: int) -> tuple[int, CompletionRequest]:
        """Request number ``index``: the task's next request (and its position) or a synthetic prompt (-1)."""
        if not self.requests:
            return -1, CompletionRequest(prompt=make_prompt(index, self.prompt_tokens),
                                         max_tokens=self.output_tokens, temperature=0.0, extra={"ignore_eos": True})
        at = index % len(self.requests)
        base = self.requests[at]
        return at, dataclasses.replace(base, max_tokens=self.output_tokens, stop=None, temperature=0.0,
                                       extra={**base.extra, "ignore_eos": True})

    def close(self) -> None:
        """Stop the worker threads (the engine stays loaded for the process)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["LocalStreamer", "sample_from_events"]
