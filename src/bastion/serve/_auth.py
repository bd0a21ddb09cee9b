"""Bearer API keys, stored and compared as sha256 digests.

The server never holds a key in clear: settings carry ``sha256(key).hexdigest()`` values, a
presented key is hashed and compared with every stored digest in constant time
(:func:`hmac.compare_digest`), and neither keys nor digests are logged.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Sequence

from fastapi import Request

from bastion.serve._errors import ApiError

KEY_PREFIX = "bst-"


#: RFC 6750 credentials: the scheme (any case, RFC 7235), one or more spaces (1*SP, never a
#: tab), and a b64token.
_BEARER = re.compile(r"(?i:bearer) +([A-Za-z0-9._~+/-]+=*)")
_SCHEME = re.compile(r"(?i:bearer)(?![A-Za-z0-9._~+/=-])")


class BearerError(Exception):
    """An ``Authorization`` header that holds no readable Bearer key: the HTTP status to answer
    and what is wrong (never the header itself: it may hold a key)."""

    def __init__(self, status: int, problem: str, *, missing: bool = False) -> None:
        super().__init__(problem)
        self.status = status
        self.problem = problem
        self.missing = missing  # no Bearer key at all: another scheme, or none after it


def read_bearer(headers: Sequence[str]) -> str | None:
    """The key of ``Authorization: Bearer <key>`` among a request's ``Authorization``
    headers; ``None`` when there is none; :class:`BearerError` when there are several (400:
    a proxy or log in front may read another one than we do) or the one is malformed (401).
    The gateway, the classifier server and the web app's API read keys so."""
    if len(headers) > 1:
        raise BearerError(400, f"the request has {len(headers)} Authorization headers; "
                               "send exactly one")
    header = headers[0].strip(" \t") if headers else ""  # whitespace around: not the value's
    if not header:
        return None
    found = _BEARER.fullmatch(header)
    if found is not None:
        return found.group(1)
    if not _SCHEME.match(header) or not header[len("bearer"):].strip(" \t"):
        raise BearerError(401, "the Authorization header does not hold a Bearer key",
                          missing=True)
    if header[len("bearer"):].lstrip(" ").startswith("\t"):
        problem = ("the Authorization header separates 'Bearer' from the key with a tab; "
                   "RFC 6750 allows only spaces there")
    else:
        problem = ("the Authorization header's key holds characters an API key never has "
                   "(a space or tab inside it, text after it, or a character outside "
                   "letters, digits and -._~+/=)")
    raise BearerError(401, problem)


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
        try:
            key = read_bearer(request.headers.getlist("authorization"))
        except BearerError as exc:
            code = ("invalid_request" if exc.status == 400 else
                    "missing_api_key" if exc.missing else "invalid_api_key")
            raise ApiError(exc.status, f"{exc.problem}; send 'Authorization: Bearer <key>'",
                           code=code, headers={"WWW-Authenticate": "Bearer"}) from None
        if key is None:
            raise _unauthorized("missing API key; send 'Authorization: Bearer <key>'",
                                "missing_api_key")
        if not self._matches(hash_key(key)):
            raise _unauthorized("incorrect API key", "invalid_api_key")

    def _matches(self, digest: str) -> bool:
        # Compare with every digest, without stopping early, so timing says nothing.
        found = False
        for stored in self._hashes:
            found |= hmac.compare_digest(digest, stored)
        return found
