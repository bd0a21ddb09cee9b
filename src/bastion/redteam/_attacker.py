"""A minimal OpenAI-compatible chat client for the attacker (and judge) model.

Used by attacker-driven strategies (PAIR, crescendo), model-based converters (translation,
paraphrase) and the LLM judge. Configure it with a base URL ending in ``/v1``, a model name
and optionally the name of an environment variable holding the API key (never the key itself,
so it stays out of logs and reports).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import httpx

from bastion.errors import ConfigError
from bastion.redteam._config import check_userinfo, public_url
from bastion.redteam._errors import AttackerError
from bastion.redteam._types import Message
from bastion.redteam.targets._template import check_header_value
from bastion.redteam.targets._wire import send_bounded


class Attacker:
    """Chat completions against an OpenAI-compatible server.

    Lifetime: one per campaign; ``aclose`` releases the connection pool. Concurrency: safe to
    share between tasks. Failure: HTTP errors, timeouts and empty answers raise
    :class:`~bastion.redteam.AttackerError`.

    Args:
        base_url: e.g. ``http://127.0.0.1:8000/v1``.
        model: the model name sent in requests.
        api_key_env: environment variable holding the API key, if the server needs one.
        temperature: sampling temperature (attackers benefit from some diversity).
        timeout: seconds per request.
    """

    def __init__(self, base_url: str, model: str = "attacker", api_key_env: str | None = None,
                 temperature: float = 0.7, timeout: float = 60.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"attacker or judge base_url {public_url(base_url)!r} must start "
                              "with http(s)://")
        check_userinfo(base_url, "attacker or judge base_url",
                       f"the API key of {api_key_env!r}" if api_key_env else None)
        headers = {}
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise ConfigError(f"environment variable {api_key_env!r} (attacker API key) "
                                  "is not set")
            check_header_value(key, f"environment variable {api_key_env!r} (attacker API "
                                    "key)")
            headers["Authorization"] = f"Bearer {key}"
        self.model = model
        self.temperature = temperature
        self._base = base_url.rstrip("/")
        self._shown = public_url(self._base)  # for messages, which reach logs and reports
        self._client = httpx.AsyncClient(base_url=self._base, headers=headers,
                                         timeout=timeout, transport=transport)

    async def complete(self, messages: Sequence[Message]) -> str:
        """The model's reply to ``messages``."""
        body: dict[str, Any] = {"model": self.model, "temperature": self.temperature,
                                "messages": [{"role": m.role, "content": m.content}
                                             for m in messages]}
        try:
            response = await send_bounded(  # an answer is read up to 8 MiB, never whole
                self._client, self._client.build_request("POST", "/chat/completions", json=body),
                sender=f"attacker or judge model {self._shown}", error=AttackerError)
            if response.status_code >= 400:  # httpx's own message shows the URL's password
                raise AttackerError(f"attacker model {self._shown} answered HTTP "
                                    f"{response.status_code}")
            text = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise AttackerError(f"attacker model request to {self._shown} failed: "
                                f"{str(exc).replace(self._base, self._shown)}") from exc
        if not isinstance(text, str) or not text.strip():
            raise AttackerError("attacker model returned an empty answer")
        return text

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
