"""OpenAI-compatible targets: any chat-completions endpoint, and the Bastion gateway."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import httpx

from bastion.errors import ConfigError
from bastion.redteam._base import Target
from bastion.redteam._canary import planted
from bastion.redteam._config import check_userinfo, credentials, public_url
from bastion.redteam._types import Message, Reply, Secrets
from bastion.redteam.targets._template import (
    authorization,
    check_header_value,
    expand_env,
    fill_env,
)
from bastion.redteam.targets._tls import tls_verify
from bastion.redteam.targets._wire import (
    parse_response,
    request_body,
    request_failed,
    send_bounded,
    tool_function,
)


class OpenAITarget(Target):
    """Any OpenAI-compatible chat-completions endpoint.

    Args:
        base_url: the API root, ending in ``/v1``.
        model: the model name sent in requests.
        api_key_env: environment variable holding the API key (the key never enters logs).
        system_prompt: the application's system prompt, sent first.
        plant_canary: append a confidential canary to the system prompt so extraction
            attempts can be detected.
        tools: tool names offered to the model (for agency probes), or full tool dicts.
        temperature: sampling temperature (0 for reproducible runs).
        max_tokens: completion limit.
        extra_body: more fields merged into every request body (``{"top_p": 0.9,
            "metadata": {...}}``, server-specific switches); they cannot replace
            ``messages`` or ``model``; ``${ENV}`` in a text field is filled from the
            environment and never logged.
        headers: more request headers; ``${ENV}`` references are expanded.
        timeout: seconds one request may take in all (connecting, waiting and reading: an
            answer still arriving then is cut off); a timeout is retryable.
        verify: check the endpoint's TLS certificate: true (public roots), the path of a CA
            bundle (PEM) for an internal CA or a self-signed certificate, or false (no check;
            a warning, and the report says so).
        transport: an httpx transport (tests use ``httpx.MockTransport``).
    """

    name = "openai"
    description = "An OpenAI-compatible chat-completions endpoint (system prompt, tools)."
    key_required = False

    def __init__(self, base_url: str, model: str = "default", api_key_env: str | None = None,
                 system_prompt: str | None = None, plant_canary: bool = True,
                 tools: Sequence[str | dict[str, Any]] = (), temperature: float = 0.0,
                 max_tokens: int = 512, extra_body: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 60.0,
                 verify: bool | str = True,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"target option 'base_url' {public_url(base_url)!r} must start "
                              "with http:// or https://")
        clash = sorted({"messages", "model"} & set(extra_body or {}))
        if clash:
            raise ConfigError(f"target option 'extra_body' may not set {clash}; the campaign "
                              "sends them")
        if (extra_body or {}).get("stream"):  # every answer came as SSE: 'not JSON'
            raise ConfigError("target option 'extra_body' sets 'stream': true, but this target "
                              "reads whole answers; take 'stream' out (a streamed answer is "
                              "judged the same once whole)")
        self.base_url = base_url.rstrip("/")
        self.model = model
        filled = {k: fill_env(v, f"field {k!r} of target option 'extra_body'")
                  for k, v in (extra_body or {}).items() if isinstance(v, str)}
        self.extra_body = {**(extra_body or {}), **{k: v for k, (v, _) in filled.items()}}
        self._extra_keys = tuple(key for _, keys in filled.values() for key in keys)
        given = {k: expand_env(v, f"header {k!r} of target option 'headers'")
                 for k, v in (headers or {}).items()}
        check_userinfo(base_url, "target option 'base_url'", authorization(given) or (
            f"the API key of option api_key_env {api_key_env!r}" if api_key_env else None))
        if api_key_env and authorization(given):  # the key replaced the header, silently
            raise ConfigError(f"{authorization(given)} and option api_key_env {api_key_env!r} "
                              "each give an Authorization header, and only one can be sent; "
                              "keep one (the gateway target reads api_key_env, default "
                              "'BASTION_API_KEY': drop the header)")
        self._headers = {**given, **self._auth(api_key_env)}
        self._system, token = (system_prompt, "") if system_prompt is None or not plant_canary \
            else planted(system_prompt)
        self._secrets = Secrets(canaries=(token,) if token else (), system_prompt=self._system)
        self.tools = [tool_function(t) if isinstance(t, str) else dict(t) for t in tools]
        self.temperature, self.max_tokens, self.timeout = temperature, max_tokens, timeout
        self._transport = transport
        self._verify = tls_verify(verify, public_url(self.base_url), "target option 'verify'")
        self._client: httpx.AsyncClient | None = None

    def _auth(self, api_key_env: str | None) -> dict[str, str]:
        if not api_key_env:
            if self.key_required:
                raise ConfigError(f"target {self.name!r} needs api_key_env: the name of an "
                                  "environment variable holding the API key")
            return {}
        key = os.environ.get(api_key_env)
        if not key:
            raise ConfigError(f"environment variable {api_key_env!r} (target API key) is not "
                              "set")
        check_header_value(key, f"environment variable {api_key_env!r} (target API key)")
        return {"Authorization": f"Bearer {key}"}

    @property
    def secrets(self) -> Secrets:
        """The planted canary and the full system prompt."""
        return self._secrets

    @property
    def credentials(self) -> tuple[str, ...]:
        """The API key, secret header and ``extra_body`` values and keys in the base URL
        (never recorded)."""
        extra = {k: v for k, v in self.extra_body.items() if isinstance(v, str)}
        return (*credentials({**self._headers, **extra}, self.base_url), *self._extra_keys)

    async def send(self, messages: Sequence[Message]) -> Reply:
        """POST the conversation to ``/chat/completions``."""
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.base_url, headers=self._headers,
                                             timeout=self.timeout, verify=self._verify,
                                             transport=self._transport)
        convo = ([Message("system", self._system)] if self._system else []) + list(messages)
        body = {**request_body(self.model, convo, temperature=self.temperature,
                               max_tokens=self.max_tokens, tools=self.tools), **self.extra_body}
        shown = public_url(self.base_url)
        try:
            response = await send_bounded(
                self._client, self._client.build_request("POST", "/chat/completions", json=body),
                deadline=self.timeout)
        except httpx.HTTPError as exc:
            raise request_failed(exc, shown, self.timeout, f"cannot reach target {shown}"
                                 ) from exc
        return parse_response(response)

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class GatewayTarget(OpenAITarget):
    """The Bastion gateway in front of a model: OpenAI-compatible, with an API key.

    Guardrail blocks come back as ``Reply(blocked=True)`` and score as refusals.
    Takes the same options as :class:`OpenAITarget`; ``api_key_env`` defaults to
    ``BASTION_API_KEY`` and ``base_url`` to ``http://127.0.0.1:8080/v1``.
    """

    name = "gateway"
    description = "The Bastion gateway (OpenAI-compatible, API key required)."
    key_required = True

    def __init__(self, base_url: str = "http://127.0.0.1:8080/v1",
                 api_key_env: str | None = "BASTION_API_KEY", **options: Any) -> None:
        super().__init__(base_url, api_key_env=api_key_env, **options)
