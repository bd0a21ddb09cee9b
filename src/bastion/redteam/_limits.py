"""Rate limiting and retries for talking to targets."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from bastion.redteam._errors import TargetError

T = TypeVar("T")
# A server's Retry-After longer than this ends the attempt with an error instead of a silent
# wait (a 429 with 'Retry-After: 3600' held each attempt an hour per retry).
MAX_RETRY_AFTER = 120.0


class RateLimiter:
    """At most ``rate`` starts per second across all tasks (evenly spaced, no bursts).

    Args:
        rate: requests per second; ``None`` or 0 means unlimited.
    """

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = anyio.Lock()

    async def wait(self) -> None:
        """Return when the caller may start its request."""
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        await anyio.sleep(max(0.0, start - now))


async def with_retries(call: Callable[[], Awaitable[T]], *, retries: int, backoff: float,
                       limiter: RateLimiter, rng: random.Random) -> T:
    """Await ``call()``; retry retryable TargetErrors up to ``retries`` times.

    Waits the server's ``Retry-After`` when given (one over ``MAX_RETRY_AFTER`` seconds ends
    the attempt with an error instead), else exponential backoff with jitter.
    """
    attempt = 0
    while True:
        await limiter.wait()
        try:
            return await call()
        except TargetError as exc:
            if not exc.retryable or attempt >= retries:
                raise
            if exc.retry_after is not None and exc.retry_after > MAX_RETRY_AFTER:
                raise TargetError(f"{exc}; the target asked to wait {exc.retry_after:.0f} s "
                                  f"before a retry, more than {MAX_RETRY_AFTER:.0f} s: run "
                                  "again later (the same --log resumes) or lower --rate"
                                  ) from exc
            delay = exc.retry_after if exc.retry_after is not None else \
                backoff * (2 ** attempt) * (0.5 + rng.random())
            attempt += 1
            await anyio.sleep(delay)
