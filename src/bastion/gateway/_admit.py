"""Admission: who is calling, may they, and are they over a limit — before any check runs.

Order: failed key checks from the caller's address (429) → key (401) → suspension (403,
with reason and appeal hint) → route scope (403) → audit back-pressure (503) → throttle and
rate limits (429). Model scope is checked once the body is read, still before any classifier
or upstream call.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import Request
from starlette.requests import ClientDisconnect

from bastion._bodylimit import limited, read_body
from bastion.accounts import Principal
from bastion.classify import LONE_SURROGATE
from bastion.errors import RuntimeFailure
from bastion.gateway._answer import asked_choices, counted
from bastion.gateway._auth import authenticate, limits_down
from bastion.gateway._config import GatewayConfig
from bastion.gateway._context import Context
from bastion.gateway._respond import GatewayError

logger = logging.getLogger("bastion.gateway")


async def admit(ctx: Context, request: Request, route: str) -> Principal:
    """Authenticate and admit a request; raises :class:`GatewayError` when refused."""
    gateway = ctx.gateway
    principal = ctx.principal = await authenticate(ctx, request)
    account = principal.account
    if account.suspended:
        raise GatewayError(403, f"account {account.name!r} is suspended: "
                           f"{account.status_reason or 'no reason recorded'}. "
                           f"{gateway.config.abuse.appeal_hint}", code="account_suspended")
    if account.role == "red-teamer" and not account.in_engagement(datetime.now(UTC)):
        # A red-teamer's access is the engagement's: its keys may outlive it, its rights not.
        raise GatewayError(403, f"red-teamer account {account.name!r} has no active "
                           "engagement (it ended or was never set); ask an administrator for "
                           "a new engagement",
                           code="engagement_ended")
    if not principal.key.scopes.allows_route(account.role, route):
        raise GatewayError(403, f"this key may not call the {route!r} route; ask for a key "
                           "with that scope", code="scope_denied")
    if gateway.audit.overloaded:
        raise GatewayError(503, "the audit log is not keeping up, so new requests are "
                           "refused rather than left unrecorded; retry shortly",
                           code="audit_unavailable", headers={"Retry-After": "5"})
    await _limits(ctx, principal)
    hold_place(ctx, principal)
    return principal


def hold_place(ctx: Context, principal: Principal) -> None:
    """Count the request among its account's in progress on this worker, or a 429 past
    ``limits.account_concurrent_requests``; :meth:`Context.finish` gives the place back."""
    gateway, account = ctx.gateway, principal.account.id
    most = gateway.config.limits.account_concurrent_requests
    if most is None:
        return
    if gateway.in_progress[account] >= most:
        gateway.metrics.rate_limited.labels("concurrency").inc()
        raise GatewayError(429, f"rate limited: the account already has {most} requests in "
                           "progress (limits.account_concurrent_requests); retry when one "
                           "has ended", code="rate_limit_exceeded",
                           headers={"Retry-After": "1"})
    gateway.in_progress[account] += 1

    def release() -> None:
        gateway.in_progress[account] -= 1
        if gateway.in_progress[account] <= 0:
            del gateway.in_progress[account]

    ctx.release_place = release


async def _limits(ctx: Context, principal: Principal) -> None:
    gateway = ctx.gateway
    throttle: int | None = None
    if principal.account.in_engagement(datetime.now(UTC)):
        ctx.extra["abuse_exempt"] = (f"red-teamer in engagement "
                                     f"{principal.account.engagement!r}: audited, not throttled")
    elif gateway.config.abuse.enabled:
        try:
            level = await gateway.abuse.level(principal.account.id)
        except RuntimeFailure:
            logger.exception("abuse level lookup failed; the request is not throttled")
            level = "ok"
        ctx.extra["abuse_level"] = level
        if level in ("throttle", "suspend"):
            throttle = gateway.config.abuse.throttle_requests_per_minute
    try:
        refusal = await gateway.limiter.request(principal, throttle)
    except RuntimeFailure as exc:
        raise limits_down(exc) from exc
    if refusal is not None:
        gateway.metrics.rate_limited.labels("throttle" if "throttled" in refusal.reason
                                            else "requests").inc()
        raise GatewayError(429, f"rate limited: {refusal.reason}; retry after "
                           f"{refusal.retry_after_s} s", code="rate_limit_exceeded",
                           headers={"Retry-After": str(refusal.retry_after_s)})


#: What a model id may look like (OpenAI, vLLM, Ollama, LiteLLM and fine-tune names do).
MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,199}")


#: An empty, ``.`` or ``..`` part of a model name (a model id starts with a letter or digit).
_PATH_STEP = re.compile(r"/\.{0,2}(?:/|$)")


def check_model(ctx: Context, model: Any, *, required: bool = False) -> None:
    """Refuse a model outside the key's scopes.

    With ``required`` (the model name goes upstream) a non-string model is a 400, and a key
    scoped to models must name one: an upstream picks its own default for a missing model.
    """
    assert ctx.principal is not None
    if model is not None and not isinstance(model, str):
        raise GatewayError(400, f"'model' must be a string, not {type(model).__name__}",
                           code="invalid_request", param="model")
    if model is not None and not MODEL_ID.fullmatch(model):
        # The model name goes into the audit log whatever audit.content says: it must be a
        # name, not a place for text (a prompt sent as the model would be kept verbatim).
        raise GatewayError(400, "'model' must be a model id: 1 to 200 letters, digits and "
                           "._:/@+=- (no spaces), starting with a letter or digit, such as "
                           "'gpt-4o' or 'meta-llama/Llama-3.1-8B-Instruct'",
                           code="invalid_request", param="model")
    if model is not None and _PATH_STEP.search(model):
        # a scope's pattern reads a name's parts as a path's (openai/** is all of openai/):
        # a path-walking upstream would read openai/../x as x
        raise GatewayError(400, f"'model' {model!r} has an empty, '.' or '..' part between "
                           "its '/'s, which no model id has; name the model directly",
                           code="invalid_request", param="model")
    ctx.model = model
    scopes = ctx.principal.key.scopes
    if model is None and required and scopes.models is not None:
        raise GatewayError(403, "this key is limited to models "
                           f"{list(scopes.models)}; name one in 'model'", code="scope_denied",
                           param="model")
    if model is not None and not scopes.allows_model(model):
        raise GatewayError(403, f"this key may not use model {model!r}; ask for a key with "
                           "that model in scope", code="scope_denied", param="model")


MAX_DEPTH = 64
"""Deepest nesting of a request body; real requests stay far below it."""


async def read_json(request: Request, config: GatewayConfig) -> dict[str, Any]:
    """The request body as a JSON object, refused when too large, too slow to arrive, too
    deep, or not an object.

    The size limit (``max_body_bytes``) holds while the body arrives: a declared or streamed
    body over it is refused without reading the rest. So does the deadline
    (``body_timeout_s``), however steadily the bytes trickle in.
    """
    limit, deadline = config.max_body_bytes, config.body_timeout_s
    receive = limited(request.scope, request.receive, limit,
                      lambda size: _too_large(size, limit))
    try:
        with anyio.fail_after(deadline):
            raw = await read_body(receive)
    except TimeoutError as exc:
        raise GatewayError(408, f"the request body did not arrive within {deadline:g} s "
                           "(body_timeout_s); send it at once, or ask the operator to raise "
                           "the limit", code="body_timeout",
                           headers={"Connection": "close"}) from exc
    except ClientDisconnect as exc:  # refused, not a crash: no 500, no traceback in the log
        raise GatewayError(400, "the client closed the connection before its body arrived",
                           code="client_disconnected") from exc
    try:
        body = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError) as exc:
        raise GatewayError(400, f"the body is not valid JSON ({_reason(exc)})",
                           code="invalid_json") from exc
    if not isinstance(body, dict):
        raise GatewayError(400, "the body must be a JSON object", code="invalid_json")
    if _depth(body) > MAX_DEPTH:
        raise GatewayError(400, f"the body nests deeper than {MAX_DEPTH} levels",
                           code="invalid_json")
    if _SURROGATE_ESCAPE.search(raw):  # rare: only an escape can carry a surrogate
        where = _lone_surrogate(body)
        if where is not None:
            raise GatewayError(
                400, f"{where} holds a lone surrogate escape (\\ud800-\\udfff without its "
                "other half), which is not Unicode text and cannot be checked; send valid "
                "UTF-8", code="invalid_json")
    return body


#: A JSON escape of a UTF-16 surrogate (valid in pairs, unreadable alone).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _lone_surrogate(body: dict[str, Any]) -> str | None:
    """The path of the first key or string with a lone surrogate (json pairs the others)."""
    stack: list[tuple[Any, str]] = [(body, "the body")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if LONE_SURROGATE.search(item):
                return path
        elif isinstance(item, dict):
            for key, value in item.items():
                if LONE_SURROGATE.search(key):
                    return f"a key of {path}"
                stack.append((value, f"{path}.{key}" if path != "the body" else key))
        elif isinstance(item, list):
            stack.extend((value, f"{path}[{i}]") for i, value in enumerate(item))
    return None


def _too_large(size: int, limit: int) -> GatewayError:
    return GatewayError(413, f"the body has at least {size} bytes; the limit is {limit}",
                        code="body_too_large")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    """A JSON number as a float; one too large for a float (``1e400``) is refused, as it
    would become infinity, which JSON cannot carry on to the upstream."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if "integer string conversion" in str(exc):  # its own hint is for the server's code
        return f"a number has more than {sys.get_int_max_str_digits():,} digits"
    return str(exc)[:200]


