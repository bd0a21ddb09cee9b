"""Signed webhooks: each new or updated incident is POSTed as JSON to a receiver.

Signing (what a receiver checks):

* ``X-Bastion-Timestamp``: the send time, integer epoch seconds;
* ``X-Bastion-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed by the shared secret, of the
  timestamp, a ``.``, and the raw request body: ``f"{timestamp}.{body}"``.

A receiver recomputes the HMAC over the bytes it received, compares in constant time, and
refuses timestamps older than a few minutes (replays). :func:`verify_signature` does all three.
Delivery is retried on connection errors, timeouts, 429 and 5xx, with exponential back-off;
other 4xx answers are not retried (the receiver refused the message itself).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bastion.errors import ConfigError

logger = logging.getLogger("bastion.monitor.webhook")

SIGNATURE_HEADER = "X-Bastion-Signature"
TIMESTAMP_HEADER = "X-Bastion-Timestamp"
SECRET_ENV = "BASTION_WEBHOOK_SECRET"  # noqa: S105 - a variable name, not a secret
MIN_SECRET_CHARS = 16


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Bastion-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes, *,
                     tolerance_s: float = 300.0, now: float | None = None) -> bool:
    """True when ``headers`` carry a valid, fresh signature of ``body`` under ``secret``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp, signature = lowered.get(TIMESTAMP_HEADER.lower()), lowered.get(SIGNATURE_HEADER.lower())
    if not stamp or not signature or not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, int(stamp), body), signature)


@dataclass(frozen=True)
class Delivery:
    """The outcome of one message: delivered or not, after how many attempts, last status."""

    delivered: bool
    attempts: int
    status: int | None
    error: str | None = None


class Webhook:
    """Posts signed JSON messages to one URL.

    Lifetime: one per process; holds an HTTP connection pool (:meth:`close` it). Thread-safe
    (httpx's client is). Failure: never raises on delivery problems; they are logged and
    returned as a :class:`Delivery`.

    Args:
        url: the receiver.
        secret: the shared signing secret (at least 16 characters).
        attempts: tries per message.
        backoff_s: the first retry's delay; it doubles each time.
        timeout_s: per-attempt timeout.
    """

    def __init__(self, url: str, secret: str, *, attempts: int = 4, backoff_s: float = 0.5,
                 timeout_s: float = 5.0, sleep: Callable[[float], None] = time.sleep) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ConfigError(f"the webhook secret has {len(secret)} characters; use at least "
                              f"{MIN_SECRET_CHARS} random ones (e.g. 'openssl rand -hex 32')")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook URL {url!r} is not http(s); use e.g. "
                              "'https://hooks.example.org/bastion'")
        self.url, self.secret = url, secret
        self.attempts, self.backoff_s, self.sleep = attempts, backoff_s, sleep
        self.client = httpx.Client(timeout=timeout_s)

    @classmethod
    def from_env(cls, url: str, secret_env: str = SECRET_ENV, **options: Any) -> Webhook:
        """A webhook whose secret is in the environment variable ``secret_env``.

        Raises:
            ConfigError: the variable is unset or too short.
        """
        secret = os.environ.get(secret_env)
        if not secret:
            raise ConfigError(f"${secret_env} is not set: webhooks are signed; set it to a "
                              "random secret shared with the receiver")
        return cls(url, secret, **options)

    def send(self, message: Mapping[str, Any]) -> Delivery:
        """POST ``message`` as JSON, signed, retrying as the module docstring says."""
        body = json.dumps(message, sort_keys=True, separators=(",", ":")).encode("utf-8")
        delay, status, error = self.backoff_s, None, None
        for attempt in range(1, self.attempts + 1):
            stamp = int(time.time())
            headers = {"content-type": "application/json", TIMESTAMP_HEADER: str(stamp),
                       SIGNATURE_HEADER: sign(self.secret, stamp, body)}
            try:
                response = self.client.post(self.url, content=body, headers=headers)
                status, error = response.status_code, None
                if response.is_success:
                    return Delivery(True, attempt, status)
                if status != 429 and status < 500:
                    break
            except httpx.HTTPError as exc:
                status, error = None, type(exc).__name__
            if attempt < self.attempts:
                self.sleep(delay)
                delay *= 2
        logger.error("webhook %s: message %s not delivered after %d attempt(s) (%s)",
                     self.url, message.get("event"), attempt, error or f"status {status}")
        return Delivery(False, attempt, status, error)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
