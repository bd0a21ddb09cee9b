"""The OpenAI chat-completions wire format: request bodies in, reply text out.

Shared by the OpenAI-compatible and gateway targets. Tool calls in a reply are rendered into
the transcript as ``<tool_call name="...">{arguments}</tool_call>`` so scorers can see them.
A guardrail block (HTTP 400/403 with a policy error code, or ``finish_reason:
content_filter``) becomes ``Reply(blocked=True)``, not an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from bastion.redteam._errors import TargetError
from bastion.redteam._types import Message, Reply

BLOCK_CODES = frozenset({"content_filter", "content_policy_violation", "policy_violation",
                         "blocked", "guardrail", "moderation"})
RETRYABLE = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


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


def _error_code(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return ""
    if not isinstance(error, dict):
        return ""
    return f"{error.get('code') or ''} {error.get('type') or ''}".lower()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


def parse_response(response: httpx.Response) -> Reply:
    """The reply in an HTTP response; raises TargetError for failures."""
    if response.status_code in (400, 403) and any(
            code in _error_code(response) for code in BLOCK_CODES):
        return Reply(f"[blocked by guardrail: {_error_code(response).strip()}]", blocked=True)
    if response.status_code >= 400:
        raise TargetError(f"target answered HTTP {response.status_code}: "
                          f"{response.text[:200]!r}",
                          retryable=response.status_code in RETRYABLE,
                          retry_after=_retry_after(response))
    try:
        choice = response.json()["choices"][0]
        message = choice["message"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise TargetError(f"target answer is not a chat completion: {exc}") from exc
    text = message.get("content") or ""
    calls = "".join(f'\n<tool_call name="{c.get("function", {}).get("name", "?")}">'
                    f'{c.get("function", {}).get("arguments", "")}</tool_call>'
                    for c in message.get("tool_calls") or [] if isinstance(c, dict))
    return Reply(str(text) + calls, blocked=choice.get("finish_reason") == "content_filter")
