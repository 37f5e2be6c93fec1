"""The pass bar of a task: parse ``accuracy >= 0.90 at 95% confidence`` (or a mapping) into a Threshold."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ConfigDict, field_validator, model_validator
from pydantic.dataclasses import dataclass

from satisfice.errors import ConfigError

METRICS = ("accuracy",)
"""Metrics a threshold may name; accuracy is the mean score over the scored items (scores lie in [0, 1])."""

DEFAULT_CONFIDENCE = 0.95

_NUMBER = r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+"
_THRESHOLD = re.compile(
    rf"""^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*
         (?P<op>>=|=>|≥|>|<=|<|==|=)?\s*
         (?P<bar>(?:{_NUMBER}))?\s*(?P<bar_pct>%)?\s*
         (?:(?:at|with)\s+(?P<conf>(?:{_NUMBER}))\s*(?P<conf_pct>%)?\s*(?:confidence)?)?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


def parse_fraction(value: Any, *, what: str) -> float:
    """A number in [0, 1] from ``0.9``, ``"0.9"`` or ``"90%"``; ValueError naming ``what`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number like 0.9 or '90%', got {value!r}")
    percent = False
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            percent, text = True, text[:-1].strip()
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{what} must be a number like 0.9 or '90%', got {value!r}") from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise ValueError(f"{what} must be a number like 0.9 or '90%', got {value!r}")
    if percent:
        number /= 100.0
    if number != number:  # NaN
        raise ValueError(f"{what} must be a number, got NaN")
    if number > 1.0:
        hint = f"; write {number / 100:g} or '{number:g}%'" if number <= 100 and not percent else ""
        raise ValueError(f"{what} must lie within [0, 1], got {value!r}{hint}")
    if number < 0.0:
        raise ValueError(f"{what} must lie within [0, 1], got {value!r}")
    return number


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Threshold:
    """When a model passes: the metric must clear ``bar`` (and/or not be worse than a reference by ``margin``).

    Attributes:
        metric: The measured quantity; ``accuracy`` (mean score).
        bar: Minimum metric, in [0, 1]; a model passes when its lower confidence bound clears it.
        confidence: Confidence level of the decision, in (0, 1), e.g. 0.95.
        non_inferior_to: A candidate model id; passes when the paired difference to it is above ``-margin``.
        margin: Allowed shortfall against ``non_inferior_to``, in [0, 1).
    """

    metric: str = "accuracy"
    bar: float | None = None
    confidence: float = DEFAULT_CONFIDENCE
    non_inferior_to: str | None = None
    margin: float | None = None

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value.lower() not in METRICS:
            raise ValueError(f"unknown metric {value!r} (known: {', '.join(METRICS)})")
        return value.lower()

    @field_validator("bar", "margin", mode="before")
    @classmethod
    def _fraction(cls, value: Any, info: Any) -> float | None:
        if value is None:
            return None
        return parse_fraction(value, what=str(info.field_name))

    @field_validator("confidence", mode="before")
    @classmethod
    def _confidence(cls, value: Any) -> float:
        number = parse_fraction(value, what="confidence")
        if not 0.0 < number < 1.0:
            raise ValueError(f"confidence must lie strictly between 0 and 1 (e.g. 0.95 or '95%'), got {value!r}")
        return number

    @model_validator(mode="after")
    def _consistent(self) -> Threshold:
        if self.bar is None and self.non_inferior_to is None:
            raise ValueError("a threshold needs a bar (e.g. 'accuracy >= 0.9') or non_inferior_to with a margin")
        if self.non_inferior_to is not None and self.margin is None:
            raise ValueError(f"non_inferior_to {self.non_inferior_to!r} needs a margin (e.g. margin: 0.03)")
        if self.margin is not None and self.non_inferior_to is None:
            raise ValueError("margin is only meaningful with non_inferior_to: MODEL")
        if self.margin is not None and self.margin >= 1.0:
            raise ValueError(f"margin must be below 1, got {self.margin}")
        return self

    def describe(self) -> str:
        """Human form, e.g. ``accuracy >= 0.90 at 95% confidence``."""
        parts = []
        if self.bar is not None:
            parts.append(f"{self.metric} >= {self.bar:.2f}")
        if self.non_inferior_to is not None:
            parts.append(f"no worse than {self.non_inferior_to} by more than {self.margin:g}")
        return f"{' and '.join(parts)} at {self.confidence:.0%} confidence"


def parse_threshold(text: str) -> Threshold:
    """Parse ``"accuracy >= 0.90 at 95% confidence"``; ``90%`` works for the bar, confidence defaults to 0.95.

    Args:
        text: The threshold sentence.

    Returns:
        The parsed threshold.

    Raises:
        ConfigError: When the text is not of the form ``METRIC >= BAR [at CONFIDENCE confidence]``; the
            message says which part is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("threshold is empty; write e.g. 'accuracy >= 0.90 at 95% confidence'")
    match = _THRESHOLD.match(text)
    if match is None:
        raise ConfigError(
            f"cannot read threshold {text!r}; write e.g. 'accuracy >= 0.90 at 95% confidence'"
        )
    metric, op, bar = match["metric"], match["op"], match["bar"]
    if metric.lower() not in METRICS:
        raise ConfigError(f"threshold {text!r}: unknown metric {metric!r} (known: {', '.join(METRICS)})")
    if op is None or bar is None:
        raise ConfigError(f"threshold {text!r}: expected '>=' and a bar after {metric!r}, e.g. '{metric} >= 0.9'")
    if op not in (">=", "=>", "≥"):
        raise ConfigError(f"threshold {text!r}: the comparison must be '>=' (a bar to clear), not {op!r}")
    try:
        bar_value = parse_fraction(bar + ("%" if match["bar_pct"] else ""), what="bar")
        conf_value: float | str = DEFAULT_CONFIDENCE
        if match["conf"] is not None:
            conf_value = match["conf"] + ("%" if match["conf_pct"] else "")
        return Threshold(metric=metric.lower(), bar=bar_value, confidence=conf_value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(f"threshold {text!r}: {_plain(exc)}") from None


def _plain(exc: ValueError) -> str:
    """The message of a ValueError or of the first error of a pydantic ValidationError, without decoration."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first["msg"]).removeprefix("Value error, ")
    return str(exc)


__all__ = ["DEFAULT_CONFIDENCE", "METRICS", "Threshold", "parse_fraction", "parse_threshold"]
