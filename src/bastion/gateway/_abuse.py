"""Feeding a request's verdicts to the abuse monitor, and suspending when it says so."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio.to_thread

from bastion.classify import Verdict
from bastion.errors import RuntimeFailure
from bastion.gateway._context import Context
from bastion.gateway._guard import Check
from bastion.gateway._respond import GatewayError
from bastion.policy import ACTION_RANK

logger = logging.getLogger("bastion.gateway")


async def settle_first(ctx: Context) -> None:
    """Settle the request's check, which passed, then wait for the account's earlier checks;
    refuse with 403 when one of them suspended the account meanwhile."""
    gateway, principal, ticket = ctx.gateway, ctx.principal, ctx.ticket
    assert principal is not None
    assert ticket is not None
    gateway.order.settle(principal.account.id, ticket)
    await gateway.order.after_earlier(principal.account.id, ticket)
    refuse_if_suspended(ctx)


async def assess_in_order(ctx: Context, prompt: str, *,
                          probes: Sequence[Verdict] | None = None) -> None:
    """:func:`assess` a request's input strikes after those of the account's checks begun
    before it; 403 when one of them suspended the account meanwhile. Settles the check."""
    principal, ticket = ctx.principal, ctx.ticket
    assert principal is not None
    assert ticket is not None  # every route checks its input first
    try:
        await ctx.gateway.order.after_earlier(principal.account.id, ticket)
        refuse_if_suspended(ctx)
        await assess(ctx, prompt, probes=probes)
    finally:
        ctx.gateway.order.settle(principal.account.id, ticket)


def refuse_if_suspended(ctx: Context) -> None:
    """403 for a request admitted before its account was suspended by another one."""
    principal = ctx.principal
    assert principal is not None
    if ctx.gateway.order.suspended_since(principal.account.id, ctx.started):
        ctx.outcome, ctx.reason = "refused", "account suspended while the request was checked"
        raise GatewayError(403, f"account {principal.account.name!r} was suspended while this "
                           "request was checked (by the abuse monitor). "
                           f"{ctx.gateway.config.abuse.appeal_hint}", code="account_suspended")


def worst(check: Check) -> list[Verdict]:
    """The one verdict that speaks for a check (so a field and its join count once)."""
    if not check.violations:
        return []
    return [max(check.violations, key=lambda v: (ACTION_RANK[v.action], v.score))]


async def assess(ctx: Context, prompt: str, *, probes: Sequence[Verdict] | None = None) -> None:
    """Add strikes for this request; suspend the account when the monitor decides so.

    ``probes``: the input verdicts to count instead of each input check's worst one (a
    moderation request's every flagged input is a probe of its own).
    """
    gateway, principal = ctx.gateway, ctx.principal
    if principal is None or not gateway.config.abuse.enabled:
        return
    inputs = list(probes) if probes is not None else [
        v for c in ctx.checks if c.direction == "input" for v in worst(c)]
    outputs = [v for c in ctx.checks if c.direction == "output" for v in worst(c)]
    if not inputs and not outputs:
        return
    try:
        decision = await gateway.abuse.assess(principal.account, inputs, outputs, prompt,
                                              scopes=principal.key.scopes)
    except RuntimeFailure:
        logger.exception("abuse monitor failed; strikes for %s were not counted",
                         ctx.request_id)
        return
    ctx.abuse = decision
    if decision.suspend:
        await _suspend(ctx, decision.score, list(decision.reasons))
    elif decision.level == "suspend":
        ctx.extra["abuse_exempt"] = (f"red-teamer in engagement {principal.account.engagement!r}"
                                     ": audited, not suspended")


async def _suspend(ctx: Context, score: float, reasons: list[str]) -> None:
    gateway, principal = ctx.gateway, ctx.principal
    assert principal is not None
    settings = gateway.config.abuse
    reason = (f"strike score {score:g} reached the suspension threshold "
              f"{settings.suspend_at:g} (latest: {'; '.join(reasons)})"
              if score >= settings.suspend_at else
              f"too many blocked {settings.severe_severity}-severity prompts (latest: "
              f"{'; '.join(reasons)})")
    try:
        await anyio.to_thread.run_sync(lambda: gateway.accounts.set_status(
            principal.account.id, "suspended", reason, by="abuse-monitor",
            details={"request_id": ctx.request_id, "score": score, "reasons": reasons}))
    except Exception:
        logger.exception("suspending account %s failed; it stays throttled",
                         principal.account.id)
        return
    gateway.forget(principal.account.id)
    gateway.order.suspended(principal.account.id)
    gateway.metrics.suspensions.inc()
    logger.warning("account %s suspended by the abuse monitor (score %g)",
                   principal.account.id, score)
