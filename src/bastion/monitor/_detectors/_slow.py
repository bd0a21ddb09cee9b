"""Slow, persistent attackers: blocked prompts at a high rate, spread over many hours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.monitor._alert import Alert, evidence, involved
from bastion.monitor._detector import Detector, DetectorSettings, StateEntry, register_detector
from bastion.monitor._detectors._window import AccountWindows
from bastion.monitor._event import MonitorEvent


class SlowSettings(DetectorSettings):
    """Window and thresholds (defaults tuned on the dev day)."""

    window_s: float = 12 * 3600.0
    min_blocks: int = 8
    min_hours: int = 5
    min_rate: float = 0.4


@register_detector
class SlowAttacker(Detector):
    """An account with ``min_blocks`` blocked prompts spread over ``min_hours`` distinct hours
    of the last ``window_s``, at a block rate of ``min_rate`` or more: too slow for any
    per-bucket rise to notice, too steady to be an accident."""

    name = "slow-attacker"
    Settings = SlowSettings

    def __init__(self, settings: SlowSettings | None = None) -> None:
        s = self.options = settings or SlowSettings()
        super().__init__(s)
        self.windows = AccountWindows(s.window_s)

    def observe(self, events: Sequence[MonitorEvent]) -> list[Alert]:
        """Track each account's long window; alert on a steady attacker."""
        alerts = []
        s = self.options
        for event in events:
            if event.direction == "output":
                continue  # one event per request: the prompt's
            window = self.windows.add(event)
            if (window is None or not event.blocked
                    or self.windows.cooling(event.account_id or "", event.at)):
                continue
            blocked = [e for e in window if e.blocked]
            if len(blocked) < s.min_blocks or len(blocked) / len(window) < s.min_rate:
                continue
            hours = {int(e.at // 3600) for e in blocked}
            if len(hours) >= s.min_hours:
                self.windows.alerted(event.account_id or "", event.at)
                alerts.append(self._alert(blocked, len(window), len(hours)))
        return alerts

    def dump_state(self, since: float) -> dict[str, StateEntry]:
        """Each account's window of events and cool-down."""
        return self.windows.dump(since)

    def load_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Resume the windows :meth:`dump_state` kept."""
        self.windows.load(state)

    def _alert(self, blocked: list[MonitorEvent], total: int, hours: int) -> Alert:
        account = blocked[-1].account_id or ""
        found = involved(blocked)
        return Alert(
            self.name, f"{self.name}:account:{account}", "high", blocked[-1].at,
            f"Account {account} keeps trying, slowly",
            f"Account {account!r} had {len(blocked)} of {total} prompts blocked, spread over "
            f"{hours} different hours of the last {self.options.window_s / 3600:g} hours: a "
            "slow, persistent attempt that stays under per-minute limits.",
            accounts=(account,), key_ids=found["key_ids"], routes=found["routes"],
            categories=found["categories"],
            measures={"blocked": len(blocked), "prompts": total, "hours": hours},
            evidence=evidence(blocked))
