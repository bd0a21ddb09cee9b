"""Generation routes (chat and text completions): check the prompt, call, check the answer."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import httpx
from starlette.responses import Response, StreamingResponse

from bastion.accounts import hashed_account_id
from bastion.gateway._abuse import assess, assess_in_order
from bastion.gateway._admit import CAP_NAMES, charge_completion
from bastion.gateway._answer import answer_texts, asked_choices, counted
from bastion.gateway._buffers import arrives, buffers_of, key_names, per_choice
from bastion.gateway._context import Context
from bastion.gateway._extract import (
    TextField,
    dotted,
    joined,
    set_path,
)
from bastion.gateway._guard import Check, header_value
from bastion.gateway._jsontext import mask_texts
from bastion.gateway._keymask import mask_answer_keys
from bastion.gateway._prompt import check_input
from bastion.gateway._respond import (
    MODEL_PREFIX,
    GatewayError,
    JSONResponse,
    masks,
    refusal_chunks,
    refusal_completion,
    refusal_error,
)
from bastion.gateway._responses import response_texts, sign_response
from bastion.gateway._stream import StreamGuard
from bastion.gateway._upstream import (
    reports_failure,
    send,
    upstream_failure,
    withhold_spelled_key,
    withhold_split_key,
    withhold_upstream,
)
from bastion.gateway._usage import reported_prompt_tokens, reported_tokens
from bastion.gateway._walk import AnswerText, Unreadable
from bastion.redact import Vault


def headers_for(ctx: Context, *, pending_output: bool = False) -> dict[str, str]:
    """The ``x-bastion-*`` headers: request id, checks and their outcomes, abuse level."""
    expected = ctx.expected()
    checks = list(ctx.checks)
    if pending_output:
        checks.append(Check("output", expected[-1][1], "pending"))
    out = {"x-bastion-request-id": ctx.request_id,
           "x-bastion-checks": header_value(checks, expected)}
    level = ctx.abuse.level if ctx.abuse else ctx.extra.get("abuse_level")
    if level and level != "ok":
        out["x-bastion-abuse-level"] = str(level)
    return out


def mask_fields(ctx: Context, body: dict[str, Any], fields: list[TextField]) -> Vault:
    """Replace PII and secrets in every field with placeholders (the ``redact`` action)."""
    vault = Vault(ctx.gateway.detectors)
    rewritable = []
    for item in fields:
        if not item.rewritable:  # a key cannot be renamed: refused rather than sent on
            found = sorted({entity.kind for entity in vault.detectors.find(item.text)})
            if found:
                raise GatewayError(400, f"{dotted(item.path)} has a key holding "
                                   f"{' and '.join(found).lower()} data, which the gateway "
                                   "cannot mask (a key cannot be renamed without breaking "
                                   "what reads it); rename the key", code="unmaskable_field",
                                   param=dotted(item.path))
            continue
        rewritable.append(item)
    # identifiers (a role, an id) are masked alone: a role was rewritten as part of a text
    masked = mask_texts([item.text for item in rewritable], vault,
                        [None if item.identifier else 0 for item in rewritable])
    for item, text in zip(rewritable, masked, strict=True):
        if text != item.text:
            set_path(body, item.path, text)
    ctx.extra["redacted_values"] = len(vault)
    return vault


#: The most fields and characters a request may hold to be masked in the event loop: masking
#: a chat request of two short messages takes 0.3 ms, and handing it to a worker thread and
#: back 0.2 ms more (measured), while pure Python in a thread holds the interpreter lock, and
#: so the event loop, all the same; a larger request is masked in a thread.
INLINE_MASK_FIELDS, INLINE_MASK_CHARS = 16, 2_000


async def redact(ctx: Context, body: dict[str, Any], fields: list[TextField],
                 check: Check) -> Vault | None:
    """Mask what the policy redacts; ``None`` when the policy redacts nothing.

    The gateway's own detectors run whenever the input policy has a ``redact`` category, not
    only when the classifier said so: a value it missed (an unusual card grouping) must still
    never reach the upstream. The check then reads ``redact`` (``flag`` when nothing could
    be masked: see :meth:`Check.settle_masking`). The masking of a large request runs in a
    worker thread, as the classifier does: in the event loop, a request of 20,000 short
    messages held every other caller for nine seconds (a black-box pass). A small one
    (:data:`INLINE_MASK_FIELDS`, :data:`INLINE_MASK_CHARS`) is masked in the event loop.
    """
    if check.outcome != "redact" and not masks(ctx.policy("input")):
        return None
    if len(fields) <= INLINE_MASK_FIELDS \
            and sum(len(item.text) for item in fields) <= INLINE_MASK_CHARS:
        vault = mask_fields(ctx, body, fields)
    else:
        vault = await anyio.to_thread.run_sync(mask_fields, ctx, body, fields)
    check.settle_masking(len(vault))
    return vault


def stamp_identity(ctx: Context, body: dict[str, Any]) -> None:
    """Replace any client-sent identity with the account's stable pseudonym."""
    assert ctx.principal is not None
    pseudonym = hashed_account_id(ctx.principal.account.id, ctx.gateway.identity_secret)
    for name in ctx.gateway.config.identity_fields:
        body[name] = pseudonym


