"""An in-process scripted model for tests: outputs and provider faults given as data.

A test tool, never a product default. :class:`ScriptedClient` answers each request with the next item of
its script (or what a callable returns for the request): a string (the answer), a :class:`Fault` (raises the
matching :mod:`satisfice.errors` error, as a real provider failure would) or a ready-made
:class:`~satisfice.core.Completion`. Usage is deterministic: whitespace-separated words in and out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from satisfice.core import Completion, CompletionRequest, Usage
from satisfice.errors import BadResponse, ProviderError, RateLimited, Timeout, UpstreamUnavailable

FaultKind = Literal["rate_limit", "server_error", "timeout", "bad_response", "reset"]


@dataclass(frozen=True, slots=True)
class Fault:
    """A provider failure to raise instead of answering.

    ``rate_limit`` -> RateLimited (with ``retry_after``), ``server_error`` -> UpstreamUnavailable (HTTP
    ``status``, 500 by default), ``timeout`` -> Timeout, ``bad_response`` -> BadResponse, ``reset`` ->
    UpstreamUnavailable without a status (connection reset).
    """

    kind: FaultKind
    retry_after: float | None = None
    status: int | None = None
    message: str = ""

    def to_error(self, model: str) -> ProviderError:
        """The exception this fault stands for."""
        text = f"{model}: scripted {self.kind}" + (f": {self.message}" if self.message else "")
        if self.kind == "rate_limit":
            return RateLimited(text, retry_after=self.retry_after, status=self.status or 429)
        if self.kind == "server_error":
            return UpstreamUnavailable(text, status=self.status or 500)
        if self.kind == "timeout":
            return Timeout(text, status=self.status)
        if self.kind == "bad_response":
            return BadResponse(text, status=self.status)
        if self.kind == "reset":
            return UpstreamUnavailable(text, status=None)
        raise ValueError(f"unknown fault kind {self.kind!r}")


Output = str | Fault | Completion
Outputs = Sequence[Output] | Callable[[CompletionRequest], Output]


def word_count(text: str) -> int:
    """The scripted token count: whitespace-separated words."""
    return len(text.split())


def request_text(request: CompletionRequest) -> str:
    """All the text a request sends (prompt, or message contents joined by spaces)."""
    if request.prompt is not None:
        return request.prompt
    return " ".join(m.content for m in request.messages)


class ScriptedClient:
    """A :class:`~satisfice.core.ModelClient` answering from a script.

    Args:
        outputs: Items used one per call in order, or a callable returning the item for a request.
        model: The model name put in each completion.
        default: Answer once a list script is used up; ``None`` raises ``RuntimeError`` (a test bug).
        delay_s: Simulated latency per call (awaited; also reported as ``latency_s``).
        cost_usd: Put into each completion's ``cost_usd`` (as time-billed local models do); None by default.

    Attributes:
        calls: Every request received, in order (faults included).
    """

    def __init__(self, outputs: Outputs, *, model: str = "scripted", default: str | None = None,
                 delay_s: float = 0.0, cost_usd: float | None = None) -> None:
        self._outputs = outputs
        self.model = model
        self._default = default
        self._delay_s = delay_s
        self._cost_usd = cost_usd
        self._next = 0
        self.calls: list[CompletionRequest] = []

    def _output_for(self, request: CompletionRequest) -> Output:
        outputs = self._outputs
        if callable(outputs):
            return outputs(request)
        if self._next < len(outputs):
            item = outputs[self._next]
            self._next += 1
            return item
        if self._default is not None:
            return self._default
        raise RuntimeError(f"ScriptedClient {self.model!r}: script exhausted after {len(outputs)} outputs")

    async def complete(self, request: CompletionRequest) -> Completion:
        """Record the request, then answer with (or raise) the next scripted output."""
        self.calls.append(request)
        output = self._output_for(request)
        if self._delay_s > 0:
            await asyncio.sleep(self._delay_s)
        if isinstance(output, Fault):
            raise output.to_error(self.model)
        if isinstance(output, Completion):
            return output
        text = output
        if request.stop:  # honour stop sequences like a real server would
            cut = min((i for s in request.stop if s and (i := text.find(s)) >= 0), default=-1)
            if cut >= 0:
                text = text[:cut]
        usage = Usage(input_tokens=word_count(request_text(request)), output_tokens=word_count(text))
        return Completion(text=text, usage=usage, model=self.model, finish_reason="stop",
                          latency_s=self._delay_s, cost_usd=self._cost_usd)


__all__ = ["Fault", "FaultKind", "Output", "Outputs", "ScriptedClient", "request_text", "word_count"]
