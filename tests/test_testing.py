"""bastion.testing's wait_until: polls until a condition holds, or fails naming what it awaited."""

from __future__ import annotations

import time

import pytest

from bastion.testing import wait_until


def test_wait_until_returns_the_first_truthy_value() -> None:
    values = iter([0, [], None, [3]])
    assert wait_until(lambda: next(values), interval=0.001) == [3]


def test_wait_until_fails_after_the_timeout_naming_what_it_awaited() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError,
                       match=r"after 0\.2s waiting for the pigeon to land; the last value was 0"):
        wait_until(lambda: 0, timeout=0.2, interval=0.01, what="the pigeon to land")
    assert 0.2 <= time.monotonic() - started < 2
