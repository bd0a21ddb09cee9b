"""Signed webhooks, checked by a real receiver on loopback."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from bastion.errors import ConfigError
from bastion.findings import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    FindingStore,
    WebhookNotifier,
    sign,
    verify_signature,
)
from bastion.testing import serve_app

from .conftest import Clock, submission

SECRET = b"s" * 32


def _receiver(received: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.body()
        ok = verify_signature(SECRET, request.headers.get(TIMESTAMP_HEADER, ""), body,
                              request.headers.get(SIGNATURE_HEADER, ""))
        received.append({"ok": ok, **json.loads(body)})
        return Response(status_code=204 if ok else 401)

    return app


def test_events_arrive_signed_at_a_real_receiver(sessions, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    received: list[dict[str, Any]] = []
    with serve_app(_receiver(received)) as base:
        notifier = WebhookNotifier(base.removesuffix("/v1") + "/hook", SECRET)
        store = FindingStore(sessions, notifier=notifier, clock=clock)
        item = store.submit(submission(), "alice")
        store.transition(item.id, "triaging", actor="tess", reason="look")
        store.comment(item.id, "tess", "@bob please reproduce")
        notifier.close()
    assert all(r["ok"] for r in received)
    assert [r["event"] for r in received] == ["finding.submitted", "finding.transition",
                                              "finding.comment", "finding.mention"]
    assert received[1]["data"]["state"] == "triaging"
    assert received[1]["data"]["reason"] == "look"
    assert received[3]["data"]["member"] == "bob"
    assert notifier.failures == 0


def test_a_wrong_secret_is_rejected_and_delivery_failure_does_not_undo_triage(
        sessions, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    received: list[dict[str, Any]] = []
    with serve_app(_receiver(received)) as base:
        notifier = WebhookNotifier(base.removesuffix("/v1") + "/hook", b"w" * 32)
        store = FindingStore(sessions, notifier=notifier, clock=clock)
        item = store.submit(submission(), "alice")
        notifier.close()
    assert received[0]["ok"] is False  # the receiver refused the forged signature (401)
    assert notifier.failures == 1
    assert store.get(item.id).state == "new"  # the finding was stored regardless


def test_a_failed_delivery_logs_where_it_went_but_not_the_urls_secret(
        caplog: pytest.LogCaptureFixture) -> None:
    """Slack-style receivers carry their secret in the path, others in the query or as
    user:password; a failure log names the host only."""
    url = "https://hooks:pw-secret@hooks.example/services/T1/B2/path-secret?token=q-secret"
    refuse = httpx.MockTransport(lambda request: httpx.Response(500))
    notifier = WebhookNotifier(url, SECRET, transport=refuse)
    with caplog.at_level("WARNING"):
        notifier.notify("finding.submitted", {"id": 1})
    notifier.close()
    assert notifier.failures == 1
    assert "webhook to https://hooks.example/... for event 'finding.submitted' failed" in (
        caplog.text)
    assert "secret" not in caplog.text


def test_signature_checks_time_and_body() -> None:
    body = b'{"event":"x"}'
    stamp = str(int(time.time()))
    good = sign(SECRET, stamp, body)
    assert verify_signature(SECRET, stamp, body, good)
    assert not verify_signature(SECRET, stamp, body + b" ", good)
    assert not verify_signature(SECRET, str(int(time.time()) - 3600), body,
                                sign(SECRET, str(int(time.time()) - 3600), body))
    assert not verify_signature(SECRET, "soon", body, good)


def test_webhook_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        WebhookNotifier("https://example.invalid/hook", b"short")
    with pytest.raises(ConfigError, match="must start with http"):
        WebhookNotifier("ftp://example.invalid", SECRET)
