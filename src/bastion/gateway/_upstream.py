"""The call to the upstream model, and what its failures become (502, 504, its own 4xx with
the message checked; a refusal of the gateway's own credentials a 502 without it)."""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpx
import re2

from bastion.classify import decode_runs, url_decoded
from bastion.gateway._buffers import PROSE
from bastion.gateway._context import Context
from bastion.gateway._pieces import shows_pieces
from bastion.gateway._respond import GatewayError
from bastion.gateway._runs import junctions
from bastion.gateway._split import across, fold, links_in, strings
from bastion.gateway._walk import Key

logger = logging.getLogger("bastion.gateway")

UPSTREAM_PATHS = {"chat": "chat/completions", "completions": "completions",
                  "embeddings": "embeddings", "responses": "responses"}


async def send(ctx: Context, body: dict[str, Any], *, stream: bool) -> httpx.Response:
    """Call the upstream; transport failures become 502/504 errors."""
    gateway = ctx.gateway
    request = gateway.upstream.build_request("POST", UPSTREAM_PATHS[ctx.route], json=body)
    start = time.perf_counter()
    try:
        try:
            response = await gateway.upstream.send(request, stream=stream)
        except httpx.RemoteProtocolError:
            # A pooled connection the upstream closed as we reused it: nothing was answered,
            # so the request goes once more on a fresh connection.
            logger.warning("upstream closed a reused connection; retrying %s once",
                           ctx.request_id)
            response = await gateway.upstream.send(request, stream=stream)
    except httpx.TimeoutException as exc:
        ctx.outcome = "upstream_error"
        raise GatewayError(504, "the upstream model did not answer in time; retry later",
                           code="upstream_timeout") from exc
    except httpx.HTTPError as exc:
        ctx.outcome = "upstream_error"
        raise GatewayError(502, f"the upstream model cannot be reached "
                           f"({type(exc).__name__}); check upstream.base_url",
                           code="upstream_unavailable") from exc
    ctx.upstream_ms = (time.perf_counter() - start) * 1000
    gateway.metrics.upstream_latency.labels(ctx.route).observe(ctx.upstream_ms / 1000)
    return response


#: Upstream statuses that refuse the gateway itself (its key, its project's access, a proxy
#: between them), never the caller's request.
OWN_CREDENTIALS = frozenset({401, 403, 407})


async def upstream_failure(ctx: Context, response: httpx.Response) -> GatewayError:
    """The error for an upstream status other than 200: a 4xx is passed on (its message
    checked); anything else, 5xx and also 201, 204, 3xx (which a client would take for
    success or a redirect, and a 204 could not carry an error body), is a 502.

    A 401, 403 or 407 refuses the gateway's own credentials, not the caller: it is a 502
    without the upstream's message, which may quote the gateway's key ('Unauthorized:
    <token>', as a vLLM or a proxy in front of one says) or name its project. Passed on,
    a black-box pass read the gateway's upstream token in a 401 the client took for its own.
    """
    await response.aread()
    await response.aclose()
    status = response.status_code
    ctx.outcome, ctx.reason = "upstream_error", f"upstream status {status}"
    if status >= 500:
        return GatewayError(502, f"the upstream model failed (status {status}); "
                            "retry later", code="upstream_error")
    if status < 400:
        return GatewayError(502, f"the upstream answered status {status} "
                            "instead of an answer", code="upstream_malformed")
    if status in OWN_CREDENTIALS:
        logger.error("the upstream refused the gateway's credentials (status %d) for %s; "
                     "check upstream.api_key_env", status, ctx.request_id)
        return GatewayError(502, f"the upstream refused the gateway's own credentials (status "
                            f"{status}); nothing is wrong with this request or its key: "
                            "tell the gateway's operator", code="upstream_unauthorized")
    message = await _checked_message(ctx, _upstream_message(response))
    return GatewayError(response.status_code, f"the upstream refused the request: {message}",
                        code="upstream_rejected")


def reports_failure(route: str, data: object) -> bool:
    """Whether a whole answer (status 200) reports a failure instead of answering: an
    ``error`` object beside or instead of the answer, or a Responses answer whose status is
    ``failed``. A stream that says so is stopped with a message of the gateway's own
    (``_stream``); a whole one was passed on with the upstream's message, which may name
    the gateway's credentials or an address behind it (a black-box pass)."""
    if not isinstance(data, dict):
        return False
    return bool(data.get("error")) or (route == "responses" and data.get("status") == "failed")


async def _checked_message(ctx: Context, message: str) -> str:
    """The upstream's error message if the output policy lets it through and it does not
    quote the gateway's upstream key, else a stand-in."""
    if _names_the_upstream(ctx, message):
        ctx.extra["upstream_message_withheld"] = True
        return ("(the upstream's message was withheld: it quoted the gateway's credentials "
                "or an address behind it)")
    policy = ctx.policy("output")
    verdicts = await ctx.gateway.guard.classify([message], policy)
    if any(v.kind != "safe" for v in verdicts):
        ctx.extra["upstream_message_withheld"] = True
        return "(the upstream's message was withheld: it did not pass the output check)"
    return message


