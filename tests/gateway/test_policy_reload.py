"""Published policy versions reach a running gateway without a restart."""

from __future__ import annotations

import threading

import pytest
from tests.policies.conftest import PETS

from bastion.monitor import AuditLog
from bastion.policy import builtin_path
from bastion.policy.store import PolicyStore
from bastion.testing import ScriptedUpstream, Turn, wait_until

from .conftest import GatewayFactory, Running

# The default policy, stricter: one more keyword in its own 'HRM' category blocks pineapples.
STRICT = builtin_path("default").read_text("utf-8").replace(
    "    head: harm\n", "    head: harm\n    keywords:\n      HRM-1: [\"pineapple\"]\n")


def chat(text: str) -> dict[str, object]:
    return {"model": "scripted-upstream", "messages": [{"role": "user", "content": text}]}


def store_of(gw: Running) -> PolicyStore:
    return PolicyStore(gw.sessions, audit=AuditLog(gw.sessions))


def test_a_published_stricter_policy_judges_the_next_request(
        gateway_factory: GatewayFactory) -> None:
    assert "HRM-1" in STRICT
    gw = gateway_factory(policy_reload_s=0)
    store = store_of(gw)
    with gw.client(gw.key("alice")) as client:
        before = client.post("/chat/completions", json=chat("a pineapple pizza recipe"))
        assert before.status_code == 200
        version, _ = store.save(STRICT, author="ops", policy_id="default")
        after_save = client.post("/chat/completions", json=chat("a pineapple pizza recipe"))
        assert after_save.status_code == 200  # saved is not published
        store.publish("default", version.number, by="ops", reason="no pineapple")
        blocked = client.post("/chat/completions", json=chat("a pineapple pizza recipe"))
        assert blocked.status_code == 400
        assert blocked.json()["error"]["bastion"]["categories"] == ["HRM"]  # the new rule
        store.publish("default", 1, by="ops", reason="roll back")  # v1: the shipped text
        again = client.post("/chat/completions", json=chat("a pineapple pizza recipe"))
        assert again.status_code == 200
    assert gw.wait_audit(4) == 4
    hashes = [e["checks"][0]["policy"]["hash"] for e in gw.audit.events()
              if e["type"] == "gateway.request"]
    assert hashes[0] == hashes[1] == hashes[3] != hashes[2]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_request_in_flight_finishes_on_the_policy_it_started_with(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str]) -> None:
    gw = gateway_factory(policy_reload_s=0)
    store = store_of(gw)
    version, _ = store.save(STRICT, author="ops", policy_id="default")
    upstream[0].script("slow", Turn(content="Here is a pineapple.", delay=1.0))
    results: list[int] = []
    with gw.client(gw.key("alice")) as client:
        worker = threading.Thread(target=lambda: results.append(
            client.post("/chat/completions", json=chat("slow question")).status_code))
        worker.start()
        # the prompt passed; the answer is on its way
        wait_until(lambda: upstream[0].requests, interval=0.01, what="the upstream request")
        store.publish("default", version.number, by="ops", reason="no pineapple")
        worker.join()
        assert results == [200]  # its answer was checked with the policy it started with
        later = client.post("/chat/completions", json=chat("slow question"))
    assert later.status_code == 400  # the answer's pineapple is blocked now
    assert later.json()["error"]["bastion"]["categories"] == ["HRM"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_restarted_gateway_starts_on_the_published_version(
        gateway_factory: GatewayFactory) -> None:
    first = gateway_factory()
    store = store_of(first)
    version, _ = store.save(STRICT, author="ops", policy_id="default")
    store.publish("default", version.number, by="ops", reason="no pineapple")
    second = gateway_factory(db=first.db)
    with second.client(second.key("bob")) as client:
        response = client.post("/chat/completions", json=chat("pineapple"))
    assert response.status_code == 400


@pytest.mark.parametrize("backend", ["sqlite"])
def test_policies_of_other_ids_and_unpublished_drafts_change_nothing(
        gateway_factory: GatewayFactory) -> None:
    gw = gateway_factory(policy_reload_s=0)
    store = store_of(gw)
    pets, _ = store.save(PETS, author="ops")
    store.publish("pets", pets.number, by="ops", reason="not used by this gateway")
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat("kick the puppy"))
    assert response.status_code == 200
    assert gw.app.state.gateway.policy("chat", "input").id == "default"
