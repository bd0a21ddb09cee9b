"""A deadline for one classification, so work nobody waits for any more stops.

The gateway gives each check a few seconds (``classifier.timeout_s``) and answers an error
verdict when they pass, but a classifier running in a worker thread cannot be cancelled from
the event loop: it used to read every window of a long text to the end, keeping a core busy
for a request that had long been answered. :func:`classify_within` runs a call with a
deadline in a context variable; the model checks it (:func:`check_deadline`) before each batch
it reads and stops with :class:`~bastion.errors.BackendTimeout` once it has passed.

Calls without a deadline (the CLI, scans, benches) run to the end as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from bastion.errors import BackendTimeout

P = ParamSpec("P")
T = TypeVar("T")

#: ``time.monotonic()`` after which the current classification is abandoned, if any.
_DEADLINE: ContextVar[float | None] = ContextVar("bastion_classify_deadline", default=None)


def current_deadline() -> float | None:
    """The deadline of the classification running in this context (``None``: none)."""
    return _DEADLINE.get()


def check_deadline(deadline: float | None) -> None:
    """Raise :class:`BackendTimeout` when ``deadline`` (a ``time.monotonic()`` value) passed."""
    if deadline is not None and time.monotonic() > deadline:
        raise BackendTimeout("classification stopped: its caller's deadline passed")


def classify_within(seconds: float, call: Callable[P, T], *args: P.args,
                    **kwargs: P.kwargs) -> T:
    """Run ``call`` with a deadline ``seconds`` from now (an earlier one that is already set
    stays); meant for the worker thread that runs a classifier."""
    deadline = time.monotonic() + max(seconds, 0.0)
    outer = _DEADLINE.get()
    token = _DEADLINE.set(deadline if outer is None else min(outer, deadline))
    try:
        return call(*args, **kwargs)
    finally:
        _DEADLINE.reset(token)