#: Keys under which an answer holds the model's own text, or an echo of the request: a
#: string anywhere else is the upstream server's own report (``incomplete_details.reason``,
#: a choice's ``stop_reason``, an extra top-level field).
_MODEL_TEXT = frozenset({"message", "delta", "text", "logprobs", "output", "item", "part",
                         "arguments", "refusal", "input", "instructions", "tools",
                         "metadata", "prompt"})
#: What an address behind the gateway, in the upstream's own report, is replaced with.
WITHHELD_REPORT = "(withheld by the gateway: it named an address behind it)"
#: What the gateway's upstream key is replaced with, wherever an answer quotes it.
WITHHELD_KEY = "[withheld]"


def withhold_upstream(ctx: Context, raw: str, data: Any) -> None:
    """Take out of an answer (a whole one, or a streamed chunk or event; ``raw`` is its JSON
    text) what only the upstream's side should know: the key the gateway sends upstream,
    wherever it stands (replaced by :data:`WITHHELD_KEY`), and a whole string of the upstream
    server's own reports (not the model's text: :data:`_MODEL_TEXT`) that names an address
    behind the gateway (:func:`_names_inside`; not the upstream's host, which a model's name
    may hold: 'vllm-7b'). A black-box pass (issue 8) read the gateway's upstream token and a
    pod's address in a Responses answer's ``incomplete_details.reason``: error messages were
    withheld, other fields passed on.

    Raises:
        GatewayError: an object's key holds the upstream key (a 502: a key cannot be masked
            without changing the answer's shape).
    """
    key = upstream_key(ctx)
    if not _may_quote(raw, key) and _MAYBE_INSIDE.search(raw) is None:
        return  # the common case: two quick passes over the text
    quoted = re.compile(re.escape(key), re.IGNORECASE) if key else None

    def scrub(value: Any, report: bool) -> Any:
        if isinstance(value, str):
            if report and _names_inside(ctx, value):
                return WITHHELD_REPORT
            return quoted.sub(WITHHELD_KEY, value) if quoted is not None else value
        if isinstance(value, list):
            return [scrub(item, report) for item in value]
        if isinstance(value, dict):
            if quoted is not None and any(quoted.search(str(name)) for name in value):
                ctx.outcome, ctx.reason = "upstream_error", "the upstream key in a key's name"
                raise GatewayError(502, "the upstream's answer quoted the gateway's own "
                                   "credentials, so it was withheld; tell the gateway's "
                                   "operator", code="upstream_malformed")
            return {name: scrub(item, report and name not in _MODEL_TEXT)
                    for name, item in value.items()}
        return value

    scrubbed = scrub(data, True)
    if scrubbed != data and isinstance(data, dict | list):
        ctx.extra["upstream_text_withheld"] = True
        data.clear()
        if isinstance(data, dict):
            data.update(scrubbed)
        else:
            data.extend(scrubbed)


def _may_quote(raw: str, key: str) -> bool:
    """Whether ``raw``, an answer's JSON text, may quote ``key`` once parsed: in any case as
    the regex that scrubs it reads one (``_split.fold``: 'İNTERNAL-...' too), or behind a
    JSON escape ('\\u0069nternal-...' is the key to any client; both passed whole answers,
    a black-box pass, issue 8)."""
    if not key:
        return False
    return "\\u" in raw or ("/" in key and "\\/" in raw) or fold(key) in fold(raw)


def withhold_split_key(ctx: Context, data: Any) -> None:
    """Refuse an answer whose strings (``data``: its JSON) hold the gateway's upstream key
    cut between two of them (``_split.across``), or pieces of it inside one, text between
    them (``_pieces.shows_pieces``): no field can be masked to withhold it, so the answer is
    (a 502, as for the key in a key's name). Without an upstream key the answer is not walked.

    Raises:
        GatewayError: the key is cut between two texts, or shown in pieces.
    """
    key = upstream_key(ctx)
    if not key:
        return
    texts = list(strings(data))
    if across([*texts, *links_in(texts)], key):  # (halves in two links: see link_pieces)
        raise _withheld(ctx, "cut between two fields")
    if shows_pieces(texts, key):  # (its whole occurrences were scrubbed already)
        raise _withheld(ctx, "in pieces")


def withhold_spelled_key(ctx: Context, readings: Iterable[str],
                         fields: Mapping[Key, str] | None = None) -> None:
    """Refuse an answer whose ``readings`` (each choice's text as the output check reads it)
    spell the gateway's upstream key although no string of the answer holds it (each was
    scrubbed, :func:`withhold_upstream`): the best alternatives of each step of ``logprobs``
    spell a text a client can join, and a tool call's arguments are JSON whose escapes a
    client decodes ('\\u0069nternal-...'); both passed whole answers (a black-box pass,
    issue 8); and a reading whose decoded payloads hold it (:func:`decoded`), or an encoded
    run cut between two of a choice's ``fields`` (:func:`encoded_across`). A 502, as for a
    key cut between fields.

    Raises:
        GatewayError: a reading holds the key, as written or decoded.
    """
    key = fold(upstream_key(ctx))
    if not key:
        return
    readings = list(readings)
    if any(key in fold(reading) for reading in readings):
        raise _withheld(ctx, "spelled over several strings")
    if any(spells_encoded(reading, key) for reading in readings) \
            or encoded_across(fields or {}, key):
        raise _withheld(ctx, "encoded")