def ask_usage(ctx: Context, body: dict[str, Any]) -> bool:
    """Under a token budget, ask the upstream for a stream's usage (``include_usage``), and
    say whether the gateway asked it (the client did not: its usage chunk is taken out). A
    stream carries its cost only when asked, and charged by its visible text an answer
    with 900 tokens of hidden reasoning cost one (a black-box pass)."""
    assert ctx.principal is not None
    options = body.get("stream_options")
    if not ctx.stream or ctx.route == "responses" or not isinstance(options, dict | None) \
            or not ctx.gateway.limiter.has_token_budget(ctx.principal) \
            or (options or {}).get("include_usage") is True:
        return False
    body["stream_options"] = {**(options or {}), "include_usage": True}
    return True


async def refuse(ctx: Context, check: Check, prompt: str) -> Response:
    """Answer a blocked request (error or refusal completion) after counting strikes."""
    ctx.outcome = f"blocked_{check.direction}"
    await assess_in_order(ctx, prompt)
    config = ctx.gateway.config.refusal
    if config.mode == "error":
        error = refusal_error(check, config, rules=ctx.sees_rules())
        ctx.status = error.status
        return error.response(headers_for(ctx))
    if ctx.stream:
        return StreamingResponse(iter(refusal_chunks(ctx.route, ctx.model, config)),
                                 media_type="text/event-stream", headers=headers_for(ctx))
    return JSONResponse(refusal_completion(ctx.route, ctx.model, config, check,
                                           rules=ctx.sees_rules()),
                        headers=headers_for(ctx))


#: The largest cap on an answer's tokens: what a server's 32-bit count holds, more than any
#: model's context. 10**30 went on to the upstream whenever a key had no token budget.
MOST_TOKENS = 2**31 - 1
#: The cap that caps nothing, to llama.cpp (and replaced under a token budget).
NO_CAP = -1


def _answers_asked(route: str, body: dict[str, Any], most_answers: int) -> bool:
    """Whether a generation request is streamed; a 400 for settings that an upstream may
    read otherwise than the gateway charges and reads them, or that ask for more than any
    upstream can give (``most_answers`` answers; :data:`MOST_TOKENS` tokens an answer):
    a black-box pass had n=1000000000, max_tokens=10**30 and max_tokens=-5 answered 200."""
    stream = body.get("stream", False)
    if not isinstance(stream, bool):  # an upstream might read "yes" or 1 differently
        raise GatewayError(400, f"'stream' must be true or false, not {stream!r}",
                           code="invalid_request")
    for name, what in (("n", "how many answers to give"),
                       ("best_of", "how many answers to generate and choose from")):
        answers = body.get(name)
        if answers is not None and not (counted(answers) and answers <= most_answers):
            # an upstream may read "3" or 3.0 as three answers: charged and read as one,
            # they would be refused only once they came back (or, for best_of, never seen)
            fix = ("ask for fewer, or ask the operator to raise request.max_answers"
                   if counted(answers) else "send it as a JSON number, such as 1")
            raise GatewayError(400, f"{name!r} must be a whole number from 1 to "
                               f"{most_answers:,} ({what}), not {repr(answers)[:40]}; {fix}",
                               code="invalid_request", param=name)
    for name in CAP_NAMES:
        cap = body.get(name)
        if cap is not None and not (isinstance(cap, int) and not isinstance(cap, bool)
                                    and (cap == NO_CAP or 1 <= cap <= MOST_TOKENS)):
            # reserved only when a whole number, "5000" went on uncounted to upstreams that
            # read it as 5000 (vLLM's and llama.cpp's validators coerce it): issue 8
            fix = "ask for fewer" if counted(cap) else "send it as a JSON number, such as 500"
            raise GatewayError(400, f"{name!r} must be a whole number from 1 to "
                               f"{MOST_TOKENS:,} (the most tokens an answer may take), or "
                               f"{NO_CAP} or null for no cap, not {repr(cap)[:40]}; {fix}",
                               code="invalid_request", param=name)
    prompts = body.get("prompt") if route == "completions" else None
    if isinstance(prompts, list) and len(prompts) > 1 and not all(
            isinstance(p, int) for p in prompts):  # a list of ints is one prompt, as ids
        # each prompt is answered (n answers each, up to the cap each): the budget counted
        # one answer, and the reader takes no index past n
        raise GatewayError(400, f"'prompt' holds {len(prompts)} prompts; this gateway takes "
                           "one prompt per request: send each as its own request",
                           code="invalid_request", param="prompt")
    return stream


