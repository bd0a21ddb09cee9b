"""Access control and audit as an outside tester probes them: header tricks, and a record
of every refusal (a fifth black-box pass)."""

from __future__ import annotations

import pytest

from .conftest import Running

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

CHAT = {"model": "scripted-upstream", "messages": [{"role": "user", "content": "hi"}]}


def test_two_authorization_headers_are_refused_whichever_comes_first(gw: Running) -> None:
    """Found in a fifth black-box pass: with two Authorization headers the gateway read the
    first, so a good key followed by another was served; a proxy or log in front that reads
    the last one would see another caller than the one the gateway admitted."""
    key = gw.key("twice")
    for pair in ([key, "bst-other"], ["bst-other", key], [key, key]):
        headers = [("authorization", f"Bearer {k}") for k in pair]
        with gw.client() as client:
            answer = client.post("/chat/completions", json=CHAT, headers=headers)
        assert answer.status_code == 400, pair
        assert "2 Authorization headers" in answer.json()["error"]["message"]
    with gw.client(key) as client:
        assert client.post("/chat/completions", json=CHAT).status_code == 200


def test_a_request_refused_for_its_headers_is_audited(gw: Running) -> None:
    """Found in a fifth black-box pass: a 431 for oversized headers was answered before any
    route ran, so it left no audit event (every other refusal leaves one)."""
    key = gw.key("padded")
    with gw.client(key) as client:
        refused = client.post("/chat/completions", json=CHAT,
                              headers={"x-pad": "a" * 40_000})
    assert refused.status_code == 431
    gw.wait_audit(1)
    event = next(e for e in gw.audit.events() if e["type"] == "gateway.request")
    assert (event["route"], event["status"], event["outcome"], event["reason"]) == (
        "chat", 431, "refused", "headers_too_large")
    assert event["request_id"] == refused.headers["x-bastion-request-id"]
    assert key not in str(event)
    assert "aaaa" not in str(event)
