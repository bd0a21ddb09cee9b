"""Server settings: one typed model, built from CLI flags and the environment."""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.errors import ConfigError

API_KEY_HASHES_ENV = "BASTION_API_KEY_HASHES"
"""Comma-separated sha256 hex digests of the accepted API keys."""

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class Settings(BaseModel):
    """Everything :func:`~bastion.serve.create_app` needs; unknown keys are rejected.

    Attributes:
        policy: the default policy: a built-in id or a path to a policy file. Requests that
            name no policy use it; over HTTP, only built-in ids (and this policy's id) can be
            named.
        tier: classifier tier registry name (``default``, ``rules``, ``fixed`` ...).
        tier_options: constructor options of the tier.
        max_body_bytes: largest request body accepted; larger ones get 413.
        max_texts: most texts in one request.
        max_text_chars: longest text accepted, in characters.
        max_policy_chars: longest inline ``policy_text`` accepted, in characters.
        allow_inline_policies: accept ``policy_text`` in ``/v1/classify``. Inline policies run
            caller-written regular expressions in this process, so switch this off where
            callers are not trusted with that.
        api_key_hashes: sha256 hex digests of the accepted bearer keys (never the keys).
        insecure_no_auth: accept requests without a key, from loopback clients only. Refused
            unless set explicitly when ``api_key_hashes`` is empty.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str = "default"
    tier: str = "default"
    tier_options: dict[str, Any] = Field(default_factory=dict)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_texts: int = Field(default=256, gt=0)
    max_text_chars: int = Field(default=100_000, gt=0)
    max_policy_chars: int = Field(default=64 * 1024, gt=0)
    allow_inline_policies: bool = True
    api_key_hashes: frozenset[str] = frozenset()
    insecure_no_auth: bool = False

    @field_validator("api_key_hashes", mode="before")
    @classmethod
    def _normalise_hashes(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple | set | frozenset):
            value = frozenset(str(item).strip().lower() for item in value if str(item).strip())
        return value

    @field_validator("api_key_hashes")
    @classmethod
    def _hashes_are_sha256(cls, value: frozenset[str]) -> frozenset[str]:
        for item in value:
            if not _SHA256_HEX.match(item):
                raise ValueError(
                    "an API key hash is not 64 hex characters; store sha256(key).hexdigest(), "
                    "not the key (run 'bastion serve --new-key' to make a key and its hash)"
                )
        return value


def settings_from(env: dict[str, str] | None = None, **values: Any) -> Settings:
    """Build :class:`Settings` from keyword values plus ``BASTION_API_KEY_HASHES``.

    Keys from the environment are added to any passed in ``api_key_hashes``.

    Raises:
        ConfigError: a value is invalid; the message names it.
    """
    env = dict(os.environ) if env is None else env
    hashes = set(values.pop("api_key_hashes", ()))
    hashes.update(h for h in env.get(API_KEY_HASHES_ENV, "").split(",") if h.strip())
    try:
        return Settings(api_key_hashes=frozenset(hashes), **values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"invalid server setting {where!r}: {first['msg'].removeprefix('Value error, ')}"
        ) from exc
