"""Bearer API keys, stored and compared as sha256 digests.

The server never holds a key in clear: settings carry ``sha256(key).hexdigest()`` values, a
presented key is hashed and compared with every stored digest in constant time
(:func:`hmac.compare_digest`), and neither keys nor digests are logged.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from fastapi import Request

from bastion.serve._errors import ApiError

KEY_PREFIX = "bst-"


def hash_key(key: str) -> str:
    """The sha256 hex digest under which a key is configured."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random API key (256 bits of entropy)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _unauthorized(message: str, code: str) -> ApiError:
    return ApiError(401, message, code=code, headers={"WWW-Authenticate": "Bearer"})


class KeyCheck:
    """A FastAPI dependency that admits requests carrying a configured bearer key.

    Args:
        key_hashes: sha256 hex digests of the accepted keys.
        insecure_no_auth: admit every request from a loopback client without a key.
    """

    def __init__(self, key_hashes: frozenset[str], *, insecure_no_auth: bool = False) -> None:
        self._hashes = tuple(sorted(key_hashes))
        self._open = insecure_no_auth

    def __call__(self, request: Request) -> None:
        """Raise a 401 :class:`ApiError` unless the request may proceed."""
        if self._open:
            if request.client is None or not is_loopback(request.client.host):
                raise _unauthorized("this server runs without authentication and only "
                                    "answers loopback clients", "loopback_only")
            return
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise _unauthorized("missing API key; send 'Authorization: Bearer <key>'",
                                "missing_api_key")
        if not self._matches(hash_key(key.strip())):
            raise _unauthorized("incorrect API key", "invalid_api_key")

    def _matches(self, digest: str) -> bool:
        # Compare with every digest, without stopping early, so timing says nothing.
        found = False
        for stored in self._hashes:
            found |= hmac.compare_digest(digest, stored)
        return found
