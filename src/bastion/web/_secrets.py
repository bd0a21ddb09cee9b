"""Password hashing (argon2id), random tokens and their digests, TOTP codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bastion.accounts import key_digest
from bastion.errors import InputError

MIN_PASSWORD = 12
MIN_DISTINCT = 5
MIN_NAME_IN_PASSWORD = 3
"""Shorter user names turn up inside ordinary words by chance, so they are not checked."""
MAX_PASSWORD = 1024  # argon2 hashes any length; a cap stops megabyte "passwords" costing CPU

_HASHER = PasswordHasher()  # argon2id with the library's current (RFC 9106 low-memory) defaults
# A hash of nothing anyone knows: verified against when the user does not exist, so a login
# for an unknown name costs the same time as one with a wrong password.
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))


def check_password_rules(password: str, username: str | None = None) -> None:
    """Refuse a password that is too short or too long, made of a handful of characters
    repeated (``aaaaaaaaaaaa``, ``121212121212``: long enough, guessed first), or holding
    the user's own name (the first thing an attacker who knows it tries).

    Raises:
        InputError: says which rule failed and how to fix it.
    """
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password is {len(password)} characters long; use at least "
                         f"{MIN_PASSWORD} (a passphrase of several words is easiest)")
    if len(password) > MAX_PASSWORD:
        raise InputError(f"password is longer than {MAX_PASSWORD} characters; use a shorter one")
    if len(set(password)) < MIN_DISTINCT:
        raise InputError(f"password uses only {len(set(password))} different characters; use "
                         f"at least {MIN_DISTINCT} (a passphrase of several words is easiest)")
    if (username and len(username) >= MIN_NAME_IN_PASSWORD
            and username.casefold() in password.casefold()):
        raise InputError("password contains your username; choose one that does not")


def hash_password(password: str, username: str | None = None) -> str:
    """The argon2id hash of ``password`` (after :func:`check_password_rules`)."""
    check_password_rules(password, username)
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored`` (``None``: no password set; costs the same)."""
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


digest = key_digest
"""The sha256 hex digest under which a token is stored (the same one API keys use)."""


def derived(token: str, purpose: str) -> str:
    """A value bound to ``token`` for one ``purpose`` (e.g. the CSRF token of a session)."""
    return hmac.new(token.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def totp_uri(secret: str, username: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def totp_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step (30-second counter) whose code ``code`` is, or ``None`` when it is none
    of the current step's, the one before or the one after (clocks drift).

    A login records the step it accepted, so a code seen once cannot be replayed while it
    is still valid (RFC 6238, section 5.2).
    """
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(time.time() if at is None else at)
    for step in (now + 1, now, now - 1):  # the latest match, so a replay never scores lower
        if pyotp.utils.strings_equal(code, totp.generate_otp(step)):
            return step
    return None
