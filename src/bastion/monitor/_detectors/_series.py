"""Per-key counts in fixed time buckets, each key with its own robust baseline."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bastion.monitor._baseline import Baseline
from bastion.monitor._detector import StateEntry
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
    last_at: float = 0.0

    def dump(self) -> dict[str, Any]:
        """The bucket as JSON (for :meth:`load`)."""
        return {"index": self.index, "hits": self.hits, "total": self.total,
                "fired": self.fired, "accounts": dict(self.accounts),
                "recent": [e.to_json() for e in self.recent], "last_at": self.last_at}

    @classmethod
    def load(cls, state: Mapping[str, Any]) -> Bucket:
        """The bucket :meth:`dump` wrote."""
        bucket = cls(int(state["index"]), int(state["hits"]), int(state["total"]),
                     bool(state["fired"]), Counter(state.get("accounts") or {}),
                     last_at=float(state.get("last_at") or 0.0))
        bucket.recent.extend(MonitorEvent.from_json(e) for e in state.get("recent") or ())
        return bucket


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
        bucket.last_at = event.at
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

    def dump(self, since: float) -> dict[str, StateEntry]:
        """Each key's baseline and current bucket, for keys with an event at ``since`` or
        later."""
        return {key: StateEntry(bucket.last_at, {"bucket": bucket.dump(),
                                                 "baseline": self.baseline(key).dump()})
                for key, bucket in self.buckets.items() if bucket.last_at >= since}

    def load(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Resume the keys in ``state`` (as :meth:`dump` wrote them)."""
        for key, found in state.items():
            self.buckets[key] = Bucket.load(found["bucket"])
            self.baseline(key).load(found["baseline"])

    def _close(self, key: str, bucket: Bucket, now: int) -> None:
        baseline = self.baseline(key)
        baseline.update(bucket.hits)
        # Buckets with no event at all were quiet: fold in zeros (no more than the window).
        quiet = min(now - bucket.index - 1, baseline.recent.maxlen or 0)
        for _ in range(max(quiet, 0)):
            baseline.update(0.0)
