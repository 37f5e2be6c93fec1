"""The ``learned`` routing policy: each request planned by a router trained with ``satisfice route train``.

The router (features, fitted routers, certified policy) is loaded once per process and path (a router changed
on disk is loaded again on the next router build). Per request the prompt's features are computed once and the
policy names the models to ask. A single model becomes that model's plan; an agreement cascade becomes a plan
of the cheap models then the strong one, served by the gateway's verify-then-escalate machinery with a
per-request :class:`AgreementCheck` verifier (every call is paid; when the cheap answers disagree the strong
model answers). If the router raises, or takes longer than ``deadline_ms``, the request gets the per-task
model's plan. Which branch planned each request is counted in ``satisfice_gateway_policy_branches_total``
(``single``, ``routed``, ``cascade``, ``fallback_error``, ``fallback_deadline``); the spend row names the
model that answered and every model tried.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from satisfice.errors import ConfigError, SatisficeError
from satisfice.gateway.routes.plan import Plan
from satisfice.gateway.routes.policies import POLICIES, NoOptions, PolicyContext, PolicyEntry

if TYPE_CHECKING:
    from satisfice.routing.train import Trained

log = logging.getLogger("satisfice.gateway")
MAX_ROUTED_CHARS = 20_000


class LearnedOptions(NoOptions):
    """``learned``: a router trained by ``satisfice route train`` (its directory) and its decision deadline."""

    router: str = Field(min_length=1)
    deadline_ms: float = Field(default=50.0, gt=0, le=10_000)


def _resolve(options: LearnedOptions, base_dir: Path) -> Path:
    path = Path(options.router).expanduser()
    return path if path.is_absolute() else base_dir / path


@lru_cache(maxsize=16)
def _load(path: Path, stamp: float) -> Trained:
    from satisfice.routing.store import load

    return load(path)


def load_router(path: Path) -> Trained:
    """The trained router at ``path``, loaded once per process (again when its manifest changes)."""
    from satisfice.routing.store import MANIFEST

    try:
        stamp = (path / MANIFEST).stat().st_mtime
    except OSError:
        raise ConfigError(f"learned policy: no trained router at {path} (run `satisfice route train`)") from None
    try:
        return _load(path, stamp)
    except ImportError:
        raise ConfigError("the learned policy needs scikit-learn: pip install scikit-learn") from None
    except SatisficeError as exc:
        raise ConfigError(f"learned policy: {exc}") from None


def fallback_chain(options: LearnedOptions, base_dir: Path) -> list[str]:
    """The route's base chain when it names none: the router's per-task model."""
    trained = load_router(_resolve(options, base_dir))
    return [trained.models[trained.per_task.model]]


def prompt_text(payload: dict[str, Any]) -> str:
    """The request's prompt as the router saw prompts in training: message contents joined, or the prompt."""
    messages = payload.get("messages")
    if isinstance(messages, list):
        parts = [m["content"] for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str)]
        text = "\n".join(parts)
    else:
        prompt = payload.get("prompt")
        text = prompt if isinstance(prompt, str) else ""
    return text[:MAX_ROUTED_CHARS]


class AgreementCheck:
    """Accepts an answer of the first ``cheap`` models only when they all agree; the next answer is accepted.

    One instance per request (it remembers the first answer). Answers are compared after the normalisation
    used in training (a leading choice letter, else lower-cased text with collapsed whitespace).
    """

    name = "agreement"

    def __init__(self, cheap: int) -> None:
        self.cheap = cheap
        self.first: str | None = None
        self.seen = 0

    async def check(self, text: str, payload: dict[str, Any]) -> str | None:
        """None to accept; a reason to ask the next model."""
        from satisfice.routing.data import normalise_answer

        self.seen += 1
        if self.seen > self.cheap:
            return None
        answer = normalise_answer(text)
        if self.first is None:
            self.first = answer
            return "checking this answer against another cheap model" if self.cheap > 1 else None
        if answer != self.first:
            return "the cheap models disagree"
        return None if self.seen == self.cheap else "agreed so far; asking the next cheap model"


class Learned:
    """Plans each request with a trained router; the per-task model's plan on error or deadline."""

    def __init__(self, trained: Trained, ctx: PolicyContext, deadline_ms: float) -> None:
        from satisfice.routing.serve import decide

        self.trained = trained
        self.decide = decide
        self.deadline_s = deadline_ms / 1000.0
        self.observe = ctx.observe
        missing = [m for m in trained.models if not _served(ctx, m)]
        if missing:
            raise ConfigError(f"routes.{ctx.route}: the learned router may choose model(s) {', '.join(missing)}, "
                              "which no upstream serves")
        self.singles = {m: ctx.plan([m]) for m in trained.models}
        self.fallback = self.singles[trained.models[trained.per_task.model]]
        self.cascades: dict[tuple[str, ...], Plan] = {}
        self.plan_of = ctx.plan

    def _count(self, branch: str) -> None:
        if self.observe is not None:
            self.observe(branch)

    def choose(self, payload: dict[str, Any]) -> Plan:
        """The plan for one request."""
        started = time.perf_counter()
        try:
            decision = self.decide(self.trained, prompt_text(payload))
        except Exception:  # a router fault must not fail the request: the per-task model serves it
            log.exception("learned policy: the router failed; serving the per-task model")
            self._count("fallback_error")
            return self.fallback
        if time.perf_counter() - started > self.deadline_s:
            self._count("fallback_deadline")
            return self.fallback
        self._count(decision.branch)
        if not decision.agreement:
            return self.singles[decision.models[0]]
        plan = self.cascades.get(decision.models)
        if plan is None:
            plan = self.cascades[decision.models] = _cascade(self.plan_of(decision.models))
        # one check per request; a cheap model that fails to answer shifts its count, and the last answer is
        # then still returned (on_exhausted "last")
        return dataclasses.replace(plan, verifiers=(AgreementCheck(len(decision.models) - 1), *plan.verifiers))


def _cascade(plan: Plan) -> Plan:
    """A plan whose every model may answer (and be paid): its worst cost is the sum over its models."""
    worst = [t.worst for t in plan.targets]
    return dataclasses.replace(plan, on_exhausted="last", in_per_m=sum(p.input_per_m for p in worst),
                               out_per_m=sum(p.output_per_m for p in worst))


def _served(ctx: PolicyContext, model: str) -> bool:
    try:
        ctx.plan([model])
    except ConfigError:
        return False
    return True


def learned_policy(options: LearnedOptions, ctx: PolicyContext) -> Learned:
    """The policy object for a route (the router loaded once per process)."""
    return Learned(load_router(_resolve(options, ctx.base_dir)), ctx, options.deadline_ms)


POLICIES.add(PolicyEntry("learned", learned_policy, LearnedOptions, "each request routed by a trained router "
                         "(satisfice route train); its per-task model on error or deadline", chain=fallback_chain))

__all__ = ["AgreementCheck", "Learned", "LearnedOptions", "fallback_chain", "learned_policy", "load_router",
           "prompt_text"]
