"""Per-key rate limits (requests and tokens per minute) with the ``limits`` library.

Storage is in memory for one worker, or Redis (``redis://...``) so the limits hold across
every worker sharing it. Token limits are charged twice: an estimate of the prompt before the
call (refused when over), then the completion's reported tokens after it (never refused, but
counted against the next request).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from bastion.accounts._model import Principal
from bastion.errors import RuntimeFailure


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
                 tokens_per_minute: int | None) -> None:
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

    async def close(self) -> None:
        """Release the Redis connections (a no-op for memory storage)."""
        if self._pool is not None:
            await self._pool.aclose()

    async def request(self, principal: Principal, throttle_rpm: int | None = None,
                      ) -> Refusal | None:
        """Count one request; a refusal when the key is over its limit."""
        key = principal.key
        if throttle_rpm is not None and not await self._hit(
                RateLimitItemPerMinute(throttle_rpm), "throttle", principal.account.id):
            return Refusal("the account is throttled for repeated policy violations", 60)
        rpm = key.requests_per_minute or self.requests_per_minute
        if rpm is not None and not await self._hit(RateLimitItemPerMinute(rpm), "rpm", key.id):
            return Refusal(f"the key is over its limit of {rpm} requests per minute", 60)
        return None

    async def tokens(self, principal: Principal, count: int, *, enforce: bool) -> Refusal | None:
        """Charge ``count`` tokens; with ``enforce``, a refusal when over the budget."""
        tpm = principal.key.tokens_per_minute or self.tokens_per_minute
        if tpm is None or count <= 0:
            return None
        item = RateLimitItemPerMinute(tpm)
        allowed = await self._hit(item, "tpm", principal.key.id, cost=min(count, tpm))
        if enforce and not allowed:
            return Refusal(f"the key is over its budget of {tpm} tokens per minute", 60)
        return None

    async def _hit(self, item: RateLimitItem, *ids: str, cost: int = 1) -> bool:
        try:
            return bool(await self._limiter.hit(item, *ids, cost=cost))
        except (StorageError, RedisError, OSError) as exc:
            raise RuntimeFailure(f"rate limit store failed ({type(exc).__name__}); check "
                                 "that Redis is reachable") from exc
