"""The prompt's check: every text a request holds, read, counted against the limits, masked
for the audit log, charged and classified; refused on a block or a fail-closed error."""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from bastion.gateway._abuse import settle_first
from bastion.gateway._admit import (
    cap_to_budget,
    charge_tokens,
    check_model,
    estimate_tokens,
    message_tokens,
    reserved_output,
)
from bastion.gateway._context import Context
from bastion.gateway._extract import (
    BadSetting,
    TextField,
    Unchecked,
    UnknownField,
    checked_texts,
    request_fields,
    trust_digest,
)
from bastion.gateway._guard import Check, unread_language
from bastion.gateway._respond import GatewayError
from bastion.gateway._responses import previous_response_id, responses_fields


async def check_input(ctx: Context, body: dict[str, Any]
                      ) -> tuple[list[TextField], list[str], Check]:
    """Find every content field, check it, and refuse on block or fail-closed error: the
    fields, the texts the classifier read (:func:`checked_texts`), and the check."""
    gateway, route = ctx.gateway, ctx.route
    if route != "moderations":  # a moderation's model is the policy; nothing goes upstream
        check_model(ctx, body.get("model"), required=True)
    if route == "responses" and body.get("previous_response_id") is not None:
        _bind_previous(ctx, body)
    fields = _read_fields(route, body, gateway.config.request.allow_fields)
    if route != "moderations":  # a moderation answers for every input it is given
        fields = untrusted(ctx, fields)
    texts = checked_texts(fields)
    if len(texts) > (most_texts := gateway.config.classifier.max_input_texts):
        raise GatewayError(413, f"the request holds {len(texts):,} texts to check (messages, "
                           "content parts, tool calls, stop strings...); this gateway checks "
                           f"at most {most_texts:,} per request (classifier.max_input_texts): "
                           "send fewer, or ask the operator to raise the limit",
                           code="request_too_large")
    size, most = sum(map(len, texts)), gateway.config.classifier.max_input_chars
    if size > most:
        raise GatewayError(413, f"the request holds {size:,} characters of text to check; this "
                           f"gateway checks at most {most:,} per request "
                           "(classifier.max_input_chars): send less, or ask the operator to "
                           "raise the limit", code="request_too_large")
    assert ctx.principal is not None
    busy = gateway.order.chars_in_check(ctx.principal.account.id)
    if busy and busy + size > most:
        raise GatewayError(429, f"this account already has {busy:,} characters of text being "
                           f"checked, and this request adds {size:,} (the most at once is "
                           f"{most:,}, classifier.max_input_chars); retry when those are done",
                           code="rate_limit_exceeded", headers={"Retry-After": "1"})
    ctx.ticket = gateway.order.begin(ctx.principal.account.id, size)  # no await in between
    if gateway.config.audit.content != "drop":  # masking (redact) is CPU work: off the loop
        await anyio.to_thread.run_sync(ctx.keep_content, texts)
    ctx.reserved_tokens = reserved_output(route, body)
    ctx.prompt_tokens = estimate_tokens(texts) + message_tokens(route, body)
    await charge_tokens(ctx, ctx.prompt_tokens + ctx.reserved_tokens)
    await cap_to_budget(ctx, body)
    policy = ctx.policy("input")
    fail_open = gateway.config.route(route).fail_open_input
    check = ctx.add(await gateway.guard.check("input", texts, policy, fail_open=fail_open))
    if check.outcome == "error" and (why := unread_language(check.verdicts)):
        # no outage, so no 503 that says "retry shortly": retrying cannot help
        raise GatewayError(422, f"the prompt could not be checked: {why}",
                           code="unsupported_language")
    if check.outcome == "error":
        ctx.outcome, ctx.reason = "classifier_error", "input check failed (fail-closed)"
        raise GatewayError(503, "the prompt could not be checked (the classifier failed or "
                           "timed out) and this route fails closed; retry shortly",
                           code="classifier_unavailable", headers={"Retry-After": "2"})
    if check.outcome != "block" and route != "moderations":  # blocks settle after strikes
        await settle_first(ctx)
    return fields, texts, check


def _read_fields(route: str, body: dict[str, Any], allow: tuple[str, ...]) -> list[TextField]:
    """Every content field of a request; what the reader refuses, as a 400 or 422."""
    try:
        return (responses_fields(body, allow) if route == "responses" else
                request_fields(route, body, allow))
    except Unchecked as exc:
        raise GatewayError(422, str(exc), code="unchecked_content") from exc
    except UnknownField as exc:
        raise GatewayError(400, str(exc), code="unknown_field", param=exc.field) from exc
    except BadSetting as exc:
        raise GatewayError(400, str(exc), code="invalid_request", param=exc.field) from exc


def untrusted(ctx: Context, fields: list[TextField]) -> list[TextField]:
    """``fields`` without the texts the operator trusts (``request.trusted_texts``); how many
    were left out goes to the audit event."""
    trusted = ctx.gateway.config.request.trusted_texts
    if not trusted:
        return fields
    kept = [f for f in fields if f.identifier or trust_digest(f.text) not in trusted]
    if len(kept) < len(fields):
        ctx.extra["trusted_texts"] = len(fields) - len(kept)
    return kept


def _bind_previous(ctx: Context, body: dict[str, Any]) -> None:
    """Swap the client's signed ``previous_response_id`` for the upstream's id, or refuse."""
    assert ctx.principal is not None
    try:
        body["previous_response_id"] = previous_response_id(
            body["previous_response_id"], ctx.principal.account.id, ctx.gateway.identity_secret)
    except Unchecked as exc:
        raise GatewayError(400, str(exc), code="previous_response_not_found",
                           param="previous_response_id") from exc
