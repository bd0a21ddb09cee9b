"""Spikes of fail-open decisions and of classifier errors, per route."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.monitor._alert import Alert, evidence, involved
from bastion.monitor._baseline import Baseline
from bastion.monitor._detector import Detector, DetectorSettings, StateEntry, register_detector
from bastion.monitor._detectors._series import BucketSeries
from bastion.monitor._event import MonitorEvent


class FailureSettings(DetectorSettings):
    """Bucket length, baseline and thresholds (defaults tuned on the dev day)."""

    bucket_s: float = 300.0
    alpha: float = 0.1
    window: int = 12
    k: float = 5.0
    floor: float = 1.0
    min_count: int = 8


@register_detector
class FailureSpike(Detector):
    """Fail-open decisions (text let through unchecked) and classifier errors (refused
    requests) per route and bucket, against each series' baseline; fires as soon as the
    bucket crosses ``max(min_count, level + k * spread)``."""

    name = "failure-spike"
    Settings = FailureSettings

    def __init__(self, settings: FailureSettings | None = None) -> None:
        s = self.options = settings or FailureSettings()
        super().__init__(s)
        self.series = BucketSeries(s.bucket_s, lambda: Baseline(
            alpha=s.alpha, window=s.window, k=s.k, floor=s.floor, poisson=True))

    def observe(self, events: Sequence[MonitorEvent]) -> list[Alert]:
        """Count failures per route; alert on a spike."""
        alerts = []
        for event in events:
            for kind, hit in (("fail_open", event.fail_open),
                              ("error", event.error and not event.fail_open)):
                key = f"{kind}:{event.route}"
                bucket = self.series.add(key, event, hit=hit)
                if not hit or bucket.fired or bucket.hits < self.options.min_count:
                    continue
                baseline = self.series.baseline(key)
                # A route with no history yet alerts on min_count alone: failures are never
                # normal, and a new route must not be a blind spot.
                if not baseline.ready or bucket.hits > baseline.threshold():
                    bucket.fired = True
                    alerts.append(self._alert(kind, event.route, bucket.hits, bucket.total,
                                              baseline, list(bucket.recent)))
        return alerts

    def dump_state(self, since: float) -> dict[str, StateEntry]:
        """Each route's failure baselines and current buckets."""
        return self.series.dump(since)

    def load_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Resume the baselines and buckets :meth:`dump_state` kept."""
        self.series.load(state)

    def _alert(self, kind: str, route: str, hits: int, total: int, baseline: Baseline,
               events: list[MonitorEvent]) -> Alert:
        found = involved(events)
        what = ("fail-open decisions (texts let through unchecked)" if kind == "fail_open"
                else "classifier errors (requests refused)")
        minutes = self.options.bucket_s / 60
        return Alert(
            self.name, f"{self.name}:{kind}:{route}",
            "critical" if kind == "fail_open" else "high", events[-1].at,
            f"Spike of {kind.replace('_', '-')} on route {route}",
            f"{hits} {what} of {total} checks on route {route!r} in {minutes:g} minutes; "
            f"the baseline is {baseline.level or 0.0:.1f} (alert above "
            f"{max(baseline.threshold(), self.options.min_count):.1f}). Check the "
            "classifier backend.",
            routes=(route,), categories=found["categories"],
            measures={"observed": hits, "checks": total,
                      "baseline": round(baseline.level or 0.0, 3),
                      "threshold": round(baseline.threshold(), 3)},
            evidence=evidence(events))
