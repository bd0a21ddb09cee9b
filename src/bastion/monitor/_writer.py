"""Background audit writing: requests never wait on the database, and no event is lost.

The gateway hands each event to :meth:`AuditWriter.submit` (no I/O). A background task writes
queued events in batches, in a worker thread; when the database is locked or down it keeps the
events and retries with back-off, logging the failure, until they are written. ``close``
drains the queue before the process stops.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import anyio
import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from bastion.monitor._anchor import FileAnchor

logger = logging.getLogger("bastion.monitor.audit")

BATCH = 500
_RETRY_MAX_S = 5.0


class BatchLog(Protocol):
    """What the writer writes to: the audit log, or the live monitor (which has no anchor)."""

    @property
    def anchor(self) -> FileAnchor | None:
        """Where checkpoints go, if anywhere."""

    def append(self, events: Sequence[dict[str, Any]]) -> int:
        """Write a batch in one transaction (SQLAlchemy errors are retried)."""

    def checkpoint(self) -> None:
        """Anchor the newest written event (called while idle)."""


class AuditWriter:
    """Queues audit events and writes them in the background.

    Lifetime: :meth:`run` runs as a task for the life of the app; :meth:`close` stops it after
    writing everything queued. Concurrency: :meth:`submit` is called from the event loop only.
    Failure: database errors are retried with back-off (capped at 5 s) until written (or,
    after :meth:`close`, until its grace period ends); ``pending``
    tells how many events wait, and :attr:`overloaded` turns true past ``max_pending`` so the
    gateway can refuse new work rather than drop events.

    Args:
        log: the audit log to append to (or any :class:`BatchLog`).
        max_pending: queued events beyond which :attr:`overloaded` is true.
        on_written: called with the number of events after each successful batch.
        linger_s: how long to wait after the first new event for more to share its batch.
    """

    def __init__(self, log: BatchLog, *, max_pending: int = 100_000,
                 on_written: Callable[[int], None] | None = None,
                 linger_s: float = 0.02) -> None:
        self.log = log
        self.linger_s = linger_s
        self.max_pending = max_pending
        self.on_written = on_written
        self.written = 0
        self.failures = 0
        self._queue: deque[dict[str, Any]] = deque()
        self._wake = anyio.Event()
        self._closing = False
        self._give_up_at: float | None = None

    @property
    def pending(self) -> int:
        """Events queued and not yet written."""
        return len(self._queue)

    @property
    def overloaded(self) -> bool:
        """True when so many events wait that new requests should be refused."""
        return len(self._queue) >= self.max_pending

    def submit(self, event: dict[str, Any]) -> None:
        """Queue one event (needs a ``type``); returns at once."""
        self._queue.append(event)
        self._wake.set()

    async def run(self) -> None:
        """Write batches until :meth:`close` is called and the queue is empty."""
        delay = 0.05
        while True:
            if not self._queue:
                await self._checkpoint()
                if self._closing:
                    return
                await self._wake.wait()
                self._wake = anyio.Event()
                if not self._closing:
                    # Let a few more events arrive: one transaction per batch, not per event.
                    await anyio.sleep(self.linger_s)
                continue
            batch = [self._queue[i] for i in range(min(BATCH, len(self._queue)))]
            try:
                await anyio.to_thread.run_sync(self.log.append, batch)
            except SQLAlchemyError as exc:
                self.failures += 1
                if self._give_up_at is not None and anyio.current_time() > self._give_up_at:
                    logger.error("audit writer stopping with %d events unwritten: the "  # noqa: TRY400 - one line, no traceback
                                 "database stayed unavailable through shutdown (%s)",
                                 self.pending, type(exc).__name__)
                    return
                logger.error("audit write of %d events failed (%s); %d queued, retrying in "  # noqa: TRY400 - the type says enough, a traceback per retry floods the log
                             "%.2f s", len(batch), type(exc).__name__, self.pending, delay)
                await anyio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_S)
                continue
            for _ in batch:
                self._queue.popleft()
            self.written += len(batch)
            delay = 0.05
            if self.on_written is not None:
                self.on_written(len(batch))

    async def _checkpoint(self) -> None:
        """Anchor the newest written event while nothing else waits."""
        if self.log.anchor is not None:
            await anyio.to_thread.run_sync(self.log.checkpoint)

    async def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the queue is empty (or ``timeout``); True when everything was written."""
        with anyio.move_on_after(timeout):
            while self._queue:
                self._wake.set()
                await anyio.sleep(0.01)
        return not self._queue

    def close(self, grace_s: float = 30.0) -> None:
        """Ask :meth:`run` to finish once the queue is empty.

        If the database stays unavailable for ``grace_s`` more seconds, :meth:`run` stops
        anyway and logs, at error level, how many events it could not write — a shutdown
        must end.
        """
        self._closing = True
        self._give_up_at = anyio.current_time() + grace_s
        self._wake.set()
