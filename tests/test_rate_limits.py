"""The rate limiter's promises: room held back for uncapped answers in flight."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import cast

import pytest

from bastion.accounts import Principal, _limits
from bastion.accounts._limits import PROMISE_S, RateLimiter


def _principal(key_id: str, account_id: str) -> Principal:
    return cast(Principal, SimpleNamespace(
        key=SimpleNamespace(id=key_id, tokens_per_minute=None, requests_per_minute=None),
        account=SimpleNamespace(id=account_id, tokens_per_minute=None,
                                requests_per_minute=None)))


def test_a_promise_holds_room_until_released_or_lapsed(monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = RateLimiter(None, requests_per_minute=None, tokens_per_minute=500,
                          account_tokens_per_minute=800)
    one, sibling = _principal("k1", "acct"), _principal("k2", "acct")
    room = lambda who: asyncio.run(limiter.token_room(who))  # noqa: E731
    release = asyncio.run(limiter.promise(one, 300))
    assert room(one) == 200  # the key's budget, less the promise
    assert room(sibling) == 500  # its own key budget; the account has 800 - 300 = 500 left
    asyncio.run(limiter.promise(sibling, 400))  # never released: a stream whose end was never seen
    assert room(sibling) == 100  # the account's 800 less both promises
    release()
    release()  # a second call gives nothing back twice
    assert room(one) == 400  # the account's 800 less the promise that is still held
    now = _limits.time.monotonic()
    monkeypatch.setattr(_limits.time, "monotonic", lambda: now + PROMISE_S + 1)
    assert room(one) == room(sibling) == 500  # the lapsed promise holds nothing


def test_workers_sharing_redis_see_each_others_promises(
        redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With several workers each promised the whole room once (promises were per process):
    with Redis they are kept there, so every worker's room is less every worker's promises."""
    async def scenario() -> list[int | None]:
        made = [RateLimiter(redis_url, requests_per_minute=None, tokens_per_minute=500,
                            account_tokens_per_minute=800) for _ in range(2)]
        first, second = made
        one, sibling = _principal("rk1", "racct"), _principal("rk2", "racct")
        seen = []
        release = await first.promise(one, 300)
        seen.append(await second.token_room(one))  # 500 less the other worker's 300
        await second.promise(sibling, 400)
        seen.append(await first.token_room(sibling))  # the account's 800 less both
        release()
        await asyncio.sleep(0.2)  # the removal is sent in the background
        seen.append(await second.token_room(one))  # 800 less the 400 still held
        now = _limits.time.time()
        monkeypatch.setattr(_limits.time, "time", lambda: now + PROMISE_S + 1)
        seen.append(await first.token_room(sibling))  # lapsed: nothing held
        for limiter in made:
            await limiter.close()
        return seen

    assert asyncio.run(scenario()) == [200, 100, 400, 500]


def test_reservations_made_at_once_in_two_workers_never_share_out_more_than_the_room(
        redis_url: str) -> None:
    async def scenario() -> list[int | None]:
        made = [RateLimiter(redis_url, requests_per_minute=None, tokens_per_minute=600)
                for _ in range(2)]
        principal = _principal("both", "acct_both")
        reserved = await asyncio.gather(*(made[i % 2].reserve(principal) for i in range(8)))
        for limiter in made:
            await limiter.close()
        return [cap for cap, _ in reserved]

    caps = asyncio.run(scenario())
    assert None not in caps
    # before reserve(), each read the whole room before any promise was written: 8 x 600
    assert 0 < sum(c for c in caps if c) <= 600
