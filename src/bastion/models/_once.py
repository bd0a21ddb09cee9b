"""Load a heavy object once per process, however many threads ask for it at the same moment.

``functools.cache`` keeps a result but does not hold back the callers that arrive while the
first one is still computing it: a red-team campaign's sixteen workers scoring their first
responses together built sixteen copies of the request-and-response model (about 1.3 s each on
two cores, instead of 0.13 s once), and a gateway's first concurrent checks did the same with
the contextual model. :func:`loaded_once` lets the first caller for a given set of arguments
load, makes the others wait for its result, and keeps nothing when the load fails (the next
caller tries again, as with ``functools.cache``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import Generic, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class LoadedOnce(Generic[P, T]):
    """``load`` wrapped: one result per distinct arguments, computed by one thread at a time."""

    def __init__(self, load: Callable[P, T]) -> None:
        self._load = load
        self._done: dict[Hashable, T] = {}
        self._loading: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        functools.update_wrapper(self, load)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        key = (args, tuple(sorted(kwargs.items())))
        if key in self._done:  # the common case: loaded long ago, no lock taken
            return self._done[key]
        with self._guard:
            lock = self._loading.setdefault(key, threading.Lock())
        with lock:  # the first caller loads; the others wait here, then find its result
            if key not in self._done:
                self._done[key] = self._load(*args, **kwargs)
            return self._done[key]

    def cache_clear(self) -> None:
        """Forget every result (the next call loads again); for tests."""
        with self._guard:
            self._done.clear()
            self._loading.clear()


def loaded_once(load: Callable[P, T]) -> LoadedOnce[P, T]:
    """Decorator: ``load`` runs once per distinct arguments, even under concurrent calls."""
    return LoadedOnce(load)
