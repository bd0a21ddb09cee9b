"""The OpenAI chat-completions wire format: request bodies in, reply text out.

Shared by the OpenAI-compatible and gateway targets. Tool calls in a reply are rendered into
the transcript as ``<tool_call name="...">{arguments}</tool_call>`` so scorers can see them.
A guardrail block (HTTP 400/403 with a policy error code, or ``finish_reason:
content_filter``) becomes ``Reply(blocked=True)``, not an error.
"""

from __future__ import annotations

import datetime
import email.utils
import json
from collections.abc import Sequence
from typing import Any

import anyio
import httpx

from bastion.errors import RuntimeFailure
from bastion.redteam._errors import TargetError
from bastion.redteam._types import Message, Reply
from bastion.redteam.targets._tls import untrusted

BLOCK_CODES = frozenset({"content_filter", "content_policy_violation", "policy_violation",
                         "blocked", "guardrail", "moderation"})
RETRYABLE = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_SHAPE = ("a chat completions endpoint answers {'choices': [{'message': {'content': ...}}]}: "
          "check that base_url is the API root of an OpenAI-compatible server (it ends in "
          "'/v1'; Bastion adds '/chat/completions'), or use -t http with option "
          "'response_path' for another API")


#: The most bytes of one answer a target reads (a 50 MB answer was read whole into memory,
#: then kept to its first 100,000 characters: _session.MAX_REPLY).
MAX_ANSWER_BYTES = 8 * 1024 * 1024


class Deadline(httpx.TimeoutException):
    """The whole request (connecting, waiting, reading) took longer than its deadline.

    httpx's own timeouts bound each wait (connect, each read) alone: a server sending one
    byte a second never trips a 60 s read timeout, and kept a campaign waiting for hours."""


async def send_bounded(client: httpx.AsyncClient, request: httpx.Request, *,
                       sender: str = "the target", error: type[RuntimeFailure] = TargetError,
                       deadline: float | None = None) -> httpx.Response:
    """``request``'s answer, read whole up to :data:`MAX_ANSWER_BYTES` (decoded), or an
    ``error`` saying ``sender``'s answer was larger; httpx's own errors pass through, and
    :class:`Deadline` when the whole exchange takes over ``deadline`` seconds."""
    if deadline is None:
        return await _read_bounded(client, request, sender, error)
    try:
        with anyio.fail_after(deadline):
            return await _read_bounded(client, request, sender, error)
    except TimeoutError as exc:
        raise Deadline(f"no whole answer within {deadline:g} s", request=request) from exc