async def generate(ctx: Context, body: dict[str, Any]) -> Response:
    """Chat and text completions, streamed or not."""
    gateway, route = ctx.gateway, ctx.route
    stream = _answers_asked(route, body, gateway.config.request.max_answers)
    ctx.stream = stream
    fields, texts, check = await check_input(ctx, body)
    prompt = joined(texts)
    if check.outcome == "block":
        return await refuse(ctx, check, prompt)
    vault = await redact(ctx, body, fields, check)
    stamp_identity(ctx, body)
    usage_asked = ask_usage(ctx, body)
    ctx.body = body
    response = await send(ctx, body, stream=ctx.stream)
    if response.status_code != 200:
        raise await upstream_failure(ctx, response)
    fail_open = gateway.config.route(route).fail_open_output
    policy = ctx.policy("output")
    if ctx.stream:
        if "text/event-stream" not in response.headers.get("content-type", ""):
            await response.aclose()
            raise GatewayError(502, "the upstream answered a streamed request without an "
                               "event stream", code="upstream_malformed")
        guard = StreamGuard(ctx, response, policy, fail_open=fail_open,
                            vault=vault if gateway.config.redact.restore else None,
                            mask=masks(policy), drop_usage=usage_asked)
        ctx.extra["deferred"] = True
        return StreamingResponse(guard.run(), media_type="text/event-stream",
                                 headers=headers_for(ctx, pending_output=True))
    return await _complete(ctx, response, prompt, vault, fail_open)


async def _complete(ctx: Context, response: httpx.Response, prompt: str, vault: Vault | None,
                    fail_open: bool) -> Response:
    gateway, route = ctx.gateway, ctx.route
    try:
        data = response.json()
        withhold_upstream(ctx, response.text, data)
        withhold_split_key(ctx, data)
        if reports_failure(route, data):
            ctx.outcome, ctx.reason = "upstream_error", "the answer reported a failure"
            raise GatewayError(502, "the upstream reported an error instead of an answer; "
                               "retry later", code="upstream_error")
        texts = (response_texts(data, ctx.body) if route == "responses" else
                 answer_texts(route, data, streamed=False, asked=asked_choices(ctx.body)))
    except (ValueError, RecursionError, Unreadable) as exc:  # deep nesting: unreadable too
        ctx.outcome, ctx.reason = "upstream_error", f"unreadable completion: {exc}"
        raise GatewayError(502, "the upstream answered with a completion the gateway cannot "
                           f"read ({exc}), so it was withheld", code="upstream_malformed") from exc
    policy = ctx.policy("output")
    buffers = buffers_of(texts)
    readings = per_choice(buffers)
    withhold_spelled_key(ctx, readings, buffers)
    check = ctx.add(await gateway.guard.check(
        "output", readings, policy, fail_open=fail_open, alone=key_names(buffers)))
    if check.outcome == "block":
        return await refuse(ctx, check, prompt)
    if check.outcome == "error":
        ctx.outcome, ctx.reason = "classifier_error", "output check failed (fail-closed)"
        raise GatewayError(503, "the completion could not be checked (the classifier failed "
                           "or timed out) and this route fails closed; retry shortly",
                           code="classifier_unavailable", headers={"Retry-After": "2"})
    masked = _rewrite_choices(ctx, data, texts, mask=masks(policy), vault=vault)
    if masked is not None:
        check.settle_masking(masked)
    if route == "responses":
        assert ctx.principal is not None
        sign_response(data, ctx.principal.account.id, gateway.identity_secret)
    await charge_completion(ctx, reported_tokens(data), (t.text for t in texts),
                            prompt=reported_prompt_tokens(data))
    if check.violations:
        await assess(ctx, prompt)
    return JSONResponse(data, headers=headers_for(ctx))


def _rewrite_choices(ctx: Context, data: dict[str, Any], texts: list[AnswerText],
                     *, mask: bool, vault: Vault | None) -> int | None:
    """Mask what the model generated and restore the client's own values; the number of
    values masked (``None`` when the output policy masks nothing)."""
    restore = vault is not None and ctx.gateway.config.redact.restore
    if not mask and not restore:
        return None
    output_vault = Vault(ctx.gateway.detectors, prefix=MODEL_PREFIX)
    # a choice's fields as a client reads them, one after another (see mask_texts)
    masked = mask_texts([item.text for item in texts], output_vault,
                        [item.key[0] if item.key[0] >= 0 and item.rewritable
                         and arrives(item.key) else None for item in texts]
                        ) if mask else [item.text for item in texts]
    for item, written in zip(texts, masked, strict=True):
        text = vault.restore(written) if restore and vault is not None else written
        if text != item.text and item.rewritable:
            set_path(data, item.path, text)
    _mask_keys(ctx, data, output_vault if mask else None, vault if restore else None)
    return len(output_vault) if mask else None


def _mask_keys(ctx: Context, data: Any, mask: Vault | None, restore: Vault | None) -> None:
    """Mask (and restore) the keys of an answer's objects as their values are (after the
    values: their paths name the keys as the upstream wrote them).

    Raises:
        GatewayError: two keys of one object would be masked to one name (a 502).
    """
    try:
        mask_answer_keys(data, mask, restore)
    except ValueError as exc:
        ctx.outcome, ctx.reason = "upstream_error", f"unmaskable keys: {exc}"
        raise GatewayError(502, f"the upstream's answer has keys that cannot be masked ({exc}), "
                           "so it was withheld; ask for the data as values, not as keys",
                           code="upstream_malformed") from exc
