"""Checks on an answer that decide whether a route's cascade accepts it or escalates to the next model.

A verifier is ``async check(text, payload) -> None | str``: None accepts, a string is the reason for rejecting.
Built-ins: ``non_empty``, ``json`` (valid JSON, optionally against a JSON Schema), ``regex`` (the whole answer,
stripped, must match), ``max_length`` (characters), ``scorer`` (the route's task scorer, only when it needs no
reference answer; accepts when the score is at least ``min_score``) and ``custom`` (``module:function`` taking
``(text, payload)`` and returning a bool, a reason string or None, or an awaitable of one).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import Field, field_validator

from satisfice.errors import ConfigError
from satisfice.gateway.routes.config import VerifierConfig
from satisfice.gateway.routes.verifier_registry import VERIFIERS, Verifier, VerifierContext, VerifierEntry
from satisfice.gateway.routes.verifier_registry import NoOptions as _Options
from satisfice.pyref import is_ref, load_function
from satisfice.schemas import check_schema, schema_error


@dataclass(frozen=True)
class NonEmpty:
    """The answer has some non-whitespace text."""

    name: str = "non_empty"

    async def check(self, text: str, payload: dict[str, Any]) -> str | None:
        """Reject blank answers."""
        return None if text.strip() else "answer is empty"


@dataclass(frozen=True)
class JsonValid:
    """The answer is JSON (code fences around it are tolerated), optionally matching a JSON Schema."""

    schema: dict[str, Any] | None = None
    name: str = "json"

    async def check(self, text: str, payload: dict[str, Any]) -> str | None:
        """Reject invalid JSON and schema violations."""
        body = text.strip()
        if body.startswith("```"):
            body = body.strip("`").removeprefix("json").strip()
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            return "answer is not valid JSON"
        problem = schema_error(value, self.schema) if self.schema is not None else None
        return f"answer does not match the schema {problem}" if problem is not None else None


@dataclass(frozen=True)
class Regex:
    """The whole stripped answer matches a pattern."""

    pattern: re.Pattern[str]
    name: str = "regex"

    async def check(self, text: str, payload: dict[str, Any]) -> str | None:
        """Reject answers that do not match."""
        return None if self.pattern.fullmatch(text.strip()) else f"answer does not match /{self.pattern.pattern}/"


@dataclass(frozen=True)
class MaxLength:
    """The answer has at most ``max_chars`` characters."""

    max_chars: int
    name: str = "max_length"

    async def check(self, text: str, payload: dict[str, Any]) -> str | None:
        """Reject answers that are too long."""
        return None if len(text) <= self.max_chars else f"answer has {len(text)} characters (max {self.max_chars})"


@dataclass(frozen=True)
class Custom:
    """A user function ``(text, payload) -> bool | str | None`` (or an awaitable of one)."""

    function: Callable[[str, dict[str, Any]], Any]
    name: str = "custom"

    async def check(self, text: str, payload: dict[str, Any]) -> str | None:
        """Run the user's function; False or a string rejects."""
        result = self.function(text, payload)
        if inspect.isawaitable(result):
            result = await result
        if result is True or result is None:
            return None
        if result is False:
            return f"{self.name} rejected the answer"
        return str(result)


@dataclass(frozen=True)
class ScorerCheck:
    """The task's scorer, run without a reference answer; passes at ``min_score`` or more."""

    scorer: Any
    min_score: float
    name: str = "scorer"

    async def check(self, text: str, payload: dict[str, Any]) -> str | None:
        """Score the answer as the task would (no target)."""
        from satisfice.core import Completion
        from satisfice.tasks.datasets import Sample

        sample = Sample(id="gateway", fields=request_fields(payload), target=None)
        score = await self.scorer(sample, Completion(text=text))
        if score.value >= self.min_score:
            return None
        return f"scorer gave {score.value:.3g} (< {self.min_score:g})" + (
            f": {score.explanation[:160]}" if score.explanation else "")


def request_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """What a scorer sees of a gateway request: ``input`` (last user text or the prompt) and ``messages``."""
    messages = payload.get("messages")
    text = ""
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"),
                                                                                           str):
                text = message["content"]
                break
    elif isinstance(payload.get("prompt"), str):
        text = payload["prompt"]
    return {"input": text, "messages": messages if isinstance(messages, list) else []}


