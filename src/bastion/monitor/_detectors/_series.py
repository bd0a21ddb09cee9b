"""Per-key counts in fixed time buckets, each key with its own robust baseline."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bastion.monitor._baseline import Baseline
from bastion.monitor._event import MonitorEvent


@dataclass
class Bucket:
    """The bucket a key is filling now."""

    index: int
    hits: int = 0
    total: int = 0
    fired: bool = False
    accounts: Counter[str] = field(default_factory=Counter)
    recent: deque[MonitorEvent] = field(default_factory=lambda: deque(maxlen=8))


class BucketSeries:
    """Hits and totals per key per bucket; a finished bucket's hits feed the key's baseline.

    Args:
        bucket_s: the bucket length in seconds.
        baseline: makes a fresh baseline for a new key.
    """

    def __init__(self, bucket_s: float, baseline: Callable[[], Baseline]) -> None:
        self.bucket_s = bucket_s
        self.make = baseline
        self.buckets: dict[str, Bucket] = {}
        self.baselines: dict[str, Baseline] = {}

    def add(self, key: str, event: MonitorEvent, *, hit: bool, total: int = 1) -> Bucket:
        """Count ``event`` for ``key`` and return the key's current bucket."""
        index = int(event.at // self.bucket_s)
        bucket = self.buckets.get(key)
        if bucket is None or bucket.index != index:
            if bucket is not None:
                self._close(key, bucket, index)
            bucket = self.buckets[key] = Bucket(index)
        bucket.total += total
        if hit:
            bucket.hits += 1
            bucket.recent.append(event)
            if event.account_id:
                bucket.accounts[event.account_id] += 1
        return bucket

    def baseline(self, key: str) -> Baseline:
        """The key's baseline (made on first use)."""
        found = self.baselines.get(key)
        if found is None:
            found = self.baselines[key] = self.make()
        return found

    def _close(self, key: str, bucket: Bucket, now: int) -> None:
        baseline = self.baseline(key)
        baseline.update(bucket.hits)
        # Buckets with no event at all were quiet: fold in zeros (no more than the window).
        quiet = min(now - bucket.index - 1, baseline.recent.maxlen or 0)
        for _ in range(max(quiet, 0)):
            baseline.update(0.0)
