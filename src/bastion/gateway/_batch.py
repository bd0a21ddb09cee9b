"""Natural batching: concurrent checks share one classifier call.

When the classifier is idle a check runs at once, alone (no added latency). While
``concurrency`` batches are running, new checks wait together and run as one batch when a
slot frees, so under load the vectorised classifier sees a few large batches instead of many
small calls competing for the CPU and the event loop's thread pool.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from bastion.classify import Verdict
from bastion.policy import Policy

logger = logging.getLogger("bastion.gateway")

Run = Callable[[list[str], Policy], Awaitable[list[Verdict]]]


@dataclass
class _Batch:
    policy: Policy
    texts: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    done: asyncio.Future[list[Verdict] | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class Batcher:
    """Coalesces concurrent classifier calls of one policy into batches.

    Lifetime: one per gateway, on its event loop. Concurrency: at most ``concurrency`` batches
    run at once; callers may be cancelled while waiting without affecting the others.
    Failure: a batch that misses ``timeout_s`` (or raises) answers ``None`` to its callers,
    which turn that into error verdicts; its slot frees at the deadline. A batch with an error
    verdict is run again caller by caller, so one caller's text cannot fail the others.

    Args:
        run: classifies one batch.
        concurrency: batches running at once.
        max_texts: the largest batch; a full batch starts as soon as a slot frees.
        timeout_s: the deadline of one batch.
    """

    def __init__(self, run: Run, *, concurrency: int, max_texts: int, timeout_s: float) -> None:
        self.run, self.concurrency, self.max_texts = run, concurrency, max_texts
        self.timeout_s = timeout_s
        self.running = 0
        self.batches = 0
        self._queue: deque[_Batch] = deque()
        self._tasks: set[asyncio.Task[None]] = set()

    async def classify(self, texts: list[str], policy: Policy) -> list[Verdict] | None:
        """Verdicts for ``texts`` (``None`` when their batch failed or timed out)."""
        batch = next((b for b in reversed(self._queue) if b.policy.hash == policy.hash
                      and len(b.texts) + len(texts) <= self.max_texts), None)
        if batch is None:
            batch = _Batch(policy)
            self._queue.append(batch)
        start = len(batch.texts)
        batch.texts.extend(texts)
        batch.spans.append((start, len(batch.texts)))
        self._pump()
        result = await asyncio.shield(batch.done)
        return None if result is None else result[start:start + len(texts)]

    async def _alone(self, batch: _Batch) -> list[Verdict]:
        """Each caller's texts on their own, so one caller's failing text (a backend that
        cannot take it) fails only that caller."""
        out: list[Verdict] = []
        for start, end in batch.spans:
            out.extend(await self.run(batch.texts[start:end], batch.policy))
        return out

    def _pump(self) -> None:
        while self._queue and self.running < self.concurrency:
            batch = self._queue.popleft()
            self.running += 1
            self.batches += 1
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: _Batch) -> None:
        result: list[Verdict] | None = None
        try:
            with anyio.move_on_after(self.timeout_s):
                result = await self.run(batch.texts, batch.policy)
                if len(batch.spans) > 1 and any(v.is_error for v in result):
                    result = await self._alone(batch)
        except Exception:
            logger.exception("a classifier batch of %d texts failed", len(batch.texts))
        finally:
            self.running -= 1
            if not batch.done.done():
                batch.done.set_result(result)
            self._pump()
