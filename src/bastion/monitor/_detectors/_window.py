"""Per-account sliding windows over stream time, with a cool-down after each alert."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from bastion.monitor._event import MonitorEvent


class AccountWindows:
    """The events of each account over the last ``window_s`` seconds of stream time.

    Args:
        window_s: how far back a window reaches.
        keep: which events enter a window (all of them by default).
    """

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.windows: dict[str, deque[MonitorEvent]] = {}
        self.quiet_until: dict[str, float] = {}

    def add(self, event: MonitorEvent) -> deque[MonitorEvent] | None:
        """Add an account's event; its window, oldest first (``None`` without an account)."""
        if not event.account_id:
            return None
        window = self.windows.setdefault(event.account_id, deque())
        window.append(event)
        while window and window[0].at < event.at - self.window_s:
            window.popleft()
        return window

    def cooling(self, account: str, at: float) -> bool:
        """True while an account's last alert is less than a window old."""
        return at < self.quiet_until.get(account, float("-inf"))

    def alerted(self, account: str, at: float) -> None:
        """Start an account's cool-down."""
        self.quiet_until[account] = at + self.window_s

    def __iter__(self) -> Iterator[str]:
        return iter(self.windows)
