"""The HTTP routes: the OpenAI-compatible surface, ``/metrics`` and ``/healthz`` (which says
only that the gateway is up: it needs no key).

Every proxied route goes through :func:`_handle`, which builds the request record, admits the
caller, turns :class:`GatewayError` into an OpenAI-shaped answer, and writes exactly one audit
event (streams write theirs when they end).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bastion.classify import Verdict
from bastion.gateway._abuse import assess_in_order, settle_first
from bastion.gateway._admit import admit, charge_completion, check_model, read_json
from bastion.gateway._context import Context
from bastion.gateway._extract import joined
from bastion.gateway._prompt import check_input
from bastion.gateway._proxy import generate, headers_for, redact, refuse, stamp_identity
from bastion.gateway._rebuilt import embeddings_answer, models_answer
from bastion.gateway._respond import GatewayError, JSONResponse
from bastion.gateway._state import Gateway
from bastion.gateway._upstream import send, upstream_failure
from bastion.gateway._usage import reported_prompt_tokens, reported_tokens
from bastion.gateway._walk import Unreadable
from bastion.monitor import CONTENT_TYPE
from bastion.serve import OPENAI_CATEGORIES, category_names

logger = logging.getLogger("bastion.gateway")

Handler = Callable[[Context, Request], Awaitable[Response]]


async def _handle(gateway: Gateway, route: str, request: Request, handler: Handler) -> Response:
    await gateway.refresh_policies()
    ctx = Context(gateway, route)
    try:
        await admit(ctx, request, route)
        response = await handler(ctx, request)
    except GatewayError as exc:
        ctx.status = exc.status
        if ctx.outcome == "allowed":
            ctx.outcome, ctx.reason = "refused", exc.code
        return exc.response(headers_for(ctx) if route != "models" else
                            {"x-bastion-request-id": ctx.request_id})
    except Exception:
        ctx.status, ctx.outcome = 500, "internal_error"
        logger.exception("request %s failed", ctx.request_id)
        return GatewayError(500, "internal gateway error; the gateway log has details (request "
                            f"{ctx.request_id})", code="internal_error").response()
    else:
        ctx.status = response.status_code
        return response
    finally:
        if ctx.ticket is not None and ctx.principal is not None:  # however the request ended
            gateway.order.settle(ctx.principal.account.id, ctx.ticket)
        if not ctx.extra.get("deferred"):
            ctx.finish()


async def _generation(ctx: Context, request: Request) -> Response:
    return await generate(ctx, await read_json(request, ctx.gateway.config))


async def _embeddings(ctx: Context, request: Request) -> Response:
    body = await read_json(request, ctx.gateway.config)
    fields, _, check = await check_input(ctx, body)
    if check.outcome == "block":
        return await refuse(ctx, check, "")
    await redact(ctx, body, fields, check)  # the upstream never sees the values, here either
    stamp_identity(ctx, body)
    body.pop("safety_identifier", None)  # the embeddings API takes 'user' only
    response = await send(ctx, body, stream=False)
    if response.status_code != 200:
        raise await upstream_failure(ctx, response)
    try:
        data = response.json()
        answer = embeddings_answer(data, body.get("model"))
    except (ValueError, RecursionError, Unreadable) as exc:
        ctx.outcome, ctx.reason = "upstream_error", f"unreadable embeddings answer: {exc}"
        raise GatewayError(502, "the upstream answered with something the gateway cannot read "
                           f"as embeddings ({exc}), so it was withheld",
                           code="upstream_malformed") from exc
    # as a chat answer is: the input's tokens as reported, beyond the estimate charged
    await charge_completion(ctx, reported_tokens(data), (),
                            prompt=reported_prompt_tokens(data))
    return JSONResponse(answer, headers=headers_for(ctx))


async def _models(ctx: Context, request: Request) -> Response:
    del request
    response = await ctx.gateway.upstream.get("models")
    if response.status_code != 200:
        raise await upstream_failure(ctx, response)
    assert ctx.principal is not None
    try:
        answer = models_answer(response.json(), ctx.principal.key.scopes.allows_model)
    except (ValueError, RecursionError, Unreadable) as exc:
        raise GatewayError(502, "the upstream answered with something the gateway cannot read "
                           f"as a model list ({exc}), so it was withheld",
                           code="upstream_malformed") from exc
    return JSONResponse(answer, headers={"x-bastion-request-id": ctx.request_id})


def _moderation_result(verdict: Verdict, *, detailed: bool) -> dict[str, Any]:
    flags = dict.fromkeys(OPENAI_CATEGORIES, False)
    scores = dict.fromkeys(OPENAI_CATEGORIES, 0.0)
    for category in verdict.categories:
        for name in category_names(category.code):
            flags[name] = flags.get(name, False) or category.violated
            scores[name] = max(scores.get(name, 0.0), category.score)
    if not detailed:  # no gradient to climb: a score says only what the flag says
        return {"flagged": any(flags.values()), "categories": flags,
                "category_scores": {k: float(v) for k, v in flags.items()},
                "bastion": {"action": verdict.action}}
    return {"flagged": any(flags.values()), "categories": flags, "category_scores": scores,
            "bastion": {"rule_ids": list(verdict.rule_ids), "action": verdict.action,
                        "tier": verdict.tier}}


async def _moderations(ctx: Context, request: Request) -> Response:
    body = await read_json(request, ctx.gateway.config)
    check_model(ctx, None)
    fields, texts, check = await check_input(ctx, body)
    # one verdict per input: not for the join, nor for a model name (an identifier field)
    verdicts = check.verdicts[:sum(not f.identifier for f in fields)]
    if any(v.is_error for v in verdicts):
        raise GatewayError(503, "the classifier failed; no moderation result was produced; "
                           "retry shortly", code="classifier_unavailable")
    settings = ctx.gateway.config.moderations
    if check.violations and settings.strikes:  # each flagged input counts: one probe each
        await assess_in_order(ctx, joined(texts),
                              probes=[v for v in verdicts if v.kind == "violation"]
                              or check.violations[:1])
    else:
        await settle_first(ctx)
    assert ctx.principal is not None
    if ctx.abuse is not None and ctx.abuse.suspend:  # no answer for the probes that did it
        raise GatewayError(403, f"account {ctx.principal.account.name!r} is suspended: this "
                           "request's flagged inputs reached the abuse threshold, so no "
                           f"results are returned. {ctx.gateway.config.abuse.appeal_hint}",
                           code="account_suspended")
    detailed = ctx.principal.account.role in settings.scores_for
    return JSONResponse({"id": f"modr-{secrets.token_hex(12)}", "model": check.policy.id,
                         "results": [_moderation_result(v, detailed=detailed)
                                     for v in verdicts]},
                        headers=headers_for(ctx))


#: Each route's method and path, by route name (the name is what scopes, metrics and the
#: audit use).
PATHS = {"chat": ("POST", "/v1/chat/completions"), "completions": ("POST", "/v1/completions"),
         "embeddings": ("POST", "/v1/embeddings"), "models": ("GET", "/v1/models"),
         "moderations": ("POST", "/v1/moderations"), "responses": ("POST", "/v1/responses"),
         "metrics": ("GET", "/metrics"), "healthz": ("GET", "/healthz")}


def router(gateway: Gateway) -> APIRouter:
    """All routes of one gateway."""
    api = APIRouter()

    def bind(route: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await _handle(gateway, route, request, handler)
        return endpoint

    handlers = {"chat": _generation, "completions": _generation, "embeddings": _embeddings,
                "models": _models, "moderations": _moderations, "responses": _generation}
    for route, handler in handlers.items():
        method, path = PATHS[route]
        api.add_api_route(path, bind(route, handler), methods=[method])

    async def render(_: Context, __: Request) -> Response:
        gateway.metrics.audit_pending.set(gateway.audit.pending)
        return Response(gateway.metrics.render(), media_type=CONTENT_TYPE)

    async def metrics(request: Request) -> Response:
        if gateway.config.metrics_public:
            return await render(Context(gateway, "metrics"), request)
        # Admitted and audited like any route: a user key's 403 and an unknown key's 401
        # were not recorded, nor an operator's reads.
        return await _handle(gateway, "metrics", request, render)

    async def healthz() -> dict[str, Any]:
        # Nothing more to a caller without a key: the audit backlog told anyone how busy the
        # gateway was and how near the backlog that refuses every request (on /metrics now).
        return {"status": "ok"}

    for route, endpoint in (("metrics", metrics), ("healthz", healthz)):
        method, path = PATHS[route]
        api.add_api_route(path, endpoint, methods=[method])
    return api
