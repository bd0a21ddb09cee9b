"""Strike counters shared by gateway workers: in Redis, in the database, or in memory (tests).

A strike score decays exponentially: after ``half_life`` seconds without new strikes it has
halved. Blocked prompts are remembered per account as timestamps (for bursts) and MinHash
fingerprints (for near-duplicate retries); no prompt text is stored.
"""

from __future__ import annotations

import math
import secrets
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session, sessionmaker

from bastion.errors import RuntimeFailure


@dataclass(frozen=True)
class BlockHistory:
    """What the store remembers about an account's recent blocked prompts."""

    recent_blocks: int
    fingerprints: tuple[str, ...]


class StrikeStore(ABC):
    """Where strike scores and block history live.

    Lifetime: one per gateway process, closed at shutdown. Concurrency: every method is safe
    to call from concurrent tasks; the Redis store is also safe across processes (the score
    update is one atomic script). Failure: backend errors raise
    :class:`~bastion.errors.RuntimeFailure`.
    """

    @abstractmethod
    async def add(self, account: str, amount: float, now: float, half_life: float) -> float:
        """Add strikes (after decaying the old score to ``now``); returns the new score."""

    @abstractmethod
    async def note_block(self, account: str, fingerprint: str, now: float, window: float,
                         keep: int) -> BlockHistory:
        """Record a blocked prompt; returns the history *before* this one was added."""

    @abstractmethod
    async def note_severe(self, account: str, now: float, window: float) -> int:
        """Record a blocked prompt of a severe category; how many lie within ``window``
        seconds, this one included (the long-window count a slow attacker cannot decay)."""

    @abstractmethod
    async def reset(self, account: str) -> None:
        """Forget an account's strikes and history (on reinstatement)."""

    async def close(self) -> None:  # noqa: B027 - the memory store holds nothing to release
        """Release connections."""

    async def score(self, account: str, now: float, half_life: float) -> float:
        """The decayed score at ``now``."""
        return await self.add(account, 0.0, now, half_life)


def answers_of(account: str) -> str:
    """The key under which strikes for an account's blocked answers add up, apart from its
    own: whoever steers a model's answers must not be able to push an account into
    suspension (see :class:`~bastion.accounts._abuse.AbuseMonitor`)."""
    return f"{account}/answers"


def decay(score: float, elapsed: float, half_life: float) -> float:
    """``score`` after ``elapsed`` seconds of exponential decay."""
    return score * math.pow(0.5, max(0.0, elapsed) / half_life)


class MemoryStrikeStore(StrikeStore):
    """Counters in this process only (tests, a single worker)."""

    def __init__(self) -> None:
        self._scores: dict[str, tuple[float, float]] = {}
        self._blocks: dict[str, deque[tuple[float, str]]] = {}
        self._severe: dict[str, deque[float]] = {}

    async def add(self, account: str, amount: float, now: float, half_life: float) -> float:
        """See :meth:`StrikeStore.add`."""
        score, at = self._scores.get(account, (0.0, now))
        score = decay(score, now - at, half_life) + amount
        self._scores[account] = (score, now)
        return score

    async def note_block(self, account: str, fingerprint: str, now: float, window: float,
                         keep: int) -> BlockHistory:
        """See :meth:`StrikeStore.note_block`."""
        history = self._blocks.setdefault(account, deque(maxlen=keep))
        before = BlockHistory(sum(1 for at, _ in history if at > now - window),
                              tuple(fp for _, fp in reversed(history)))
        history.append((now, fingerprint))
        return before

    async def note_severe(self, account: str, now: float, window: float) -> int:
        """See :meth:`StrikeStore.note_severe`."""
        marks = self._severe.setdefault(account, deque())
        marks.append(now)
        while marks and marks[0] <= now - window:
            marks.popleft()
        return len(marks)

    async def reset(self, account: str) -> None:
        """See :meth:`StrikeStore.reset`."""
        self._scores.pop(answers_of(account), None)
        self._scores.pop(account, None)
        self._blocks.pop(account, None)
        self._severe.pop(account, None)


