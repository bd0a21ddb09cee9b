"""A minimal OpenAI-compatible chat client for the attacker (and judge) model.

Used by attacker-driven strategies (PAIR, crescendo), model-based converters (translation,
paraphrase) and the LLM judge. Configure it with a base URL ending in ``/v1``, a model name
and optionally the name of an environment variable holding the API key (never the key itself,
so it stays out of logs and reports).

A model served inside a company often has a certificate from an internal CA, and a judge that
trickles its answer must not hold a campaign past its timeout: ``verify`` and ``timeout``
work as the targets' options of those names (:mod:`bastion.redteam.targets._tls`,
:func:`~bastion.redteam.targets._wire.send_bounded`), set in a campaign file as
``attacker_verify`` / ``judge_verify`` and ``attacker_timeout`` / ``judge_timeout``.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Sequence
from typing import Any

import httpx

from bastion.errors import ConfigError
from bastion.redteam._config import check_userinfo, public_url
from bastion.redteam._errors import AttackerError
from bastion.redteam._types import Message
from bastion.redteam.targets._template import check_header_value
from bastion.redteam.targets._tls import tls_verify, untrusted
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
        timeout: seconds one request may take in all (connecting, waiting and reading: an
            answer still arriving then is cut off).
        verify: check the model server's TLS certificate: true (public roots), the path of a
            CA bundle (PEM), or false (no check; a warning, and the report says so). A bad
            path is a ConfigError here, before any request.
        role: ``attacker`` or ``judge``: the campaign settings messages name
            (``judge_verify``, ``judge_timeout``).
    """

    def __init__(self, base_url: str, model: str = "attacker", api_key_env: str | None = None,
                 temperature: float = 0.7, timeout: float = 60.0, verify: bool | str = True,
                 role: str = "attacker",
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
        self.temperature, self.timeout, self.role = temperature, timeout, role
        self._base = base_url.rstrip("/")
        self._shown = public_url(self._base)  # for messages, which reach logs and reports
        tls = _tls(verify, self._shown, role)
        self._client = httpx.AsyncClient(base_url=self._base, headers=headers, verify=tls,
                                         timeout=timeout, transport=transport)

    async def complete(self, messages: Sequence[Message]) -> str:
        """The model's reply to ``messages``."""
        body: dict[str, Any] = {"model": self.model, "temperature": self.temperature,
                                "messages": [{"role": m.role, "content": m.content}
                                             for m in messages]}
        try:
            response = await send_bounded(  # an answer is read up to 8 MiB, never whole
                self._client, self._client.build_request("POST", "/chat/completions", json=body),
                sender=f"{self.role} model {self._shown}", error=AttackerError,
                deadline=self.timeout)
            if response.status_code >= 400:  # httpx's own message shows the URL's password
                raise AttackerError(f"{self.role} model {self._shown} answered HTTP "
                                    f"{response.status_code}; check the campaign's "
                                    f"{self.role}_url, its model name and its key")
            text = response.json()["choices"][0]["message"]["content"]
        except httpx.TimeoutException as exc:
            raise AttackerError(self._late()) from exc
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise AttackerError(self._failed(exc)) from exc
        if not isinstance(text, str) or not text.strip():
            raise AttackerError(f"{self.role} model {self._shown} returned an empty answer")
        return text

    def _failed(self, error: Exception) -> str:
        """Why a request got no usable answer: a refused certificate (with the setting that
        trusts its CA), or httpx's or the parser's words, the URL's password redacted."""
        refused = (untrusted(self._shown, error, f"{self.role}_verify: ")
                   if isinstance(error, httpx.HTTPError) else None)
        if refused:
            return refused
        return (f"{self.role} model request to {self._shown} failed: "
                f"{str(error).replace(self._base, self._shown)}")

    def _late(self) -> str:
        """A request past its deadline, in words: the setting that bounds it and its fix."""
        return (f"{self.role} model {self._shown} did not finish its answer within "
                f"{self.timeout:g} s (setting '{self.role}_timeout' bounds the whole request: "
                "connecting, waiting and reading; a server that sends its answer slowly is cut "
                f"off there); a slow model needs a larger one (--{self.role}-timeout 300, or "
                f"'{self.role}_timeout: 300' in the campaign file)")

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def _tls(verify: bool | str, shown: str, role: str) -> ssl.SSLContext | bool:
    """httpx's ``verify=`` for setting ``<role>_verify``, or a ConfigError naming it (its
    fix said as the setting, not as a target's ``-T verify=``, which would not reach this
    model)."""
    return tls_verify(verify, shown, f"{role} setting '{role}_verify'", f"{role}_verify: ")
