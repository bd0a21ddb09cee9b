"""Rate limits (requests and tokens per minute) per key and per account, and failed key
checks per client address, with ``limits``.

A key's own limit and its account's limit both hold: two keys of one account share the
account's budget. Storage is in memory for one worker, or Redis (``redis://...``) so the
limits hold across every worker sharing it. Token limits are charged twice: an estimate of
the prompt before the call (refused when over, and a prompt larger than the whole budget is
refused outright), then the completion's tokens after it (never refused, but counted
against the next request: an answer larger than what is left fills the window).

An uncapped answer is asked for at most the room left (see ``gateway._admit.cap_to_budget``);
that cap is not charged ahead, but :meth:`RateLimiter.reserve` holds it back from the room
later requests see until the answer is charged, so parallel uncapped requests cannot each be
promised the whole room. Promises are kept where the counts are: in the process with memory
storage, in Redis (a sorted set per budget) with Redis, so workers sharing it see each
other's; they lapse after :data:`PROMISE_S` (one window: a stream whose end was never seen
cannot hold the room for good).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from bastion.accounts._model import Principal
from bastion.errors import RuntimeFailure

_T = TypeVar("_T")
logger = logging.getLogger(__name__)
#: Seconds a promise to an answer in flight holds room (the budgets' window).
PROMISE_S = 60.0


@dataclass(frozen=True)
class Refusal:
    """Why a request was rate limited and when to retry."""

    reason: str
    retry_after_s: int


class RateLimiter:
    """Moving-window limits per key.

    Lifetime: one per gateway process. Concurrency: safe for concurrent tasks; with Redis
    storage, across processes too. Failure: storage errors raise
    :class:`~bastion.errors.RuntimeFailure`.

    Args:
        storage_url: ``memory://`` or ``redis://host:port/db``.
        requests_per_minute: the default per key (``None`` = unlimited); a key's own setting
            wins.
        tokens_per_minute: the default token budget per key (``None`` = unlimited).
    """

    def __init__(self, storage_url: str | None, *, requests_per_minute: int | None,
                 tokens_per_minute: int | None, account_requests_per_minute: int | None = None,
                 account_tokens_per_minute: int | None = None) -> None:
        url = (storage_url or "memory://").removeprefix("async+")
        self._pool: ConnectionPool | None = None
        if url.startswith(("redis://", "rediss://", "unix://")):
            # redis-py (already a dependency) rather than limits' default coredis; we own the
            # pool so close() can release its sockets.
            self._pool = ConnectionPool.from_url(url, socket_timeout=2.0,
                                                 socket_connect_timeout=2.0)
            # limits types its options as scalars, but passes them on to redis-py as-is.
            options: dict[str, Any] = {"connection_pool": self._pool}
            self._storage = storage_from_string(f"async+{url}", implementation="redispy",
                                                wrap_exceptions=True, **options)
        else:
            self._storage = storage_from_string(f"async+{url}")
        self._limiter = MovingWindowRateLimiter(self._storage)
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.account_requests_per_minute = account_requests_per_minute
        self.account_tokens_per_minute = account_tokens_per_minute
        # promise id -> the (budget, owner) pairs it holds room in, tokens, when it lapses
        # (memory storage; with Redis they are kept there, see promise())
        self._promises: dict[int, tuple[list[tuple[str, str]], int, float]] = {}
        self._ids = itertools.count()
        self._redis = Redis(connection_pool=self._pool) if self._pool is not None else None
        self._releasing: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Release the Redis connections (a no-op for memory storage), once the promises
        given back have been sent."""
        if self._releasing:
            await asyncio.gather(*self._releasing, return_exceptions=True)
        if self._pool is not None:
            await self._pool.aclose()

    async def request(self, principal: Principal, throttle_rpm: int | None = None,
                      ) -> Refusal | None:
        """Count one request; a refusal when the key or its account is over its limit."""
        key, account = principal.key, principal.account
        if throttle_rpm is not None and not await self._hit(
                RateLimitItemPerMinute(throttle_rpm), "throttle", account.id):
            return Refusal("the account is throttled for repeated policy violations", 60)
        rpm = key.requests_per_minute or self.requests_per_minute
        if rpm is not None and not await self._hit(RateLimitItemPerMinute(rpm), "rpm", key.id):
            return Refusal(f"the key is over its limit of {rpm} requests per minute", 60)
        arpm = account.requests_per_minute or self.account_requests_per_minute
        if arpm is not None and not await self._hit(RateLimitItemPerMinute(arpm), "arpm",
                                                    account.id):
            return Refusal(f"the account is over its limit of {arpm} requests per minute "
                           "(all its keys together)", 60)
        return None

    async def failed_auth(self, client: str, per_minute: int) -> Refusal | None:
        """A refusal when ``client`` (an address) has had ``per_minute`` failed key checks in
        the last minute (see :meth:`count_failed_auth`); nothing is counted."""
        stats = await _stored(self._limiter.get_window_stats(
            RateLimitItemPerMinute(per_minute), "authfail", client))
        if stats.remaining > 0:
            return None
        return Refusal(f"{per_minute} requests from this address in the last minute had an "
                       "unknown, revoked or expired key",
                       max(1, math.ceil(stats.reset_time - time.time())))

    async def count_failed_auth(self, client: str, per_minute: int) -> None:
        """Count a failed key check of ``client`` (only failures are counted: a caller whose
        key is good never gets near the limit)."""
        await self._hit(RateLimitItemPerMinute(per_minute), "authfail", client)

    async def tokens(self, principal: Principal, count: int, *, enforce: bool) -> Refusal | None:
        """Charge ``count`` tokens to the key and its account.

        With ``enforce``, a refusal when a budget cannot take them (a key's budget already
        charged stays charged when its account's then refuses); a count larger than a whole
        budget is always refused, uncharged. Without, the count is charged as far as each
        window has room (an answer already out).
        """
        budgets = self._budgets(principal)
        if count <= 0 or not budgets:
            return None
        if enforce:
            for limit, _, _, who in budgets:
                if count > limit:
                    return Refusal(f"the request's ~{count} tokens (the prompt, and the "
                                   f"answer's max_tokens if set) exceed the budget of {who} "
                                   f"of {limit} tokens per minute; send less or lower "
                                   "max_tokens", 60)
            # Tested and charged in one step per budget: a test, then a charge after, let
            # parallel requests all pass the test before any was charged.
            for limit, name, owner, who in budgets:
                if not await self._hit(RateLimitItemPerMinute(limit), name, owner, cost=count):
                    return Refusal(f"{who} is over its budget of {limit} tokens per minute", 60)
            return None
        for limit, name, owner, _ in budgets:
            item = RateLimitItemPerMinute(limit)
            # The window takes a charge whole or not at all: an answer over what is left
            # fills it (the next request waits for the window to move), not nothing.
            cost = min(count, await self._room(item, name, owner))
            if cost > 0:
                await self._hit(item, name, owner, cost=cost)
        return None

    async def token_room(self, principal: Principal) -> int | None:
        """Tokens the key and its account can still spend this minute (the smaller), less
        what answers in flight were promised (:meth:`promise`); ``None`` when neither has a
        token budget."""
        now = time.monotonic()
        for number, (_, _, lapses) in list(self._promises.items()):
            if lapses <= now:
                del self._promises[number]
        rooms = []
        for limit, name, owner, _ in self._budgets(principal):
            held = sum(count for owners, count, _ in self._promises.values()
                       if (name, owner) in owners)
            if self._redis is not None:
                held += await _stored(self._held(name, owner))
            rooms.append(await self._room(RateLimitItemPerMinute(limit), name, owner) - held)
        return max(0, min(rooms)) if rooms else None

    async def reserve(self, principal: Principal, answers: int = 1
                      ) -> tuple[int | None, Callable[[], None]]:
        """The cap for each of ``answers`` uncapped answers (the room left, shared out), held
        back from the room other requests see until the function returned is called (after
        the answers were charged) or :data:`PROMISE_S` passed; ``None`` when neither the key
        nor its account has a token budget, 0 when nothing is left.

        With Redis the room is shared by every worker: each reservation takes a number
        (``INCR``), writes its claim, then reads the claims before it and keeps only what
        they left, so two workers reading the room at once cannot both take it whole.
        """
        if self._redis is None:
            room = await self.token_room(principal)
            if room is None:
                return None, _nothing
            cap = room // answers
            if cap < 1:
                return 0, _nothing
            return cap, await self.promise(principal, cap * answers)
        budgets = self._budgets(principal)
        if not budgets:
            return None, _nothing
        rooms = [await self._room(RateLimitItemPerMinute(limit), name, owner)
                 for limit, name, owner, _ in budgets]
        owners = [(name, owner) for _, name, owner, _ in budgets]
        claim = max(0, min(rooms))
        member = await self._claim(owners, claim)
        number = int(member.split(":")[0])
        before = [await _stored(self._held(name, owner, below=number)) for name, owner in owners]
        cap = max(0, min(room - held for room, held in zip(rooms, before, strict=True))
                  ) // answers
        if cap * answers < claim:  # keep only what the claims before left (never more)
            if cap < 1:
                await _stored(self._forget(owners, member))
                return 0, _nothing
            member = await self._claim(owners, cap * answers, replacing=member)
        return cap, self._releaser(owners, member)

    async def promise(self, principal: Principal, count: int) -> Callable[[], None]:
        """Hold ``count`` tokens promised to an answer in flight back from the room of the key
        and its account (for at most :data:`PROMISE_S`), for every worker sharing the store;
        the function returned gives them back (call it after the answer was charged; with
        Redis the removal is sent in the background, and a promise whose removal failed
        lapses). :meth:`reserve` reads the room and promises it in one step."""
        owners = [(name, owner) for _, name, owner, _ in self._budgets(principal)]
        if self._redis is None:
            number = next(self._ids)
            self._promises[number] = (owners, count, time.monotonic() + PROMISE_S)

            def forget() -> None:
                self._promises.pop(number, None)

            return forget
        return self._releaser(owners, await self._claim(owners, count))

    async def _claim(self, owners: list[tuple[str, str]], count: int, *,
                     replacing: str | None = None) -> str:
        """Write a promise of ``count`` tokens into each budget's set, numbered with the next
        number in the same step (:data:`_CLAIM`), or with the number of the promise it
        replaces, removed in the same transaction. Taking the number and writing the claim were
        two round trips: a reservation numbered after this one could read the claims before it
        while this one was not yet written, and both took the whole room (a flaky test found
        it: 773 tokens promised under a 400-token budget, 1 run in 6)."""
        assert self._redis is not None
        keys = [_promise_key(name, owner) for name, owner in owners]
        expiry, tag = time.time() + PROMISE_S, uuid.uuid4().hex
        if replacing is None:
            found = await _stored(self._redis.eval(
                _CLAIM, 1 + len(keys), _PROMISE_NUMBER, *keys, count, tag, expiry,
                int(PROMISE_S) + 1))
            return found.decode() if isinstance(found, bytes) else str(found)
        member = f"{replacing.split(':')[0]}:{count}:{tag}"
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.zrem(key, replacing)
                pipe.zadd(key, {member: expiry})
                pipe.expire(key, int(PROMISE_S) + 1)
            await _stored(pipe.execute())
        return member

    def _releaser(self, owners: list[tuple[str, str]], member: str) -> Callable[[], None]:
        def release() -> None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop to send it from: the promise lapses
                return
            task = loop.create_task(self._forget_quietly(owners, member))
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)

        return release

    async def _held(self, name: str, owner: str, below: int | None = None) -> int:
        """Tokens promised in Redis, not lapsed, to answers of this budget's owner (only the
        promises numbered below ``below``, when given)."""
        assert self._redis is not None
        key = _promise_key(name, owner)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", time.time())
            pipe.zrange(key, 0, -1)
            _, members = await pipe.execute()
        claims = [tuple(int(part) for part in m.split(b":")[:2]) for m in members]
        return sum(count for number, count in claims if below is None or number < below)

    async def _forget(self, owners: list[tuple[str, str]], member: str) -> None:
        assert self._redis is not None
        async with self._redis.pipeline(transaction=True) as pipe:
            for name, owner in owners:
                pipe.zrem(_promise_key(name, owner), member)
            await pipe.execute()

    async def _forget_quietly(self, owners: list[tuple[str, str]], member: str) -> None:
        try:
            await self._forget(owners, member)
        except (RedisError, OSError):
            logger.warning("a promise of %s tokens was not given back; it lapses in %d s",
                           member.split(":")[1], int(PROMISE_S))

    def has_token_budget(self, principal: Principal) -> bool:
        """Whether the key or its account has a token budget (no store read)."""
        return bool(self._budgets(principal))

    def _budgets(self, principal: Principal) -> list[tuple[int, str, str, str]]:
        """The token budgets that hold for ``principal``: limit, name, owner id, and who."""
        key, account = principal.key, principal.account
        return [(limit, name, owner, who) for limit, name, owner, who in (
            (key.tokens_per_minute or self.tokens_per_minute, "tpm", key.id, "the key"),
            (account.tokens_per_minute or self.account_tokens_per_minute, "atpm", account.id,
             "the account (all its keys together)")) if limit is not None]

    async def _room(self, item: RateLimitItem, *ids: str) -> int:
        return int((await _stored(self._limiter.get_window_stats(item, *ids))).remaining)

    async def _hit(self, item: RateLimitItem, *ids: str, cost: int = 1) -> bool:
        return bool(await _stored(self._limiter.hit(item, *ids, cost=cost)))


#: The Redis counter that numbers promises (see :meth:`RateLimiter.reserve`).
_PROMISE_NUMBER = "bastion:promises:number"
#: Takes the next promise number and writes the claim ``number:count:tag`` into every
#: budget's set with that number, in one step (Redis runs a script whole).
_CLAIM = """
local number = redis.call('INCR', KEYS[1])
local member = number .. ':' .. ARGV[1] .. ':' .. ARGV[2]
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[3], member)
  redis.call('EXPIRE', KEYS[i], ARGV[4])
end
return member
"""


def _nothing() -> None:
    """Release of a reservation that holds nothing."""


def _promise_key(name: str, owner: str) -> str:
    """The Redis sorted set of the promises held in one budget (members
    ``number:tokens:id``, scored by when they lapse)."""
    return f"bastion:promises:{name}:{owner}"


async def _stored(pending: Awaitable[_T]) -> _T:
    """The store's answer; its failures as :class:`~bastion.errors.RuntimeFailure`."""
    try:
        return await pending
    except (StorageError, RedisError, OSError) as exc:
        raise RuntimeFailure(f"rate limit store failed ({type(exc).__name__}); check "
                             "that Redis is reachable") from exc
