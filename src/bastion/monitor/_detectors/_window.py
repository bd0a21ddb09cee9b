"""Per-account sliding windows over stream time, with a cool-down after each alert."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from bastion.monitor._detector import StateEntry
from bastion.monitor._event import MonitorEvent

KEPT_EVENTS = 2000
"""The most events of one account's window that are persisted (the newest)."""
_HITS = frozenset({"block", "flag"})


class AccountWindows:
    """The events of each account over the last ``window_s`` seconds of stream time.

    Args:
        window_s: how far back a window reaches.
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

    def dump(self, since: float) -> dict[str, StateEntry]:
        """Each account's window and cool-down, for accounts with an event at ``since`` or
        later. Only blocked and flagged events keep their text sample (the others are only
        counted), and a window keeps its newest :data:`KEPT_EVENTS` events."""
        out = {}
        for account, window in self.windows.items():
            if not window or window[-1].at < since:
                continue
            events = list(window)[-KEPT_EVENTS:]
            out[account] = StateEntry(window[-1].at, {
                "events": [(e if e.decision in _HITS else replace(e, sample=None)).to_json()
                           for e in events],
                "quiet_until": self.quiet_until.get(account)})
        return out

    def load(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Resume the accounts in ``state`` (as :meth:`dump` wrote them)."""
        for account, found in state.items():
            self.windows[account] = deque(MonitorEvent.from_json(e)
                                          for e in found.get("events") or ())
            quiet = found.get("quiet_until")
            if quiet is not None:
                self.quiet_until[account] = float(quiet)

    def __iter__(self) -> Iterator[str]:
        return iter(self.windows)