def task_scorer(task_file: Path) -> tuple[Any, Any]:
    """Load a task file and build its scorer: ``(spec, scorer)``."""
    from satisfice.tasks.scorers import build_scorer
    from satisfice.tasks.spec import load_task

    spec = load_task(task_file)
    return spec, build_scorer(spec.scorer, base_dir=spec.base_dir)


class JsonOptions(_Options):
    """``json``: optionally a JSON Schema the answer must match."""

    schema_: dict[str, Any] | None = Field(default=None, alias="schema")

    @field_validator("schema_")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_schema(value) if value is not None else None


class RegexOptions(_Options):
    """``regex``: the pattern the whole stripped answer must match."""

    pattern: str = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex {value!r}: {exc}") from None
        return value


class MaxLengthOptions(_Options):
    """``max_length``: the most characters an answer may have."""

    max_chars: int = Field(ge=0)


class ScorerOptions(_Options):
    """``scorer``: the lowest score the route's task scorer may give."""

    min_score: float = Field(default=1.0, ge=0, le=1)


class CustomOptions(_Options):
    """``custom``: ``module:function`` (resolved beside the gateway config first)."""

    target: str

    @field_validator("target")
    @classmethod
    def _ref(cls, value: str) -> str:
        if not is_ref(value):
            raise ValueError(f"custom verifier needs 'module:function', got {value!r}")
        return value


def _scorer_check(options: ScorerOptions, ctx: VerifierContext) -> Verifier:
    if ctx.scorer is None:
        raise ConfigError(f"routes.{ctx.route}: the scorer verifier needs the route's task_file")
    if getattr(ctx.scorer, "needs_reference", True):
        raise ConfigError(f"routes.{ctx.route}: the task's scorer needs a reference answer, so it cannot check "
                          "answers in the gateway; use shadow checks with compare: scorer instead")
    return ScorerCheck(ctx.scorer, options.min_score)


def _custom(options: CustomOptions, ctx: VerifierContext) -> Verifier:
    return Custom(load_function(options.target, base_dir=ctx.base_dir, what="custom verifier"), name=options.target)


for _entry in (
    VerifierEntry("non_empty", lambda o, c: NonEmpty(), help="the answer has some text"),
    VerifierEntry("json", lambda o, c: JsonValid(o.schema_), JsonOptions, help="valid JSON, optionally a schema"),
    VerifierEntry("regex", lambda o, c: Regex(re.compile(o.pattern, re.DOTALL)), RegexOptions, "pattern",
                  help="the whole stripped answer matches"),
    VerifierEntry("max_length", lambda o, c: MaxLength(o.max_chars), MaxLengthOptions, "max_chars",
                  help="at most N characters"),
    VerifierEntry("scorer", _scorer_check, ScorerOptions, needs_scorer=True,
                  help="the route's task scorer, without a reference"),
    VerifierEntry("custom", _custom, CustomOptions, "target", help="module:function (text, payload) -> ok"),
):
    VERIFIERS.add(_entry)


def build_verifier(cfg: VerifierConfig, *, route: str, scorer: Any = None, base_dir: Path = Path(".")) -> Verifier:
    """A verifier from its config; ``scorer`` is the route's task scorer, ``base_dir`` the config's folder."""
    return VERIFIERS.get(cfg.kind).factory(cfg.parsed(), VerifierContext(route, scorer, base_dir))


async def run_verifiers(verifiers: tuple[Verifier, ...], text: str, payload: dict[str, Any]) -> str | None:
    """The first failure reason (``"<name>: <reason>"``), or None when every verifier accepts."""
    for verifier in verifiers:
        try:
            reason = await verifier.check(text, payload)
        except Exception as exc:  # a broken check rejects the answer rather than failing the request
            reason = f"raised {type(exc).__name__}: {str(exc)[:160]}"
        if reason is not None:
            return f"{verifier.name}: {reason}"
    return None


__all__ = [
    "Custom",
    "JsonValid",
    "MaxLength",
    "NonEmpty",
    "Regex",
    "ScorerCheck",
    "Verifier",
    "build_verifier",
    "request_fields",
    "run_verifiers",
    "task_scorer",
]
