"""Responses in OpenAI's shape: errors, refusals, JSON with every non-ASCII byte escaped."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from bastion.gateway._config import RefusalConfig
from bastion.gateway._guard import Check
from bastion.policy import Policy

MODEL_PREFIX = "REDACTED_"
"""Placeholders of values the model generated (``[REDACTED_EMAIL_1]``); never restored."""


def masks(policy: Policy) -> bool:
    """True when a policy redacts: PII and secrets in completions are then masked."""
    return any(category.action == "redact" for category in policy.categories)


class JSONResponse(Response):
    """ASCII-only JSON, so hostile text round-trips byte for byte."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise compactly with non-ASCII escaped."""
        return dumps(content).encode("ascii")


def dumps(data: Any) -> str:
    """Compact, ASCII-only JSON text."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":"))


class GatewayError(Exception):
    """An error answered to the client as ``{"error": {...}}``.

    Args:
        status: HTTP status.
        message: what went wrong, why, and how to fix it.
        code: a short machine-readable code.
        param: the request field at fault, if one is.
        extra: more fields for the error object (policy codes for refusals).
    """

    def __init__(self, status: int, message: str, *, code: str,
                 headers: Mapping[str, str] | None = None,
                 extra: Mapping[str, Any] | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The OpenAI-shaped error body."""
        kind = ("server_error" if self.status >= 500 else
                "authentication_error" if self.status == 401 else
                "permission_error" if self.status == 403 else
                "rate_limit_error" if self.status == 429 else "invalid_request_error")
        return {"error": {"message": self.message, "type": kind, "param": self.param,
                          "code": self.code, **self.extra}}

    def response(self, headers: Mapping[str, str] | None = None) -> JSONResponse:
        """The HTTP response."""
        return JSONResponse(self.body(), status_code=self.status,
                            headers={**self.headers, **(headers or {})})


def policy_details(check: Check, *, rules: bool) -> dict[str, Any]:
    """What a refusal tells the client: the policy and the categories it hit, and with
    ``rules`` the ids of the rules that matched (never the text, never a score). A rule id
    names the phrase list that fired, so a caller who sees it learns which words to change:
    roles outside ``refusal.rule_ids_for`` get categories only (see ``Context.sees_rules``).
    """
    summary = check.summary()
    details = {"direction": check.direction, "policy": summary["policy"],
               "categories": summary["categories"]}
    if rules:
        details["rule_ids"] = summary["rule_ids"]
    return {"bastion": details}


def refusal_error(check: Check, config: RefusalConfig, *, rules: bool) -> GatewayError:
    """The error for blocked content."""
    codes = ", ".join(check.summary()["categories"]) or "policy"
    where = "prompt" if check.direction == "input" else "completion"
    return GatewayError(config.status, f"{config.message} The {where} violates policy "
                        f"{check.policy.id!r} ({codes}).", code="content_policy_violation",
                        extra=policy_details(check, rules=rules))


def refusal_completion(route: str, model: str | None, config: RefusalConfig,
                       check: Check, *, rules: bool) -> dict[str, Any]:
    """A normal completion whose only choice carries the refusal (``rules``: see
    :func:`policy_details`)."""
    created = int(time.time())
    details = policy_details(check, rules=rules)
    if route == "responses":
        return {**_refusal_response(model, config), **details}
    if route == "completions":
        choice: dict[str, Any] = {"index": 0, "text": config.message,
                                  "finish_reason": "content_filter", "logprobs": None}
        kind = "text_completion"
    else:
        choice = {"index": 0, "finish_reason": "content_filter",
                  "message": {"role": "assistant", "content": None,
                              "refusal": config.message}}
        kind = "chat.completion"
    return {"id": "bastion-refusal", "object": kind, "created": created, "model": model or "",
            "choices": [choice], **details,
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def _refusal_response(model: str | None, config: RefusalConfig) -> dict[str, Any]:
    return {"id": "bastion-refusal", "object": "response", "created_at": int(time.time()),
            "status": "completed", "model": model or "", "output": [
                {"type": "message", "id": "msg_bastion_refusal", "status": "completed",
                 "role": "assistant", "content": [{"type": "refusal",
                                                    "refusal": config.message}]}],
            "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}}


def refusal_chunks(route: str, model: str | None, config: RefusalConfig) -> list[str]:
    """The SSE frames of a streamed refusal (ending in ``[DONE]``; a Responses stream ends
    with its ``response.completed`` event instead)."""
    if route == "responses":
        event = {"type": "response.completed", "sequence_number": 0,
                 "response": _refusal_response(model, config)}
        return [f"event: response.completed\ndata: {dumps(event)}\n\n"]
    if route == "completions":
        choice: dict[str, Any] = {"index": 0, "text": config.message,
                                  "finish_reason": "content_filter"}
        kind = "text_completion"
    else:
        choice = {"index": 0, "delta": {"role": "assistant", "refusal": config.message},
                  "finish_reason": "content_filter"}
        kind = "chat.completion.chunk"
    chunk = {"id": "bastion-refusal", "object": kind, "created": int(time.time()),
             "model": model or "", "choices": [choice]}
    return [f"data: {dumps(chunk)}\n\n", "data: [DONE]\n\n"]


def sse_error(message: str, code: str, extra: Mapping[str, Any] | None = None) -> str:
    """An SSE frame carrying an OpenAI-shaped error (the stream ends after it)."""
    body = {"error": {"message": message, "type": "server_error" if code.startswith(
        ("upstream", "classifier")) else "invalid_request_error", "param": None, "code": code,
        **(extra or {})}}
    return f"data: {dumps(body)}\n\n"
