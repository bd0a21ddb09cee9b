"""A generic HTTP target: a request template with a ``{prompt}`` slot, a JSON path to the reply.

Example: ``url="https://bot.example/api/chat"``, ``body='{"query": "{prompt}"}'``,
``response_path="data.answer"``. In a JSON body the prompt is JSON-escaped before it fills the
slot, so hostile prompts cannot break out of the string. Header values may name environment
variables as ``${NAME}`` (API keys stay out of configs and logs).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from bastion.errors import ConfigError
from bastion.redteam._base import Target
from bastion.redteam._errors import TargetError
from bastion.redteam._openai_wire import RETRYABLE
from bastion.redteam._types import Message, Reply

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_INDEX = re.compile(r"\[(\d+)\]")


def json_path(data: Any, path: str) -> Any:
    """Follow a dotted path (``choices.0.message.content``, ``$.a[0].b`` also works)."""
    steps = _INDEX.sub(r".\1", path.removeprefix("$").lstrip(".")).split(".")
    for step in filter(None, steps):
        if isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        elif isinstance(data, dict) and step in data:
            data = data[step]
        else:
            raise KeyError(f"response has no {step!r} on path {path!r}")
    return data


def _expand(value: str) -> str:
    def repl(match: re.Match[str]) -> str:
        found = os.environ.get(match.group(1))
        if found is None:
            raise ConfigError(f"environment variable {match.group(1)!r} named in an HTTP "
                              "target header is not set")
        return found
    return _ENV.sub(repl, value)


class HttpTarget(Target):
    """Any HTTP API that takes a prompt and returns JSON (or plain text).

    Args:
        url: the endpoint.
        body: the request body template; ``{prompt}`` is replaced by the last user message.
        method: HTTP method.
        headers: request headers; ``${ENV}`` references are expanded.
        response_path: where the reply text is in the JSON answer; empty for a plain-text body.
        blocked_status: HTTP statuses that mean "blocked by a guardrail" (a refusal).
        timeout: seconds per request.
        transport: an httpx transport (tests).
    """

    name = "http"
    description = "Generic HTTP API: body template with {prompt}, JSON path to the reply."

    def __init__(self, url: str, body: str = '{"prompt": "{prompt}"}', method: str = "POST",
                 headers: Mapping[str, str] | None = None, response_path: str = "response",
                 blocked_status: Sequence[int] = (), timeout: float = 60.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if "{prompt}" not in body:
            raise ConfigError("HTTP target body template has no {prompt} slot")
        self.url, self.body, self.method = url, body, method.upper()
        self.headers = {k: _expand(v) for k, v in (headers or {}).items()}
        self.response_path = response_path
        self.blocked_status = frozenset(blocked_status)
        self._json = body.lstrip().startswith(("{", "["))
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)

    def render(self, prompt: str) -> str:
        """The request body for ``prompt``."""
        slot = json.dumps(prompt)[1:-1] if self._json else prompt
        return self.body.replace("{prompt}", slot)

    async def send(self, messages: Sequence[Message]) -> Reply:
        """Send the last user message through the template."""
        prompt = next((m.content for m in reversed(messages) if m.role == "user"), "")
        headers = {"content-type": "application/json" if self._json else "text/plain",
                   **self.headers}
        try:
            response = await self._client.request(self.method, self.url, headers=headers,
                                                  content=self.render(prompt).encode("utf-8"))
        except httpx.HTTPError as exc:
            raise TargetError(f"cannot reach {self.url}: {exc}", retryable=True) from exc
        if response.status_code in self.blocked_status:
            return Reply(f"[blocked: HTTP {response.status_code}]", blocked=True)
        if response.status_code >= 400:
            raise TargetError(f"{self.url} answered HTTP {response.status_code}",
                              retryable=response.status_code in RETRYABLE)
        if not self.response_path:
            return Reply(response.text)
        try:
            return Reply(str(json_path(response.json(), self.response_path)))
        except (ValueError, KeyError) as exc:
            raise TargetError(f"cannot read the reply from {self.url}: {exc}") from exc

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