_ADD = """
local v = redis.call('HMGET', KEYS[1], 's', 't')
local now = tonumber(ARGV[2])
local s = tonumber(v[1]) or 0
local t = tonumber(v[2]) or now
local hl = tonumber(ARGV[3])
s = s * math.pow(0.5, math.max(0, now - t) / hl) + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 's', tostring(s), 't', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(hl * 20))
return tostring(s)
"""


class RedisStrikeStore(StrikeStore):
    """Counters in Redis, shared by every worker that points at the same server.

    Args:
        url: a ``redis://`` URL.
        prefix: key prefix, so several gateways can share one Redis.
    """

    def __init__(self, url: str, *, prefix: str = "bastion:abuse:") -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._prefix = prefix
        self._add: Any = self._redis.register_script(_ADD)

    async def add(self, account: str, amount: float, now: float, half_life: float) -> float:
        """See :meth:`StrikeStore.add`."""
        try:
            value = await self._add(keys=[self._prefix + "score:" + account],
                                    args=[amount, now, half_life])
        except RedisError as exc:
            raise RuntimeFailure(f"strike counter store (Redis) failed: "
                                 f"{type(exc).__name__}; check that Redis is reachable") from exc
        return float(value)

    async def note_block(self, account: str, fingerprint: str, now: float, window: float,
                         keep: int) -> BlockHistory:
        """See :meth:`StrikeStore.note_block`."""
        times, prints = self._prefix + "blocks:" + account, self._prefix + "fps:" + account
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(times, "-inf", now - window)
                pipe.zcard(times)
                pipe.lrange(prints, 0, keep - 1)
                pipe.zadd(times, {f"{now}:{fingerprint[:16]}": now})
                pipe.lpush(prints, fingerprint)
                pipe.ltrim(prints, 0, keep - 1)
                pipe.expire(times, math.ceil(window * 2))
                pipe.expire(prints, 86_400)
                result = await pipe.execute()
        except RedisError as exc:
            raise RuntimeFailure(f"strike counter store (Redis) failed: "
                                 f"{type(exc).__name__}; check that Redis is reachable") from exc
        return BlockHistory(int(result[1]), tuple(fp.decode() for fp in result[2]))

    async def note_severe(self, account: str, now: float, window: float) -> int:
        """See :meth:`StrikeStore.note_severe`."""
        name = self._prefix + "severe:" + account
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(name, {f"{now}:{secrets.token_hex(4)}": now})
                pipe.zremrangebyscore(name, "-inf", now - window)
                pipe.zcard(name)
                pipe.expire(name, math.ceil(window))
                result = await pipe.execute()
        except RedisError as exc:
            raise RuntimeFailure(f"strike counter store (Redis) failed: "
                                 f"{type(exc).__name__}; check that Redis is reachable") from exc
        return int(result[2])

    async def reset(self, account: str) -> None:
        """See :meth:`StrikeStore.reset`."""
        names = [self._prefix + kind + account
                 for kind in ("score:", "blocks:", "fps:", "severe:")]
        names.append(self._prefix + "score:" + answers_of(account))
        try:
            await self._redis.delete(*names)
        except RedisError as exc:
            raise RuntimeFailure(f"strike counter store (Redis) failed: "
                                 f"{type(exc).__name__}") from exc

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


def strike_store(url: str | None, sessions: sessionmaker[Session] | None = None,
                 ) -> StrikeStore:
    """A Redis store for a ``redis://`` URL, else the database's, else (tests) memory."""
    if url:
        return RedisStrikeStore(url)
    if sessions is not None:
        from bastion.accounts._sqlstrikes import SqlStrikeStore  # noqa: PLC0415 - it imports this module
        return SqlStrikeStore(sessions)
    return MemoryStrikeStore()