async def _read_bounded(client: httpx.AsyncClient, request: httpx.Request, sender: str,
                        error: type[RuntimeFailure]) -> httpx.Response:
    response = await client.send(request, stream=True)
    body = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise error(f"{sender}'s answer (HTTP {response.status_code}) is over "
                            f"{MAX_ANSWER_BYTES // 2**20} MiB and was not read further: "
                            "check that the URL is the chat API, not a download")
    finally:
        await response.aclose()
    # The body is decoded already: without its encoding and length headers httpx keeps it.
    headers = [(k, v) for k, v in response.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length")]
    return httpx.Response(response.status_code, headers=headers, content=bytes(body),
                          request=request)


def timed_out(shown: str, timeout: float, error: httpx.TimeoutException) -> str:
    """What a timeout means: a target never reached (a firewall dropping packets, a VPN not
    up), which a larger timeout only makes slower to fail, or a slow answer, which it helps.
    httpx's own text is often empty."""
    if isinstance(error, Deadline):
        return (f"{shown} did not finish its answer within {timeout:g} s (option 'timeout' "
                "bounds the whole request: connecting, waiting and reading; a server that "
                "sends its answer slowly is cut off there); a slow model needs a larger "
                "option 'timeout' (-T timeout=300)")
    if isinstance(error, httpx.ConnectTimeout):
        return (f"could not connect to {shown} within {timeout:g} s: check that its host and "
                "port are reachable from here (a firewall dropping packets or a VPN not "
                "connected looks like this); a larger option 'timeout' will not help")
    return (f"{shown} did not answer within {timeout:g} s; a slow model needs a larger option "
            "'timeout' (-T timeout=300)")


def request_failed(error: httpx.HTTPError, shown: str, timeout: float,
                   unreached: str) -> TargetError:
    """The TargetError for a request that got no answer: a timeout (retryable), a refused
    TLS certificate (not: it is refused again), or ``unreached`` and httpx's words."""
    if isinstance(error, httpx.TimeoutException):
        return TargetError(timed_out(shown, timeout, error), retryable=True)
    refused = untrusted(shown, error)
    if refused:
        return TargetError(refused)
    return TargetError(f"{unreached}: {error}", retryable=True)


def request_body(model: str, messages: Sequence[Message], *, temperature: float,
                 max_tokens: int, tools: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """A chat-completions request body."""
    body: dict[str, Any] = {
        "model": model, "temperature": temperature, "max_tokens": max_tokens,
        "messages": wire_messages(messages),
    }
    if tools:
        body["tools"] = list(tools)
    return body


def wire_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Chat messages on the wire; a planted tool result becomes a real tool exchange.

    The API only accepts a ``tool`` message that answers an assistant's tool call, so each
    planted result is preceded by the assistant message that called the tool (no arguments),
    and the two share a call id: the model reads the result as its own tool's output, which is
    the channel indirect prompt injection travels in.
    """
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if message.role != "tool":
            out.append({"role": message.role, "content": message.content})
            continue
        call = f"call_{index}"
        name = message.name or "tool"
        out.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": call, "type": "function", "function": {"name": name, "arguments": "{}"}}]})
        out.append({"role": "tool", "tool_call_id": call, "content": message.content})
    return out


def tool_function(name: str, description: str = "") -> dict[str, Any]:
    """A minimal tool declaration (no arguments schema beyond a free object)."""
    return {"type": "function", "function": {
        "name": name, "description": description or f"The {name} tool.",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": True}}}


# What to check when a target answers a status the configuration causes.
_KEY = "api_key_env (or an Authorization header in 'headers')"
OPENAI_HINTS = {401: _KEY, 403: _KEY, 404: "base_url (the API root, ending in '/v1'; Bastion "
                                            "adds '/chat/completions') and model"}


def status_hint(status: int, hints: dict[int, str]) -> str:
    """'; check option ...' for a status the configuration causes (a refused key, a wrong
    path), or '' for one it does not (5xx, 429)."""
    return f"; check option {hints[status]}" if status in hints else ""


def http_failure(said: str, response: httpx.Response, hints: dict[int, str]) -> TargetError:
    """The error for a target's HTTP failure: ``said`` (who answered what), the option to
    check for a status the configuration causes (:func:`status_hint`), retried when the
    status is one a later try may not meet (:data:`RETRYABLE`), after ``Retry-After``."""
    return TargetError(said + status_hint(response.status_code, hints),
                       retryable=response.status_code in RETRYABLE,
                       retry_after=retry_after(response))


def _error_code(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None  # a list or text is no code
    if not isinstance(error, dict):
        return ""
    return f"{error.get('code') or ''} {error.get('type') or ''}".lower()


def retry_after(response: httpx.Response) -> float | None:
    """A response's ``Retry-After`` in seconds, given as a number or as an HTTP date (RFC
    9110; a date was ignored, so a rate-limited target was retried too soon), or None."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT; one written without a zone is read so
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


def parse_response(response: httpx.Response) -> Reply:
    """The reply in an HTTP response; raises TargetError for failures."""
    # The code or type must be a guardrail's whole word: as a substring, an account's
    # 'account_blocked' read as a guardrail block, so a refused key passed the gate.
    if response.status_code in (400, 403) and set(_error_code(response).split()) & BLOCK_CODES:
        return Reply(f"[blocked by guardrail: {_error_code(response).strip()}]", blocked=True)
    if response.status_code >= 400:
        raise http_failure(f"target answered HTTP {response.status_code}: "
                           f"{response.text[:200]!r}", response, OPENAI_HINTS)
    choice, message = _choice(response)
    text = message.get("content") or ""
    calls = "".join(f'\n<tool_call name="{f.get("name", "?")}">{f.get("arguments", "")}'
                    "</tool_call>" for f in _functions(message.get("tool_calls")))
    if not str(text).strip() and not calls and choice.get("finish_reason") == "length":
        # A reasoning model that spends max_tokens thinking answers nothing; read as a
        # refusal, it passed the gate without having answered.
        raise TargetError("the model stopped at its token limit before writing any answer "
                          "(finish_reason 'length', empty content); raise the target's "
                          "option max_tokens (-T max_tokens=4096)")
    return Reply(str(text) + calls, blocked=choice.get("finish_reason") == "content_filter")


def _choice(response: httpx.Response) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first choice of a chat completion and its message, or a TargetError saying what the
    answer holds instead (a string message crashed the whole campaign with a traceback)."""
    try:
        data: Any = response.json()
    except ValueError as exc:
        raise TargetError(f"target answer is not JSON ({exc}; it begins "
                          f"{response.text[:80]!r}); {_SHAPE}") from exc
    choices = data.get("choices") if isinstance(data, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or not isinstance(message, dict):
        raise TargetError(f"target answer is not a chat completion: it begins "
                          f"{json.dumps(data)[:120]!r}; {_SHAPE}")
    return choice, message


def _functions(calls: object) -> list[dict[str, Any]]:
    """The ``function`` objects of a message's tool calls (anything else is skipped)."""
    items = calls if isinstance(calls, list) else []
    return [c["function"] for c in items
            if isinstance(c, dict) and isinstance(c.get("function"), dict)]
