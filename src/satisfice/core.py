"""Plain values and the one-method protocols every part of satisfice speaks.

Nothing here does I/O. Money is USD, prices are USD per million tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

DEFAULT_INPUT_SHARE = 0.75
"""Share of input tokens in the blended price: 3 input : 1 output (Artificial Analysis, Epoch AI)."""

DAYS_PER_YEAR = 365
"""Days in the year every annual figure (bills, savings, price trends) is computed over."""

Role = Literal["system", "user", "assistant", "tool"]

SELF_HOSTED_PREFIX = "self-hosted:"
"""Provider prefix of offers calibrated from a self-host bench: ``self-hosted:<name>``."""


def blend(input_per_m: float, output_per_m: float, input_share: float = DEFAULT_INPUT_SHARE) -> float:
    """Blended price per million tokens: ``share * input + (1 - share) * output``."""
    if not 0.0 <= input_share <= 1.0:
        raise ValueError(f"input_share must be within [0, 1], got {input_share}")
    return input_share * input_per_m + (1.0 - input_share) * output_per_m


def blend_label(input_share: float) -> str:
    """Human name of a blend, e.g. ``3:1 input:output`` for 0.75."""
    if input_share in (0.0, 1.0):
        return "input only" if input_share == 1.0 else "output only"
    ratio = input_share / (1.0 - input_share)
    if abs(ratio - round(ratio)) < 1e-9:
        return f"{round(ratio)}:1 input:output"
    return f"{input_share:.0%} input tokens"


LOCAL_PREFIX = "local/"


def default_provider(model_id: str, base_url: str | None = None) -> str:
    """The provider for a model named without one: ``local/...`` ids without an endpoint run in-process."""
    return "local" if model_id.startswith(LOCAL_PREFIX) and not base_url else "openai_compat"


@dataclass(frozen=True, slots=True)
class ModelRef:
    """Which model to call and where: a catalog id, the provider that reaches it and its endpoint.

    ``provider`` names the client factory (``openai_compat``, ``local`` or a plugin's); left empty it is
    :func:`default_provider` of the id and endpoint.
    """

    id: str
    provider: str = ""
    base_url: str | None = None
    api_key_env: str | None = None
    provider_model: str | None = None

    def __post_init__(self) -> None:
        if not self.provider:
            object.__setattr__(self, "provider", default_provider(self.id, self.base_url))

    @property
    def wire_name(self) -> str:
        """Name sent to the provider (its own id for the model when it differs from ours)."""
        return self.provider_model or self.id


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as reported by the provider (or counted locally).

    ``cached_input_tokens`` are part of ``input_tokens`` and ``reasoning_tokens`` part of ``output_tokens``.
    ``valid`` is False when the provider's report could not be trusted (``invalid_reason`` says why); such a
    usage is never billed as reported.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    valid: bool = True
    invalid_reason: str | None = None

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.valid and other.valid,
            self.invalid_reason or other.invalid_reason,
        )


@dataclass(frozen=True, slots=True)
class Price:
    """A price in USD per million tokens."""

    input_per_m: float
    output_per_m: float
    cached_input_per_m: float | None = None

    def blended(self, input_share: float = DEFAULT_INPUT_SHARE) -> float:
        """Blended price per million tokens."""
        return blend(self.input_per_m, self.output_per_m, input_share)

    def cost(self, usage: Usage) -> float:
        """USD for one call with this usage: cached input at ``cached_input_per_m`` (else the input price).

        The one cost function of evals and gateway; never negative (negative counts or prices count as 0).
        """
        inputs = max(0, usage.input_tokens)
        cached = min(max(0, usage.cached_input_tokens), inputs)
        cached_rate = self.cached_input_per_m if self.cached_input_per_m is not None else self.input_per_m
        return max(0.0, (
            (inputs - cached) * max(0.0, self.input_per_m)
            + cached * max(0.0, cached_rate)
            + max(0, usage.output_tokens) * max(0.0, self.output_per_m)
        ) / 1_000_000)


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """A provider-neutral request: chat messages or a plain prompt."""

    messages: Sequence[Message] = ()
    prompt: str | None = None
    max_tokens: int | None = None
    temperature: float | None = 0.0
    stop: Sequence[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_chat(self) -> bool:
        """True for chat requests, False for plain completions."""
        return self.prompt is None


@dataclass(frozen=True, slots=True)
class Completion:
    """What a model answered, with its usage and timing."""

    text: str
    usage: Usage = Usage()
    model: str = ""
    finish_reason: str | None = None
    latency_s: float = 0.0
    cost_usd: float | None = None
    """Set only where the provider itself bills by time (local models); otherwise priced from the catalog."""
    raw: dict[str, Any] | None = None


@runtime_checkable
class ModelClient(Protocol):
    """The one seam to a model: ``complete(request) -> Completion``; raises ProviderError."""

    async def complete(self, request: CompletionRequest) -> Completion:
        """Answer one request."""
        ...


@dataclass(frozen=True, slots=True)
class Score:
    """A scorer's verdict on one completion, in [0, 1]."""

    value: float
    explanation: str = ""
    cost_usd: float = 0.0
    """Extra spend the scorer itself incurred (a judge model)."""


__all__ = [
    "DEFAULT_INPUT_SHARE",
    "LOCAL_PREFIX",
    "SELF_HOSTED_PREFIX",
    "Completion",
    "CompletionRequest",
    "Message",
    "ModelClient",
    "ModelRef",
    "Price",
    "Score",
    "Usage",
    "blend",
    "blend_label",
    "default_provider",
]
