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
    release = limiter.promise(one, 300)
    assert room(one) == 200  # the key's budget, less the promise
    assert room(sibling) == 500  # its own key budget; the account has 800 - 300 = 500 left
    limiter.promise(sibling, 400)  # never released: a stream whose end was never seen
    assert room(sibling) == 100  # the account's 800 less both promises
    release()
    release()  # a second call gives nothing back twice
    assert room(one) == 400  # the account's 800 less the promise that is still held
    now = _limits.time.monotonic()
    monkeypatch.setattr(_limits.time, "monotonic", lambda: now + PROMISE_S + 1)
    assert room(one) == room(sibling) == 500  # the lapsed promise holds nothing
