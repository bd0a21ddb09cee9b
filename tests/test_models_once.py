"""Heavy models load once per process, even when many threads ask for them at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bastion.models import loaded_once


def _together(call, n: int = 8) -> list[object]:
    """Call ``call`` from ``n`` threads released at the same moment."""
    start = threading.Barrier(n)

    def one(_: int) -> object:
        start.wait()
        return call()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_callers_share_one_load() -> None:
    calls: list[int] = []

    @loaded_once
    def slow() -> object:
        calls.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive while it loads
        return object()

    results = _together(slow)
    assert len(calls) == 1
    assert all(r is results[0] for r in results)


def test_each_argument_is_loaded_once_and_apart() -> None:
    calls: list[str] = []

    @loaded_once
    def named(name: str, *, size: int = 1) -> str:
        calls.append(name)
        return name * size

    assert named("a") == "a"
    assert named("a") == "a"
    assert named("b", size=2) == "bb"
    assert named("b", size=2) == "bb"
    assert calls == ["a", "b"]


def test_a_failed_load_is_not_kept_and_cache_clear_loads_again() -> None:
    attempts: list[int] = []

    @loaded_once
    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("file busy")
        return len(attempts)

    with pytest.raises(OSError, match="file busy"):
        flaky()
    assert flaky() == 2
    assert flaky() == 2
    flaky.cache_clear()
    assert flaky() == 3


def test_the_request_and_response_model_is_built_once_by_concurrent_scorers() -> None:
    """The regression: a campaign's workers scoring their first responses together each built
    their own copy of the model (functools.cache holds nobody back while it computes)."""
    from bastion.redteam.scorers import _pair

    _pair.load_pair_model.cache_clear()
    built: list[int] = []
    original = _pair.PairModel.__init__

    def counting(self: _pair.PairModel, folder) -> None:  # type: ignore[no-untyped-def]
        built.append(1)
        original(self, folder)

    _pair.PairModel.__init__ = counting  # type: ignore[method-assign]
    try:
        models = _together(_pair.load_pair_model)
    finally:
        _pair.PairModel.__init__ = original  # type: ignore[method-assign]
    assert len(built) == 1
    assert all(m is models[0] for m in models)
