"""The policies a gateway checks with, kept in step with the policy store without a restart.

The configured policies (built-in ids or files) are the base. A version published in the
policy store under the same policy id replaces its base policy. The store's heads are read at
most once per ``policy_reload_s`` (one query of a few rows); when a head's serial moved, the
new text is parsed, the classifier warmed with it, and the whole mapping is swapped for a new
one. Requests take the mapping once, when they start, so a request in flight finishes on the
policies it started with.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from bastion.errors import BastionError
from bastion.policy import Policy, load_policy
from bastion.policy.store import PolicyHead, PolicyStore, parse_version

logger = logging.getLogger("bastion.gateway")


class LivePolicies:
    """Configured policies, replaced by published versions as they appear.

    Lifetime: one per gateway. Concurrency: :meth:`refresh` runs on the event loop (the
    database read and parsing go to a worker thread; concurrent callers share one check);
    :attr:`current` is replaced whole and never changed in place, so readers need no lock.
    Failure: a store that cannot be read or a published text that does not parse is logged
    and the policies in use stay as they are; requests never fail for it.

    Args:
        names: the configured policy names (built-in ids or paths).
        store: the policy store to follow.
        every_s: the least time between two reads of the store (0: before every request).
        warm: called with each new policy before it goes live (loads what it needs).
    """

    def __init__(self, names: Iterable[str], store: PolicyStore, *, every_s: float,
                 warm: Callable[[Policy], None]) -> None:
        self.base = {name: load_policy(name) for name in names}
        self.store, self.every_s, self._warm = store, every_s, warm
        self.current: dict[str, Policy] = dict(self.base)
        self._serials: dict[str, int] = {}
        self._checked = 0.0
        self._pending: asyncio.Future[None] | None = None

    def load(self) -> None:
        """Read the store now (blocking): published versions replace the configured ones."""
        self._checked = time.monotonic()
        try:
            heads = self.store.heads()
        except SQLAlchemyError as exc:
            logger.warning("the policy store cannot be read (%s); policies stay as they are",
                           type(exc).__name__)
            return
        ids = {policy.id for policy in self.base.values()}
        moved = {pid: head for pid, head in heads.items()
                 if pid in ids and self._serials.get(pid) != head.serial}
        if moved:
            self._swap(moved)

    def _swap(self, moved: dict[str, PolicyHead]) -> None:
        replaced: dict[str, Policy] = {}
        for pid, head in moved.items():
            self._serials[pid] = head.serial  # a text that fails is not retried until the next
            try:
                policy = parse_version(self.store.version(pid, head.number))
            except BastionError:  # a text that no longer loads (e.g. a built-in it includes
                # changed in an upgrade): keep serving with what works
                logger.exception("published policy %r v%d does not load; the gateway keeps "
                                 "the one in use", pid, head.number)
                continue
            self._warm(policy)
            replaced[pid] = policy
            logger.info("policy %r v%d (publish #%d) is live", pid, head.number, head.serial)
        if replaced:
            self.current = {name: replaced.get(base.id, self.current[name])
                            for name, base in self.base.items()}

    async def refresh(self) -> None:
        """Read the store if ``every_s`` has passed since the last read (shared by callers)."""
        if self._pending is None and time.monotonic() - self._checked < self.every_s:
            return
        if self._pending is None:
            self._pending = asyncio.ensure_future(anyio.to_thread.run_sync(self.load))
            self._pending.add_done_callback(self._done)
        await asyncio.shield(self._pending)

    def _done(self, _: asyncio.Future[None]) -> None:
        self._pending = None