#: Fields a client shows as text (not a tool call's JSON, nor a reading of the gateway's).
_SHOWN = PROSE | {"x", "logprobs"}


def encoded_across(fields: Mapping[Key, str], key: str) -> bool:
    """Whether an encoded run cut between two fields of a choice holds ``key`` once decoded
    (``_runs.junctions``): reasoning ending with the first half of the key's base64 and
    content beginning with the rest, which a client shows one after the other, reached it
    whole and streamed while each field alone decodes to no key (issue 8; the key itself
    cut so is :func:`_split.across`'s). Fields are few, so every pair is read."""
    texts: dict[int, list[str]] = {}
    for (index, name), text in fields.items():
        if name.partition(".")[0] in _SHOWN:
            texts.setdefault(index, []).append(text)
    return bool(key) and any(spells_encoded(joined, key) for choice in texts.values()
                             for joined in junctions(choice, len(key)))


def spells_encoded(text: str, key: str) -> bool:
    """Whether ``text``, once decoded (:func:`decoded`), holds ``key`` (any case)."""
    folded = fold(key)
    return bool(folded) and any(folded in fold(plain) for plain in decoded(text))


def decoded(text: str, depth: int = 2) -> Iterator[str]:
    """What ``text`` says once its URL escapes and its payloads (base64, hex, base32, ...:
    ``decode_runs``, any share of letters: a hex key has few) are decoded, twice over: the
    upstream key base64-encoded, hex-encoded or URL-escaped in an answer is the key to a
    client who decodes it, and no regex over the text as sent finds it (a black-box pass
    named encoded keys, issue 8)."""
    if "%" in text:
        yield (plain := url_decoded(text))
        if depth > 1 and plain != text:
            yield from decoded(plain, depth - 1)
    for _source, plain, _start, _end in decode_runs(text, letters_share=0.0):
        yield plain
        if depth > 1:
            yield from decoded(plain, depth - 1)


def _withheld(ctx: Context, how: str) -> GatewayError:
    ctx.outcome, ctx.reason = "upstream_error", f"the upstream key {how}"
    ctx.extra["upstream_text_withheld"] = True
    return GatewayError(502, f"the upstream's answer quoted the gateway's own credentials "
                        f"({how}), so it was withheld; tell the gateway's operator",
                        code="upstream_malformed")


def upstream_key(ctx: Context) -> str:
    """The key the gateway sends upstream ("" without one)."""
    header: str = ctx.gateway.upstream.headers.get("authorization", "")
    return header.removeprefix("Bearer ").strip()


def _names_the_upstream(ctx: Context, message: str) -> bool:
    """Whether ``message`` names what lies behind the gateway (:func:`_names_inside`) or the
    upstream's host (any case)."""
    host = ctx.gateway.upstream.base_url.host
    return _names_inside(ctx, message) or bool(host and fold(host) in fold(message))


def _names_inside(ctx: Context, message: str) -> bool:
    """Whether ``message`` holds the key the gateway sends upstream or an address of a
    private network: a key of any shape (vLLM's --api-key is any string), which no secret
    detector would know, and an address behind the gateway ('model not found at
    http://10.0.3.7:8000/v1', a pod behind the upstream's balancer), which its callers need
    not learn."""
    key = upstream_key(ctx)
    return bool(key and fold(key) in fold(message)) \
        or any(_private(m.group()) for m in _ADDRESS.finditer(message)) \
        or _INTERNAL_NAME.search(message) is not None


#: An IPv4 address (a port may follow), or an IPv6 one of two groups or more.
_ADDRESS = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)"
                      r"|(?<![\w.:])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?![\w.:])", re.IGNORECASE)
#: What every match of :data:`_ADDRESS` and :data:`_INTERNAL_NAME` holds, in RE2, which
#: scans a text in one pass (Python's patterns took about 110 us a streamed chunk).
_MAYBE_INSIDE = re2.compile(r"(?i)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9a-f]{0,4}:[0-9a-f]{0,4}:"
                            r"|localhost|[a-z0-9-]\.(?:svc|internal|local|lan|corp)\b")
#: Host names only a private network resolves (Kubernetes services, mDNS, cloud internals).
_INTERNAL_NAME = re.compile(
    r"\blocalhost\b|[a-z0-9-]\.(?:svc|cluster\.local|internal|local|lan|corp)\b", re.IGNORECASE)


def _private(address: str) -> bool:
    try:
        return not ipaddress.ip_address(address).is_global
    except ValueError:
        return False


def _upstream_message(response: httpx.Response) -> str:
    try:
        data = response.json()
        message = data["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"status {response.status_code}"
    return str(message)[:500]
