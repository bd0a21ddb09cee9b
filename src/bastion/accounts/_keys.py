"""API keys and account identities: made once, stored and compared as digests.

Keys carry 256 bits of randomness, so one sha256 is enough to store them: a slow password
hash buys nothing against a guess space that large, and would cost every request time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal, get_args

KEY_PREFIX = "bst-"

Role = Literal["admin", "operator", "red-teamer", "user"]
"""What an account is: ``admin`` and ``operator`` run the gateway, ``red-teamer`` attacks it
inside an engagement (audited, not suspended), ``user`` calls models."""

ROLES: tuple[Role, ...] = get_args(Role)

PROXY_ROUTES = ("chat", "completions", "embeddings", "models", "moderations", "responses")
"""Scope names of the proxied routes."""

ROLE_ROUTES: dict[Role, frozenset[str]] = {
    "admin": frozenset({*PROXY_ROUTES, "metrics"}),
    "operator": frozenset({*PROXY_ROUTES, "metrics"}),
    "red-teamer": frozenset(PROXY_ROUTES),
    "user": frozenset(PROXY_ROUTES),
}
"""The routes each role may call; a key's scopes can narrow this, never widen it."""


def new_key() -> str:
    """A fresh random API key (shown once, never stored)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    """The sha256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_id(kind: Literal["acct", "key"]) -> str:
    """A random public identifier, e.g. ``acct_3f9a...``."""
    return f"{kind}_{secrets.token_hex(10)}"


def hashed_account_id(account_id: str, secret: str) -> str:
    """A stable pseudonym of an account for upstream providers (``user``/``safety_identifier``).

    HMAC-SHA256 keyed by the gateway's identity secret: stable across workers that share the
    secret, not reversible, and unrelated to any API key.
    """
    digest = hmac.new(secret.encode("utf-8"), account_id.encode("utf-8"), hashlib.sha256)
    return "bastion-" + digest.hexdigest()[:32]
