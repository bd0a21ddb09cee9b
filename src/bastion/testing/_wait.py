"""Wait in a test for what a background thread or server does in its own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.05,
    what: str = "the condition",
) -> T:
    """Call ``condition`` every ``interval`` seconds until it returns a truthy value; return it.

    For what happens after the call a test made has returned: audit events written in the
    writer's batches, incidents, rollups, a server starting. ``condition`` runs at least once,
    and once more after the last pause, so it has its chance at the deadline; what it raises
    is not caught.

    Raises:
        AssertionError: ``condition`` stayed falsy for ``timeout`` seconds. The message names
            ``what``, the timeout and the last value ``condition`` returned.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; "
                                 f"the last value was {value!r}")
        time.sleep(min(interval, left))
