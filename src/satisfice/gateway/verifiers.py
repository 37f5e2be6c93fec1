"""Checks on an answer that decide whether a route's cascade accepts it or escalates to the next model.

A verifier is ``async check(text, payload) -> None | str``: None accepts, a string is the reason for rejecting.
Built-ins: ``non_empty``, ``json`` (valid JSON, optionally against a JSON Schema), ``regex`` (the whole answer,
stripped, must match), ``max_length`` (characters), ``scorer`` (the route's task scorer, only when it needs no
reference answer; accepts when the score is at least ``min_score``) and ``custom`` (``module:function`` taking
``(text, payload)`` and returning a bool, a reason string or None, or an awaitable of one).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from satisfice.errors import ConfigError
from satisfice.gateway.config import VerifierConfig


class Verifier(Protocol):
    """One check on an answer's text."""

    @property
    def name(self) -> str:
        """Shown in reasons and metrics."""
        ...

    async def check(self, text: str, payload: dict[str, Any]) -> str | None:
        """None when the answer passes; else why it fails."""
        ...


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

    validator: Any = None
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
        if self.validator is not None:
            error = next(iter(self.validator.iter_errors(value)), None)
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path) or "(root)"
                return f"answer does not match the schema at {where}: {error.message[:200]}"
        return None


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


def load_function(target: str) -> Callable[..., Any]:
    """Import ``module:function``; ConfigError when it cannot be found."""
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"custom verifier {target!r}: cannot import {module_name!r} ({exc})") from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise ConfigError(f"custom verifier {target!r}: {attr!r} is not a function in {module_name!r}")
    return function  # type: ignore[no-any-return]


def task_scorer(task_file: Path) -> tuple[Any, Any]:
    """Load a task file and build its scorer: ``(spec, scorer)``."""
    from satisfice.tasks.scorers import build_scorer
    from satisfice.tasks.spec import load_task

    spec = load_task(task_file)
    return spec, build_scorer(spec.scorer, base_dir=spec.base_dir)


def build_verifier(cfg: VerifierConfig, *, route: str, scorer: Any = None) -> Verifier:
    """A verifier from its config; ``scorer`` is the route's task scorer (needed for ``scorer``)."""
    if cfg.kind == "non_empty":
        return NonEmpty()
    if cfg.kind == "json":
        validator = None
        if cfg.schema_ is not None:
            try:
                import jsonschema  # type: ignore[import-untyped,unused-ignore]
            except ImportError:
                raise ConfigError(f"routes.{route}: the json schema verifier needs the 'jsonschema' package "
                                  "(pip install jsonschema)") from None
            try:
                cls = jsonschema.validators.validator_for(cfg.schema_)
                cls.check_schema(cfg.schema_)
            except jsonschema.SchemaError as exc:
                raise ConfigError(f"routes.{route}: invalid JSON Schema: {exc.message}") from None
            validator = cls(cfg.schema_)
        return JsonValid(validator)
    if cfg.kind == "regex":
        assert cfg.pattern is not None
        return Regex(re.compile(cfg.pattern, re.DOTALL))
    if cfg.kind == "max_length":
        assert cfg.max_chars is not None
        return MaxLength(cfg.max_chars)
    if cfg.kind == "custom":
        assert cfg.target is not None
        return Custom(load_function(cfg.target), name=cfg.target)
    if scorer is None:
        raise ConfigError(f"routes.{route}: the scorer verifier needs the route's task_file")
    if getattr(scorer, "needs_reference", True):
        raise ConfigError(f"routes.{route}: the task's scorer needs a reference answer, so it cannot check "
                          "answers in the gateway; use shadow checks with compare: scorer instead")
    return ScorerCheck(scorer, cfg.min_score)


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
    "load_function",
    "request_fields",
    "run_verifiers",
    "task_scorer",
]
