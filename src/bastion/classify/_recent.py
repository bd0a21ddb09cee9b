"""The most recently used answers, kept in memory (the least recently used goes first).

Lifetime: one per cache owner (a cascade's verdicts, the contextual model's outputs).
Concurrency: thread-safe; a batch is looked up or stored under one lock. Failure: none; a
size of 0 keeps nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """At most ``size`` answers by key; ``hits`` and ``misses`` count lookups."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The answer kept for ``key``, or None."""
        return self.get_many([key])[0]

    def get_many(self, keys: Sequence[K]) -> list[V | None]:
        """The answer kept for each key, or None."""
        items = self._items
        out: list[V | None] = []
        with self._lock:
            for key in keys:
                value = items.get(key)
                if value is not None:
                    items.move_to_end(key)
                out.append(value)
            found = sum(v is not None for v in out)
            self.hits += found
            self.misses += len(out) - found
        return out

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` for ``key``."""
        self.put_many([(key, value)])

    def put_many(self, pairs: Sequence[tuple[K, V]]) -> None:
        """Keep each value for its key, dropping the least recently used beyond ``size``."""
        if self.size <= 0:
            return
        items = self._items
        with self._lock:
            for key, value in pairs:
                items[key] = value
                items.move_to_end(key)
            while len(items) > self.size:
                items.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._items.clear()
