"""Signed webhooks, delivered to a real receiver on loopback, with retries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bastion.errors import ConfigError
from bastion.monitor import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Webhook,
    sign,
    verify_signature,
)
from bastion.testing import serve_app

SECRET = "s3cret-shared-with-receiver"


@dataclass
class Receiver:
    """A webhook receiver that checks signatures as the docs tell receivers to."""

    fail_first: int = 0
    status_when_failing: int = 503
    received: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> JSONResponse:
            self.calls += 1
            body = await request.body()
            if self.calls <= self.fail_first:
                return JSONResponse({"error": "busy"}, status_code=self.status_when_failing)
            if not verify_signature(SECRET, dict(request.headers), body):
                return JSONResponse({"error": "bad signature"}, status_code=401)
            self.received.append(json.loads(body))
            return JSONResponse({"ok": True})

        return app


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    found = Receiver()
    with serve_app(found.app()) as url:
        yield found, url.removesuffix("/v1") + "/hook"


def test_a_signed_message_is_accepted(receiver: tuple[Receiver, str]) -> None:
    found, url = receiver
    hook = Webhook(url, SECRET, sleep=lambda _: None)
    delivery = hook.send({"event": "incident.opened", "incident": {"id": "inc_1"}})
    hook.close()
    assert (delivery.delivered, delivery.attempts, delivery.status) == (True, 1, 200)
    assert found.received == [{"event": "incident.opened", "incident": {"id": "inc_1"}}]


def test_a_wrong_secret_is_refused_and_not_retried(receiver: tuple[Receiver, str]) -> None:
    found, url = receiver
    hook = Webhook(url, "another-secret-of-16+chars", sleep=lambda _: None)
    delivery = hook.send({"event": "incident.opened"})
    hook.close()
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 1, 401)
    assert found.received == []


def test_busy_receivers_get_retries_with_back_off(receiver: tuple[Receiver, str]) -> None:
    found, url = receiver
    found.fail_first = 2
    waits: list[float] = []
    hook = Webhook(url, SECRET, backoff_s=0.25, sleep=waits.append)
    delivery = hook.send({"event": "incident.updated"})
    hook.close()
    assert (delivery.delivered, delivery.attempts) == (True, 3)
    assert waits == [0.25, 0.5]
    assert len(found.received) == 1


def test_an_unreachable_receiver_is_reported_not_raised() -> None:
    hook = Webhook("http://127.0.0.1:9/hook", SECRET, attempts=2, sleep=lambda _: None)
    delivery = hook.send({"event": "incident.opened"})
    hook.close()
    assert (delivery.delivered, delivery.attempts, delivery.error) == (False, 2, "ConnectError")


def test_signatures_bind_body_and_time() -> None:
    body = b'{"a":1}'
    headers = {TIMESTAMP_HEADER: "1000", SIGNATURE_HEADER: sign(SECRET, 1000, body)}
    assert verify_signature(SECRET, headers, body, now=1100)
    assert not verify_signature(SECRET, headers, b'{"a":2}', now=1100)  # body changed
    assert not verify_signature(SECRET, headers, body, now=2000)  # too old: a replay
    forged = {**headers, TIMESTAMP_HEADER: "1900"}
    assert not verify_signature(SECRET, forged, body, now=2000)  # time changed


def test_short_secrets_and_odd_urls_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least 16"):
        Webhook("https://x.example/hook", "short")
    with pytest.raises(ConfigError, match="not http"):
        Webhook("ftp://x.example/hook", SECRET)
