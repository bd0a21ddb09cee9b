"""What an upstream reports an answer cost, in tokens (whole, streamed, Responses)."""

from __future__ import annotations

from typing import Any

from bastion.gateway._answer import counted


def reported_tokens(data: Any) -> int:
    """The answer tokens an upstream reports in an answer, a chunk or a Responses event
    (``usage.completion_tokens``, ``usage.output_tokens``, ``response.usage``), else 0."""
    return _reported(data, "completion_tokens", "output_tokens")


def reported_prompt_tokens(data: Any) -> int:
    """The prompt tokens an upstream reports, where :func:`reported_tokens` finds the
    answer's (``usage.prompt_tokens``, ``usage.input_tokens``), else 0."""
    return _reported(data, "prompt_tokens", "input_tokens")


def _reported(data: Any, name: str, other: str) -> int:
    if not isinstance(data, dict):
        return 0
    usage = data.get("usage")
    if not isinstance(usage, dict) and isinstance(data.get("response"), dict):
        usage = data["response"].get("usage")
    if not isinstance(usage, dict):
        return 0
    count = usage.get(name, usage.get(other))
    return count if counted(count) else 0
