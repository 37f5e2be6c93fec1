"""The one reader of a provider's OpenAI ``usage`` object, shared by evals and the gateway.

:func:`parse_usage` never raises: a usage object that cannot be trusted (missing, not an object, a count that
is a boolean, negative, fractional, a string, above :data:`MAX_TOKENS` or inconsistent with the others) comes
back as a :class:`~satisfice.core.Usage` with ``valid=False`` and a one-line ``invalid_reason``. The caller
decides what to bill then (the eval runner records an error; the gateway bills through :func:`billed_usage`).
A valid usage always has non-negative counts, so no cost computed from it is negative.

:func:`billed_usage` is where the gateway's two spend-row facts are decided: ``estimated`` (the tokens billed are
the gateway's estimate, because the upstream gave no usage or one that failed the checks) and ``invalid`` (the
upstream *did* report a usage, and it failed the checks: a lying or broken upstream).

Fields read: ``prompt_tokens``, ``completion_tokens`` (required), ``prompt_tokens_details.cached_tokens`` and
``completion_tokens_details.reasoning_tokens`` (optional; ``null`` reads as 0). Cached tokens are part of the
prompt and reasoning tokens part of the completion, as OpenAI reports them.
"""

from __future__ import annotations

from typing import Any

from satisfice.core import Usage

MAX_TOKENS = 100_000_000
"""Largest count believed for one call (no model reads or writes this many tokens in one request)."""


def _count(value: Any, name: str) -> tuple[int, str | None]:
    if isinstance(value, bool) or not isinstance(value, int):
        shown = repr(value)[:40]
        return 0, f"usage.{name} is not a token count: {shown}"
    if value < 0:
        return 0, f"usage.{name} is negative: {value}"
    if value > MAX_TOKENS:
        return 0, f"usage.{name} is implausibly large: {value}"
    return value, None


def _detail(usage: dict[str, Any], parent: str, name: str) -> tuple[int, str | None]:
    details = usage.get(parent)
    if details is None:
        return 0, None
    if not isinstance(details, dict):
        return 0, f"usage.{parent} is not an object"
    value = details.get(name)
    if value is None:
        return 0, None
    return _count(value, f"{parent}.{name}")


def invalid(reason: str) -> Usage:
    """A usage that must not be billed as reported, with why."""
    return Usage(valid=False, invalid_reason=reason)


def parse_usage(raw: object) -> Usage:
    """Token counts from an OpenAI ``usage`` object; ``valid=False`` (never an exception) when untrustworthy.

    Args:
        raw: The decoded ``usage`` value of an answer or of a stream's usage chunk (any JSON value).

    Returns:
        The counts, or a zero usage with ``valid=False`` and ``invalid_reason`` set.
    """
    if raw is None:
        return invalid("answer has no usage")
    if not isinstance(raw, dict):
        return invalid("usage is not an object")
    prompt, why = _count(raw.get("prompt_tokens"), "prompt_tokens")
    if why is None:
        completion, why = _count(raw.get("completion_tokens"), "completion_tokens")
    if why is None:
        cached, why = _detail(raw, "prompt_tokens_details", "cached_tokens")
    if why is None:
        reasoning, why = _detail(raw, "completion_tokens_details", "reasoning_tokens")
    if why is not None:
        return invalid(why)
    if cached > prompt:
        return invalid(f"usage.prompt_tokens_details.cached_tokens ({cached}) exceeds prompt_tokens ({prompt})")
    if reasoning > completion:
        return invalid(f"usage.completion_tokens_details.reasoning_tokens ({reasoning}) exceeds "
                       f"completion_tokens ({completion})")
    return Usage(input_tokens=prompt, output_tokens=completion, cached_input_tokens=cached,
                 reasoning_tokens=reasoning)


def reported_usage(raw: object) -> Usage | None:
    """The usage an answer or stream event reports, read by :func:`parse_usage`; None where it reports none."""
    return None if raw is None else parse_usage(raw)


Billed = tuple[Usage, bool, bool]
"""What to bill for one answer, and why (a plain tuple: built once per request on the gateway's path). In order:

* the usage to bill: the reported usage when it is valid, else the estimate (``valid=False``, ``invalid_reason``
  says why);
* ``estimated``: the counts are the estimate (the upstream reported no usage, or one that failed the checks);
* ``invalid``: the upstream reported a usage and it failed the checks (never set when it reported none).
"""


def estimate_tokens(chars: int) -> int:
    """Rough token count for ``chars`` characters (4 per token), used only when a provider's usage is unusable."""
    return (chars + 3) // 4


def billed_usage(reported: Usage | None, input_estimate: int, text: str) -> Billed:
    """What to bill: ``reported`` (from :func:`reported_usage`) when valid, else the estimate, flagged.

    Args:
        reported: The upstream's usage, None when it sent none.
        input_estimate: The caller's estimate of the prompt's tokens.
        text: The answer's text (its length gives the output estimate).
    """
    if reported is not None and reported.valid:
        return reported, False, False
    reason = reported.invalid_reason if reported is not None else "answer has no usage"
    return (Usage(input_estimate, estimate_tokens(len(text)), valid=False, invalid_reason=reason), True,
            reported is not None)


__all__ = ["MAX_TOKENS", "Billed", "billed_usage", "estimate_tokens", "invalid", "parse_usage", "reported_usage"]
