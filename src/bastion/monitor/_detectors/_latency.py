"""Latency spikes: a route's 95th-percentile check latency against its baseline."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bastion.monitor._alert import Alert, evidence
from bastion.monitor._baseline import Baseline
from bastion.monitor._detector import Detector, DetectorSettings, StateEntry, register_detector
from bastion.monitor._event import MonitorEvent


class LatencySettings(DetectorSettings):
    """Bucket length, baseline and thresholds (defaults tuned on the dev day)."""

    bucket_s: float = 300.0
    alpha: float = 0.1
    window: int = 12
    k: float = 4.0
    floor: float = 0.15
    """Least spread of log(p95): 0.15 is about +16 %."""
    min_events: int = 50
    check_every: int = 10
    min_ratio: float = 3.0
    """The p95 must also be this many times the baseline level."""


@dataclass
class _Bucket:
    index: int
    latencies: list[float] = field(default_factory=list)
    events: list[MonitorEvent] = field(default_factory=list)
    fired: bool = False


@register_detector
class LatencySpike(Detector):
    """Per route, the p95 of check latency in the current bucket against an EWMA/MAD baseline
    of log(p95) over past buckets; checked every ``check_every`` events once the bucket holds
    ``min_events``."""

    name = "latency-spike"
    Settings = LatencySettings

    def __init__(self, settings: LatencySettings | None = None) -> None:
        s = self.options = settings or LatencySettings()
        super().__init__(s)
        self.buckets: dict[str, _Bucket] = {}
        self.baselines: dict[str, Baseline] = {}

    def _baseline(self, route: str) -> Baseline:
        s = self.options
        found = self.baselines.get(route)
        if found is None:
            found = self.baselines[route] = Baseline(alpha=s.alpha, window=s.window, k=s.k,
                                                     floor=s.floor)
        return found

    def observe(self, events: Sequence[MonitorEvent]) -> list[Alert]:
        """Collect latencies per route; alert when a bucket's p95 jumps."""
        alerts = []
        for event in events:
            if event.direction == "request":
                continue
            bucket = self._bucket(event)
            bucket.latencies.append(event.latency_ms)
            bucket.events.append(event)
            n = len(bucket.latencies)
            if bucket.fired or n < self.options.min_events or n % self.options.check_every:
                continue
            p95 = float(np.percentile(bucket.latencies, 95))
            baseline = self._baseline(event.route)
            level = math.exp(baseline.level or 0.0)
            if (baseline.ready and math.log(max(p95, 1e-3)) > baseline.threshold()
                    and p95 >= self.options.min_ratio * level):
                bucket.fired = True
                alerts.append(self._alert(event.route, p95, level, bucket))
        return alerts

    def _bucket(self, event: MonitorEvent) -> _Bucket:
        index = int(event.at // self.options.bucket_s)
        bucket = self.buckets.get(event.route)
        if bucket is None or bucket.index != index:
            if bucket is not None and len(bucket.latencies) >= self.options.min_events:
                p95 = float(np.percentile(bucket.latencies, 95))
                self._baseline(event.route).update(math.log(max(p95, 1e-3)))
            bucket = self.buckets[event.route] = _Bucket(index)
        return bucket

    def dump_state(self, since: float) -> dict[str, StateEntry]:
        """Each route's baseline and current bucket (its latencies and slowest events)."""
        out = {}
        for route, bucket in self.buckets.items():
            at = bucket.events[-1].at if bucket.events else bucket.index * self.options.bucket_s
            if at < since:
                continue
            slowest = sorted(bucket.events, key=lambda e: e.latency_ms)[-8:]
            out[route] = StateEntry(at, {
                "baseline": self._baseline(route).dump(),
                "bucket": {"index": bucket.index, "latencies": bucket.latencies,
                           "fired": bucket.fired,
                           # the alert names the slowest 8 events: those are all it needs
                           "events": [e.to_json() for e in sorted(slowest, key=lambda e: e.at)]}})
        return out

    def load_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Resume the baselines and buckets :meth:`dump_state` kept."""
        for route, found in state.items():
            self._baseline(route).load(found["baseline"])
            kept = found["bucket"]
            self.buckets[route] = _Bucket(
                int(kept["index"]), [float(v) for v in kept["latencies"]],
                [MonitorEvent.from_json(e) for e in kept["events"]], bool(kept["fired"]))

    def _alert(self, route: str, p95: float, level: float, bucket: _Bucket) -> Alert:
        slowest = sorted(bucket.events, key=lambda e: e.latency_ms)[-8:]
        minutes = self.options.bucket_s / 60
        return Alert(
            self.name, f"{self.name}:{route}", "medium", bucket.events[-1].at,
            f"Check latency spike on route {route}",
            f"p95 check latency on route {route!r} is {p95:.0f} ms over the last "
            f"{len(bucket.latencies)} checks of this {minutes:g}-minute bucket; its baseline "
            f"p95 is {level:.0f} ms.",
            routes=(route,),
            measures={"observed_p95_ms": round(p95, 1), "baseline_p95_ms": round(level, 1),
                      "checks": len(bucket.latencies)},
            evidence=evidence(sorted(slowest, key=lambda e: e.at)))
