"""Accounts probing many policy categories in a short time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.monitor._alert import Alert, evidence, involved
from bastion.monitor._detector import Detector, DetectorSettings, StateEntry, register_detector
from bastion.monitor._detectors._window import AccountWindows
from bastion.monitor._event import MonitorEvent


class ProbeSettings(DetectorSettings):
    """Window and threshold (defaults tuned on the dev day)."""

    window_s: float = 3600.0
    min_categories: int = 5
    min_rate: float = 0.5
    """The share of the account's prompts in the window that were blocked or flagged."""


@register_detector
class CategoryProbe(Detector):
    """An account whose blocked or flagged prompts hit ``min_categories`` distinct policy
    categories within ``window_s``, and make up ``min_rate`` of its prompts there: someone
    mapping where the policy's lines are, not a busy user who trips a few."""

    name = "category-probe"
    Settings = ProbeSettings

    def __init__(self, settings: ProbeSettings | None = None) -> None:
        s = self.options = settings or ProbeSettings()
        super().__init__(s)
        self.windows = AccountWindows(s.window_s)

    def observe(self, events: Sequence[MonitorEvent]) -> list[Alert]:
        """Track categories per account; alert on breadth."""
        alerts = []
        for event in events:
            if event.direction == "output":
                continue  # one event per request: the prompt's
            window = self.windows.add(event)
            if (window is None or not _hit(event)
                    or self.windows.cooling(event.account_id or "", event.at)):
                continue
            hit = [e for e in window if _hit(e)]
            categories = {c for e in hit for c in e.categories}
            if (len(categories) >= self.options.min_categories
                    and len(hit) >= self.options.min_rate * len(window)):
                self.windows.alerted(event.account_id or "", event.at)
                alerts.append(self._alert(hit, sorted(categories)))
        return alerts

    def dump_state(self, since: float) -> dict[str, StateEntry]:
        """Each account's window of events and cool-down."""
        return self.windows.dump(since)

    def load_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Resume the windows :meth:`dump_state` kept."""
        self.windows.load(state)

    def _alert(self, events: list[MonitorEvent], categories: list[str]) -> Alert:
        account = events[-1].account_id or ""
        found = involved(events)
        minutes = self.options.window_s / 60
        return Alert(
            self.name, f"{self.name}:account:{account}", "high", events[-1].at,
            f"Account {account} probing {len(categories)} policy categories",
            f"Account {account!r} had {len(events)} blocked or flagged prompts across "
            f"{len(categories)} categories ({', '.join(categories)}) within {minutes:g} "
            "minutes: it looks like someone mapping the policy's boundaries.",
            accounts=(account,), key_ids=found["key_ids"], routes=found["routes"],
            categories=tuple(categories),
            measures={"categories": len(categories), "events": len(events)},
            evidence=evidence(events))


def _hit(event: MonitorEvent) -> bool:
    return bool(event.categories) and event.decision in ("block", "flag")