def _depth(value: Any) -> int:
    """Nesting depth without recursion (a deep body must not crash the check)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                      else item))
    return deepest


def estimate_tokens(texts: Iterable[str]) -> int:
    """Tokens ``texts`` will cost, estimated high: four ASCII characters a token, and one for
    every other character (Chinese or Japanese text takes a token or more a character, and
    counted as four characters a token a long prompt in them got under a small budget)."""
    ascii_chars = other = 0
    for text in texts:
        plain = len(text.encode("ascii", "ignore"))
        ascii_chars += plain
        other += len(text) - plain
    return ascii_chars // 4 + other + 1


#: Tokens an upstream adds to each message of a conversation for its role and separators
#: (3 or 4 in OpenAI's chat format), however short its text.
MESSAGE_TOKENS = 4


def message_tokens(route: str, body: dict[str, Any]) -> int:
    """Tokens a request's messages cost beside their text (:data:`MESSAGE_TOKENS` each): a
    black-box pass had 8,000 empty messages, some 32,000 tokens to the upstream, charged 3."""
    items = body.get({"chat": "messages", "responses": "input"}.get(route, ""))
    return MESSAGE_TOKENS * len(items) if isinstance(items, list) else 0


def reserved_output(route: str, body: dict[str, Any]) -> int:
    """Tokens the answers may take as the request caps them (``max_completion_tokens``,
    ``max_tokens`` or ``max_output_tokens``, times :func:`generated_choices`), 0 when
    uncapped. They are charged with the prompt, before the upstream is asked (OpenAI counts
    ``max_tokens`` against a rate limit the same way): answers are charged only once they
    arrive, so fifteen parallel requests each got a 2,250-token answer under a 1,000-token
    budget."""
    if route not in ("chat", "completions", "responses"):
        return 0
    # the largest: an upstream may read any one of them (llama.cpp reads max_tokens alone)
    cap = max((c for c in map(body.get, CAP_NAMES) if counted(c)), default=0)
    return cap * generated_choices(body)


def generated_choices(body: dict[str, Any]) -> int:
    """How many answers the upstream generates for a request: ``n``, or ``best_of`` when
    larger (it generates that many, each up to the cap, and returns the ``n`` best). Counted
    as ``n`` alone, best_of=50 with max_tokens=100 passed under a 500-token budget."""
    best_of = body.get("best_of")
    return max(asked_choices(body), best_of if counted(best_of) else 1)


#: Every field that caps an answer's length.
CAP_NAMES = ("max_completion_tokens", "max_tokens", "max_output_tokens")
#: The field that caps an answer's length, per route.
_CAP_FIELD = {"chat": "max_completion_tokens", "completions": "max_tokens",
              "responses": "max_output_tokens"}


async def cap_to_budget(ctx: Context, body: dict[str, Any]) -> None:
    """Under a token budget, cap an uncapped answer at what the budget has left after the
    prompt (shared by the answers generated); a 429 when nothing is left for an answer. A
    black-box pass had a 1,300-token answer served whole under a 500-token budget, since an
    answer without ``max_tokens`` is charged only once it arrives. The cap is not charged
    ahead, as a client's own ``max_tokens`` is: an uncapped request would then hold the whole
    budget for its minute, however short its answer. It is promised instead (held back from
    the room of the requests that come while it is answered, until it is charged): parallel
    uncapped requests were each capped at the whole room."""
    assert ctx.principal is not None
    if ctx.route not in _CAP_FIELD:
        return
    limiter, answers = ctx.gateway.limiter, generated_choices(body)
    try:
        if ctx.reserved_tokens:  # the client's own cap, charged: every cap field says it
            if limiter.has_token_budget(ctx.principal):
                for name in CAP_NAMES:
                    if name in body:
                        body[name] = ctx.reserved_tokens // answers
            return
        cap, release = await limiter.reserve(ctx.principal, answers)
    except RuntimeFailure as exc:
        raise limits_down(exc) from exc
    if cap is None:
        return
    if cap < 1:
        ctx.gateway.metrics.rate_limited.labels("tokens").inc()
        # n=1000000000 read "no room left ... retry after 60 s", which no wait could help
        fewer = f"; or ask for fewer than {answers:,} answers (n, best_of)" if answers > 1 \
            else ""
        raise GatewayError(429, "rate limited: the token budget has no room left this minute "
                           f"for {'an answer' if answers == 1 else f'{answers:,} answers'}; "
                           f"retry after 60 s{fewer}", code="rate_limit_exceeded",
                           headers={"Retry-After": "60"})
    # every cap field the client sent too: an upstream that reads max_tokens alone must not
    # take a -1 or "100000" left beside the cap for no cap at all (llama.cpp, Ollama)
    for name in {_CAP_FIELD[ctx.route], *(n for n in CAP_NAMES if n in body)}:
        body[name] = cap
    ctx.release_promise = release


async def charge_completion(ctx: Context, reported: int, texts: Iterable[str], *,
                            prompt: int = 0) -> None:
    """Charge an answer's tokens to the key and its account, as the upstream ``reported``
    them or as estimated from its ``texts``, whichever is more, less what was reserved with
    the prompt, and the prompt's tokens the upstream reports (``prompt``) beyond its
    estimate (text that tokenizes badly costs two or three times the estimate): never
    refused, counted against the next request (the answer is already out). A store failure
    is logged, not raised."""
    count = max(reported, estimate_tokens(texts)) - ctx.reserved_tokens \
        + max(0, prompt - ctx.prompt_tokens)
    if ctx.principal is None:
        return
    try:
        await ctx.gateway.limiter.tokens(ctx.principal, count, enforce=False)
    except RuntimeFailure:
        logger.exception("completion tokens of %s were not counted", ctx.request_id)


async def charge_tokens(ctx: Context, estimate: int) -> None:
    """Charge the prompt's estimated tokens; 429 when over the key's budget."""
    assert ctx.principal is not None
    try:
        refusal = await ctx.gateway.limiter.tokens(ctx.principal, estimate, enforce=True)
    except RuntimeFailure as exc:
        raise limits_down(exc) from exc
    if refusal is not None:
        ctx.gateway.metrics.rate_limited.labels("tokens").inc()
        raise GatewayError(429, f"rate limited: {refusal.reason}; retry after "
                           f"{refusal.retry_after_s} s", code="rate_limit_exceeded",
                           headers={"Retry-After": str(refusal.retry_after_s)})
