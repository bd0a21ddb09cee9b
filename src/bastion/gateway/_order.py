"""The order of an account's input checks (see :class:`CheckOrder`)."""

from __future__ import annotations

import asyncio
import itertools
import time


class CheckOrder:
    """Per account, the input checks in the order they began, so none acts on its verdict
    before the strikes of those begun earlier are counted.

    Without it an account firing a hundred probes at once had all of them classified, and
    every one that passed answered by the upstream, before the first blocked one's strikes
    suspended it. A check that passes waits (after its verdict, before the upstream) for the
    account's earlier checks to settle; one that blocks settles after its strikes. Checks
    still run together, so benign bursts keep their batching. It also counts the characters
    each account has under check, so one account cannot fill the shared classifier.
    Concurrency: one event loop. Lifetime: the gateway's.
    """

    def __init__(self, wait_s: float = 10.0) -> None:
        self._next = itertools.count()
        self._open: dict[str, dict[int, asyncio.Future[None]]] = {}
        self._chars: dict[int, int] = {}
        self._wait_s = wait_s
        self._suspended: dict[str, float] = {}

    def begin(self, account_id: str, chars: int = 0) -> int:
        """A ticket for a check of ``chars`` characters that is about to start."""
        ticket = next(self._next)
        future = asyncio.get_running_loop().create_future()
        self._open.setdefault(account_id, {})[ticket] = future
        self._chars[ticket] = chars
        return ticket

    def chars_in_check(self, account_id: str) -> int:
        """Characters of the account's checks not yet settled."""
        return sum(self._chars.get(t, 0) for t in self._open.get(account_id, {}))

    def settle(self, account_id: str, ticket: int) -> None:
        """The check's strikes are counted (or it had none); idempotent."""
        tickets = self._open.get(account_id, {})
        future = tickets.pop(ticket, None)
        self._chars.pop(ticket, None)
        if future is not None and not future.done():
            future.set_result(None)
        if not tickets:
            self._open.pop(account_id, None)

    async def after_earlier(self, account_id: str, ticket: int) -> None:
        """Wait until the account's checks begun before ``ticket`` have settled (at most
        ``wait_s``: the order is a guard against bursts, not a reason to stall)."""
        earlier = [f for t, f in self._open.get(account_id, {}).items() if t < ticket]
        if earlier and self._wait_s > 0:
            await asyncio.wait(earlier, timeout=self._wait_s)

    def suspended(self, account_id: str) -> None:
        """Remember when this process suspended an account (lookups cached before are
        stale, and requests admitted before it are still under way)."""
        self._suspended[account_id] = time.perf_counter()

    def suspended_since(self, account_id: str, started: float) -> bool:
        """Whether this process suspended the account after ``started`` (a request's
        ``perf_counter`` start): the request was admitted before it happened."""
        at = self._suspended.get(account_id)
        return at is not None and at >= started
