"""Routing policies: for each request to a ``task/<name>`` route, the plan (models in order) that serves it.

A route's ``chain`` or ``from_eval`` gives its base plan; its ``policy`` (default ``static``: always the base
plan) may pick another plan per request from the request itself. Plans are built when the router is built
(prices resolved, verifiers compiled), so ``choose`` only inspects the request.

A third-party policy is one file: an options model and a factory ``(options, context) -> Policy``,
registered with ``@POLICIES.register("name", options=...)`` in a module named by a ``satisfice.policies``
entry point (or an entry point naming a :class:`PolicyEntry`). Configs then write
``policy: {name: {...options}}`` in a route.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from satisfice.gateway.routes.plan import Plan
from satisfice.registry import Registry


class Policy(Protocol):
    """Chooses the plan for one request."""

    def choose(self, payload: dict[str, Any]) -> Plan:
        """The plan for this request (its JSON body, already validated)."""
        ...


class NoOptions(BaseModel):
    """A policy without options."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class PolicyContext:
    """What a policy's factory gets: the route, its base plan, and a way to build other plans up front."""

    route: str
    base: Plan
    """The plan from the route's ``chain`` or ``from_eval``."""
    plan: Callable[[Sequence[str]], Plan]
    """A plan for these models, with the route's verifiers, reference and shadow checks (ConfigError if a
    model is not served)."""
    base_dir: Path = Path(".")
    """Where relative paths in the policy's options resolve (the config file's folder)."""
    observe: Callable[[str], None] | None = None
    """Count which branch of the policy served a request (the gateway's metrics), when given."""


@dataclass(frozen=True)
class PolicyEntry:
    """One routing policy: its name in configs, its options model and its factory."""

    name: str
    factory: Callable[[Any, PolicyContext], Policy]
    options: type[BaseModel] = NoOptions
    help: str = ""
    chain: Callable[[Any, Path], list[str]] | None = None
    """For a policy that knows its own fallback chain: ``(options, base_dir) -> models``, so its route may omit
    ``chain`` and ``from_eval``."""


POLICIES: Registry[PolicyEntry] = Registry(
    "routing policy", "satisfice.policies", PolicyEntry,
    builtins=("satisfice.gateway.routes.policies", "satisfice.gateway.routes.learned"))
"""Every routing policy by name (built-ins, then entry-point plugins)."""


@dataclass(frozen=True)
class Static:
    """Every request gets the same plan."""

    plan: Plan

    def choose(self, payload: dict[str, Any]) -> Plan:
        """The one plan."""
        return self.plan


def prompt_chars(payload: dict[str, Any]) -> int:
    """Characters of prompt text in a request: every message's string content, or the completion prompt."""
    messages = payload.get("messages")
    if isinstance(messages, list):
        return sum(len(m["content"]) for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str))
    prompt = payload.get("prompt")
    return len(prompt) if isinstance(prompt, str) else 0


class ByLengthOptions(NoOptions):
    """``by_length``: requests with more than ``max_chars`` prompt characters go to the ``long`` chain."""

    max_chars: int = Field(ge=1)
    long: list[str] = Field(min_length=1)


@dataclass(frozen=True)
class ByLength:
    """Short prompts take the base plan, long ones another (a model with a larger context, say)."""

    max_chars: int
    short: Plan
    long: Plan

    def choose(self, payload: dict[str, Any]) -> Plan:
        """The long plan when the prompt is over ``max_chars`` characters."""
        return self.long if prompt_chars(payload) > self.max_chars else self.short


POLICIES.add(PolicyEntry("static", lambda o, ctx: Static(ctx.base), help="always the route's chain"))
POLICIES.add(PolicyEntry("by_length", lambda o, ctx: ByLength(o.max_chars, ctx.base, ctx.plan(o.long)),
                         ByLengthOptions, "prompts over max_chars characters go to the 'long' chain"))

__all__ = ["POLICIES", "ByLength", "NoOptions", "Policy", "PolicyContext", "PolicyEntry", "Static", "prompt_chars"]
