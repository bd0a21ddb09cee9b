"""Notifications: a small contract, and signed webhooks.

A webhook POSTs JSON ``{"event": ..., "at": ..., "data": {...}}``. The receiver checks two
headers: ``X-Bastion-Timestamp`` (Unix seconds) and ``X-Bastion-Signature``
(``sha256=`` + hex HMAC-SHA256 under the shared secret of ``timestamp + "." + body``), and
refuses a timestamp older than a few minutes, so a captured request cannot be replayed later.
:func:`verify_signature` is the receiver's side, for Python receivers and the tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from bastion.errors import ConfigError

logger = logging.getLogger("bastion.findings.notify")

TIMESTAMP_HEADER = "X-Bastion-Timestamp"
SIGNATURE_HEADER = "X-Bastion-Signature"
WEBHOOK_URL_ENV = "BASTION_FINDINGS_WEBHOOK"
WEBHOOK_SECRET_ENV = "BASTION_FINDINGS_WEBHOOK_SECRET"  # noqa: S105 - a variable name


class Notifier(Protocol):
    """Where finding events go (submitted, transition, comment, mention).

    Lifetime: one per store. Concurrency: called from request handlers; must be thread-safe.
    Failure: must not raise: a notification that cannot be delivered is logged, never allowed
    to undo the triage action that caused it.
    """

    def notify(self, event: str, data: Mapping[str, Any]) -> None:
        """Deliver one event."""


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: bytes, timestamp: str, body: bytes, signature: str, *,
                     tolerance_s: float = 300.0, now: float | None = None) -> bool:
    """Whether a received webhook is authentic and fresh."""
    try:
        age = abs((now if now is not None else time.time()) - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookNotifier:
    """POSTs signed events to one URL.

    Args:
        url: the receiver (http or https).
        secret: the shared HMAC key (at least 16 bytes); never logged.
        timeout: seconds per delivery.
    """

    def __init__(self, url: str, secret: bytes, *, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook URL {url!r} must start with http:// or https://")
        if len(secret) < 16:
            raise ConfigError("the webhook secret must be at least 16 bytes; generate one with "
                              "'python -c \"import secrets; print(secrets.token_hex(32))\"'")
        self.url = url
        self._secret = secret
        self._client = httpx.Client(timeout=timeout, transport=transport)
        self.failures = 0

    def notify(self, event: str, data: Mapping[str, Any]) -> None:
        """Sign and POST one event; failures are logged and counted, never raised."""
        body = json.dumps({"event": event, "at": time.time(), "data": dict(data)},
                          sort_keys=True, default=str).encode()
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
                   SIGNATURE_HEADER: sign(self._secret, stamp, body)}
        try:
            response = self._client.post(self.url, content=body, headers=headers)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            self.failures += 1
            logger.warning("webhook to %s for event %r failed: %s", _origin(self.url), event,
                           type(exc).__name__)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


def _origin(url: str) -> str:
    """Where a webhook goes, for logs: scheme, host and port only. Receivers such as Slack's
    carry their secret in the path (``/services/T../B../<token>``), others in the query or
    as ``user:password@``, so the full URL never reaches a log."""
    parts = urlsplit(url)
    host = (parts.netloc.rpartition("@")[2]) or "?"
    return f"{parts.scheme}://{host}/..."
