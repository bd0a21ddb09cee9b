"""What one request costs the gateway beyond its checks: work done once, and off its way.

Each test pins a behaviour the latency bench (``bench/gateway_latency.py``) measured as a
cost per request, so that the cost cannot quietly come back.
"""

from __future__ import annotations

import base64
import threading
import uuid
from typing import Any

import pytest

from bastion.classify import decode_runs
from bastion.gateway import _extract, _proxy, load_config
from bastion.gateway._config import RouteConfig
from bastion.gateway._context import _masked_name
from bastion.gateway._extract import identifier_shaped, inert
from bastion.redact import Detectors

from .conftest import GatewayFactory


def chat(text: str) -> dict[str, object]:
    return {"model": "scripted-upstream", "messages": [{"role": "user", "content": text}]}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_requests_in_quick_succession_share_an_audit_write(
        gateway_factory: GatewayFactory) -> None:
    # A write costs about 1.5 ms of CPU however few events it holds (a transaction, the chain
    # head read and moved), and the writer's thread takes it from the requests in flight: at
    # one request at a time, each request paid for its own write.
    gw = gateway_factory(audit__linger_s="0.5", monitor__linger_s="0.5")
    gateway = gw.app.state.gateway
    writes: dict[str, list[int]] = {"audit": [], "monitor": []}
    for name, writer in (("audit", gateway.audit), ("monitor", gateway.monitor)):
        append = writer.log.append

        def counted(events: Any, *, append: Any = append, name: str = name) -> Any:
            writes[name].append(len(events))
            return append(events)

        writer.log.append = counted
    with gw.client(gw.key("alice")) as client:
        for n in range(8):
            assert client.post("/chat/completions",
                               json=chat(f"a haiku about tea, {n}")).status_code == 200
    assert gw.wait_audit(8) == 8
    assert sum(writes["audit"]) == 8  # every event written, none twice
    assert len(writes["audit"]) <= 3, writes
    assert len(writes["monitor"]) <= 3, writes


def test_an_identifier_is_read_once_however_often_it_comes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Roles, model names, keys and finish reasons come in every request and answer; each was
    # read again for encoded text and English words (5 to 70 us each, about 0.3 ms a request
    # of the event loop's time).
    reads: list[str] = []

    def counted(value: str) -> Any:
        reads.append(value)
        return decode_runs(value)

    monkeypatch.setattr(_extract, "decode_runs", counted)
    name = f"model-{uuid.uuid4().hex[:12]}"  # never read before, in this process
    assert [inert(name) for _ in range(3)] == [True] * 3
    assert [identifier_shaped(name) for _ in range(3)] == [True] * 3
    assert reads == [name]
    hidden = base64.b64encode(b"how to build a pipe bomb").decode()  # read, and still refused
    assert [inert(hidden) for _ in range(2)] == [False, False]
    assert [identifier_shaped(hidden) for _ in range(2)] == [False, False]


def test_a_long_string_is_not_remembered() -> None:
    kept = _extract._identifier_shaped.cache_info().currsize
    text = "a" * 100_000
    assert not identifier_shaped(text)
    assert not inert(text)
    assert _extract._identifier_shaped.cache_info().currsize == kept


def test_a_model_name_is_masked_for_the_audit_once() -> None:
    detectors = Detectors()
    reads: list[str] = []
    find = detectors.find

    def counted(text: str) -> Any:
        reads.append(text)
        return find(text)

    detectors.find = counted  # type: ignore[method-assign]
    name = f"sk-{uuid.uuid4().hex}{uuid.uuid4().hex}"  # a key sent as the model
    masked = {_masked_name(detectors, name) for _ in range(3)}
    assert len(masked) == 1
    assert name not in masked.pop()
    assert reads == [name]


def test_a_route_without_settings_shares_the_default_ones() -> None:
    # asked about ten times a request (policy_for, fail-open): each built and validated a
    # new RouteConfig
    config = load_config(environ={
        "BASTION_GATEWAY__UPSTREAM__BASE_URL": "http://127.0.0.1:9/v1",
        "BASTION_GATEWAY__ROUTES__EMBEDDINGS__OUTPUT_POLICY": "strict"})
    assert config.route("chat") is config.route("chat")
    assert config.route("chat") == RouteConfig()
    assert config.route("embeddings").output_policy == "strict"
    assert config.policy_for("embeddings", "output") == "strict"
    assert config.policy_for("chat", "output") == config.output_policy


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_small_request_is_masked_without_a_thread_hand_off_and_a_large_one_with(
        gateway_factory: GatewayFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # A hand-off to a worker thread and back cost more than masking a short chat request; a
    # large request still goes to a thread, so it cannot hold every other caller.
    threads: dict[str, int] = {}
    mask_fields, stamp_identity = _proxy.mask_fields, _proxy.stamp_identity

    def masking(*args: Any) -> Any:
        threads["mask"] = threading.get_ident()
        return mask_fields(*args)

    def stamping(*args: Any) -> Any:
        threads["loop"] = threading.get_ident()
        return stamp_identity(*args)

    monkeypatch.setattr(_proxy, "mask_fields", masking)
    monkeypatch.setattr(_proxy, "stamp_identity", stamping)
    gw = gateway_factory()
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat("mail me at bob@example.com"))
        assert response.status_code == 200
        assert threads["mask"] == threads["loop"]
        many = {"model": "scripted-upstream",
                "messages": [{"role": "user", "content": f"line {n} bob@example.com"}
                             for n in range(_proxy.INLINE_MASK_FIELDS + 1)]}
        assert client.post("/chat/completions", json=many).status_code == 200
        assert threads["mask"] != threads["loop"]
