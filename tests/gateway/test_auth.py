"""Failed key checks per client address: held off past a limit, real keys still served."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request

from bastion.gateway._auth import client_address

from .conftest import GatewayFactory

CHAT = {"model": "scripted-upstream", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_address_that_keeps_failing_key_checks_is_held_off_but_known_keys_are_not(
        gateway_factory: GatewayFactory) -> None:
    """Issue 8: an address could try keys without end, each a lookup in the account store.
    Past limits.failed_auth_per_minute failures it gets a 429 with Retry-After, without a
    lookup, and each refusal is audited with the address; a key this worker has found valid
    before still gets in from that address, so an attacker cannot lock out a real caller
    who shares it."""
    gw = gateway_factory(limits__failed_auth_per_minute="5")
    used, fresh = gw.key("regular"), gw.key("newcomer")
    with gw.client(used) as client:
        assert client.post("/chat/completions", json=CHAT).status_code == 200
    with gw.client() as client:
        missing = [client.post("/chat/completions", json=CHAT).status_code for _ in range(8)]
        guesses = [client.post("/chat/completions", json=CHAT,
                               headers={"authorization": f"Bearer bst-guess{i}"})
                   for i in range(7)]
    assert missing == [401] * 8  # no key sent, nothing looked up: not counted
    assert [g.status_code for g in guesses] == [401] * 5 + [429] * 2
    held = guesses[-1]
    assert held.json()["error"]["code"] == "auth_rate_limited"
    assert 1 <= int(held.headers["retry-after"]) <= 60
    with gw.client(used) as client:
        assert client.post("/chat/completions", json=CHAT).status_code == 200
    with gw.client(fresh) as client:
        assert client.post("/chat/completions", json=CHAT).status_code == 429
    gw.wait_audit(18)
    events = [e for e in gw.audit.events() if e["type"] == "gateway.request"]
    refused = [e for e in events if e["reason"] == "auth_rate_limited"]
    assert len(refused) == 3
    assert all(e["client"] == "127.0.0.1" and e["status"] == 429 for e in refused)
    assert sum(e.get("client") == "127.0.0.1" and e["status"] == 401 for e in events) == 5
    assert "bst-guess" not in str(events)


def test_failed_key_checks_are_counted_per_address_and_ipv6_per_64() -> None:
    def of(host: str) -> str | None:
        return client_address(Request({"type": "http", "client": (host, 1), "headers": []}))

    assert of("203.0.113.9") == "203.0.113.9"
    assert of("::ffff:203.0.113.9") == "203.0.113.9"
    assert of("2001:db8:1:2:aaaa::1") == of("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert of("2001:db8:1:3::1") != of("2001:db8:1:2::1")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_workers_sharing_redis_count_an_addresss_failures_together(
        gateway_factory: GatewayFactory, tmp_path: Path, redis_url: str) -> None:
    db = f"sqlite:///{tmp_path}/shared.db"
    workers = [gateway_factory(db=db, redis_url=redis_url, limits__failed_auth_per_minute="4")
               for _ in range(2)]
    statuses = []
    for n in range(6):
        with workers[n % 2].client("bst-guess") as client:
            statuses.append(client.post("/chat/completions", json=CHAT).status_code)
    assert statuses == [401] * 4 + [429] * 2


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_failing_counter_store_does_not_lock_out_keys(
        gateway_factory: GatewayFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The failed-check limit guards against guessing; it is not access control, so a
    store that cannot say how many checks failed (Redis down) lets the key be looked up."""
    from bastion.errors import RuntimeFailure

    gw = gateway_factory()

    async def down(client: str, per_minute: int) -> None:
        raise RuntimeFailure("rate limit store failed (ConnectionError)")

    monkeypatch.setattr(gw.app.state.gateway.limiter, "failed_auth", down)
    monkeypatch.setattr(gw.app.state.gateway.limiter, "count_failed_auth", down)
    with gw.client(gw.key("steady")) as client:
        assert client.post("/chat/completions", json=CHAT).status_code == 200
    with gw.client("bst-guess") as client:
        assert client.post("/chat/completions", json=CHAT).status_code == 401


@pytest.mark.parametrize("backend", ["sqlite"])
def test_parallel_guesses_from_one_address_stop_at_the_limit(
        gateway_factory: GatewayFactory) -> None:
    """Probing 'bastion gateway run': the failures were counted once each lookup had
    failed, so 50 guesses sent at once were all looked up under a limit of 30. An address's
    unknown keys are now checked one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    gw = gateway_factory(limits__failed_auth_per_minute="5")

    def guess(i: int) -> int:
        with gw.client(f"bst-guess{i}") as client:
            return client.post("/chat/completions", json=CHAT).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(guess, range(20)))
    assert statuses == [401] * 5 + [429] * 15
