"""What the gateway does when a request's worst case does not fit the key's budget: a smaller cap, or a clear 429.

A request whose client set no output cap is admitted with the largest cap the money left pays for (at least
:data:`MIN_CAP` tokens): the prompt is paid for, and the answer stops at that cap (``finish_reason: length``)
rather than being refused. A request with its own cap is refused with a 429 that says the largest cap that would
fit. Every budget 429 carries ``x-should-retry: false`` (the SDKs would otherwise retry a request that cannot
succeed) and, for a budget that resets, ``retry-after`` with the seconds until the next period.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from satisfice.formatting import usd
from satisfice.gateway.apis.client_apis import ApiRequest
from satisfice.gateway.money.budgets import BudgetLedger, LedgerUnavailable, Reservation
from satisfice.gateway.money.keys import KeyInfo, period_tag, tag_bounds, utcnow
from satisfice.gateway.routes.plan import Plan
from satisfice.gateway.wire.replies import GatewayError

log = logging.getLogger("satisfice.gateway")
MIN_CAP = 16
"""Fewest output tokens a shrunk cap may allow (below it the request is refused)."""
CAP_FIELDS = {"chat": ("max_completion_tokens", "max_tokens"), "completions": ("max_tokens",),
              "responses": ("max_output_tokens",), "messages": ("max_tokens",), "embeddings": ()}
"""The fields that cap the output, per API (the first is the one the gateway sets)."""


def affordable_output(plan: Plan, input_tokens: int, left: float, n: int = 1) -> int:
    """Most output tokens (per choice) that ``left`` dollars pay for after the prompt; 0 when none."""
    if plan.out_per_m <= 0:
        return 0
    spare = left * 1_000_000 - input_tokens * plan.in_per_m
    return max(0, math.floor(spare / plan.out_per_m / max(n, 1) * (1 - 1e-9)))


def client_cap(payload: dict[str, Any], api: str) -> str | None:
    """The field by which the client capped its output, if it did."""
    return next((f for f in CAP_FIELDS.get(api, ()) if payload.get(f) is not None), None)


def shrink(payload: dict[str, Any], request: ApiRequest | None, api: str, cap: int) -> None:
    """Set the output cap of the request (and of its chat translation) to ``cap`` tokens."""
    fields = CAP_FIELDS[api]
    payload[fields[-1] if api == "chat" else fields[0]] = cap
    if request is not None and request.chat is not None:
        request.chat["max_tokens"] = cap


def seconds_to_reset(period: str) -> int | None:
    """Seconds until the key's budget period ends; None for a budget that never resets."""
    _, end = tag_bounds(period_tag(period, utcnow()))
    if end is None:
        return None
    return max(1, math.ceil((end - utcnow()).total_seconds()))


def budget_exceeded(key: KeyInfo, left: float, worst: float, hint: str = "") -> GatewayError:
    """The 429 for a request the key's budget cannot pay for (never retried by the SDKs)."""
    per = "in total" if key.period == "total" else f"per {key.period}"
    headers = {"x-should-retry": "false"}
    wait = seconds_to_reset(key.period)
    if wait is not None:
        headers["retry-after"] = str(wait)
    return GatewayError(429, f"budget exceeded for key {key.id}: {usd(max(left, 0.0))} of "
                        f"{usd(key.budget_usd or 0.0)} {per} left, this request may cost up to {usd(worst)}{hint}",
                        type="insufficient_quota", code="budget_exceeded", headers=headers)


def cap_hint(plan: Plan, input_tokens: int, left: float, field: str | None, n: int) -> str:
    """What the client could change so that the request fits ("" when nothing would)."""
    fits = affordable_output(plan, input_tokens, left, n)
    if field is not None and fits >= 1:
        return f"; set '{field}' to at most {fits} to fit"
    return "; the prompt alone costs more than what is left" if fits < 1 else ""


async def reserve(ledger: BudgetLedger, key: KeyInfo, plan: Plan, payload: dict[str, Any],
                  request: ApiRequest | None, api: str, cost: tuple[int, float]) -> Reservation:
    """Reserve the worst case ``cost`` = (input tokens, dollars), else a smaller cap, else a 429.

    The smaller output cap applies only when the client set none; GatewayError 503 when the ledger is unavailable.
    """
    estimate, worst = cost
    try:
        granted = await ledger.reserve(key, worst)
        if granted is not None:
            return granted
        left = ledger.remaining(key.id) or 0.0
        n = payload.get("n") or 1 if api == "chat" else 1
        field = client_cap(payload, api)
        fits = affordable_output(plan, estimate, left, n)
        if field is None and fits >= MIN_CAP and CAP_FIELDS.get(api):
            shrink(payload, request, api, fits)
            granted = await ledger.reserve(key, plan.worst_cost(estimate, fits * n))
            if granted is not None:
                return granted
    except LedgerUnavailable as exc:
        log.error("gateway: %s", exc)
        raise GatewayError(503, "the budget ledger is unavailable; try again shortly", type="server_error",
                           code="ledger_unavailable", reason="ledger_unavailable") from None
    raise budget_exceeded(key, left, worst, cap_hint(plan, estimate, left, field, n))


__all__ = ["CAP_FIELDS", "MIN_CAP", "affordable_output", "budget_exceeded", "cap_hint", "client_cap", "reserve",
           "seconds_to_reset", "shrink"]
