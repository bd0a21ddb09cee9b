"""A sudden rise in blocked prompts per account, per policy category and per route."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.monitor._alert import Alert, Severity, evidence, involved
from bastion.monitor._baseline import Baseline
from bastion.monitor._detector import Detector, DetectorSettings, StateEntry, register_detector
from bastion.monitor._detectors._series import Bucket, BucketSeries
from bastion.monitor._event import MonitorEvent


class BlockRateSettings(DetectorSettings):
    """Bucket length, baseline and thresholds (defaults tuned on the dev day)."""

    bucket_s: float = 600.0
    alpha: float = 0.1
    window: int = 12
    k: float = 4.0
    account_min_blocks: int = 8
    account_min_rate: float = 0.5
    global_min_blocks: int = 12
    global_k: float = 5.0
    global_floor: float = 2.0


@register_detector
class BlockRateRise(Detector):
    """Blocks in the current bucket against each series' baseline (EWMA level, MAD spread).

    Accounts are sparse, so an account alerts on ``account_min_blocks`` blocks at a block rate
    of ``account_min_rate`` or more, above its own baseline; categories and routes alert when
    their block count clears their baseline by ``k`` spreads and ``global_min_blocks``.
    It fires as soon as the bucket crosses the line, not when it ends.
    """

    name = "block-rate"
    Settings = BlockRateSettings

    def __init__(self, settings: BlockRateSettings | None = None) -> None:
        s = self.options = settings or BlockRateSettings()
        super().__init__(s)
        self.accounts = BucketSeries(s.bucket_s, lambda: Baseline(
            alpha=s.alpha, window=s.window, k=s.k, floor=1.0, poisson=True, warmup=0))
        self.globals = BucketSeries(s.bucket_s, lambda: Baseline(
            alpha=s.alpha, window=s.window, k=s.global_k, floor=s.global_floor, poisson=True))

    def observe(self, events: Sequence[MonitorEvent]) -> list[Alert]:
        """Count each event per account, route and blocked category; alert on a rise."""
        alerts = []
        for event in events:
            if event.account_id:
                key = f"account:{event.account_id}"
                bucket = self.accounts.add(key, event, hit=event.blocked)
                if event.blocked and self._account_rise(key, bucket):
                    alerts.append(self._alert(key, bucket, self.accounts))
            keys = [f"route:{event.route}"]
            if event.blocked:
                keys += [f"category:{c}" for c in event.categories]
            for key in keys:
                bucket = self.globals.add(key, event, hit=event.blocked)
                if event.blocked and self._global_rise(key, bucket):
                    alerts.append(self._alert(key, bucket, self.globals))
        return alerts

    def dump_state(self, since: float) -> dict[str, StateEntry]:
        """Each account's, route's and category's baseline and current bucket."""
        return {**self.accounts.dump(since), **self.globals.dump(since)}

    def load_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Resume the baselines and buckets :meth:`dump_state` kept."""
        self.accounts.load({k: v for k, v in state.items() if k.startswith("account:")})
        self.globals.load({k: v for k, v in state.items() if not k.startswith("account:")})

    def _account_rise(self, key: str, bucket: Bucket) -> bool:
        s = self.options
        if bucket.fired or bucket.hits < s.account_min_blocks:
            return False
        if bucket.hits / max(bucket.total, 1) < s.account_min_rate:
            return False
        return bucket.hits > self.accounts.baseline(key).threshold()

    def _global_rise(self, key: str, bucket: Bucket) -> bool:
        baseline = self.globals.baseline(key)
        if bucket.fired or bucket.hits < self.options.global_min_blocks or not baseline.ready:
            return False
        return bucket.hits > baseline.threshold()

    def _alert(self, key: str, bucket: Bucket, series: BucketSeries) -> Alert:
        bucket.fired = True
        baseline = series.baseline(key)
        events = list(bucket.recent)
        found = involved(events)
        # A route or category rise names the accounts behind most of it, so it groups with
        # an account's own alert into one incident.
        top = tuple(sorted(a for a, n in bucket.accounts.items() if n >= 0.3 * bucket.hits))
        accounts = found["accounts"] if key.startswith("account:") else top
        dimension, _, value = key.partition(":")
        severity: Severity = "high" if dimension == "account" else "medium"
        minutes = self.options.bucket_s / 60
        return Alert(
            self.name, f"{self.name}:{key}", severity, events[-1].at,
            f"Blocked prompts rising for {dimension} {value}",
            f"{bucket.hits} blocked of {bucket.total} checks for {dimension} {value!r} in "
            f"{minutes:g} minutes; its baseline is {baseline.level or 0.0:.1f} per "
            f"{minutes:g} minutes (alert above {baseline.threshold():.1f}).",
            accounts=accounts, key_ids=found["key_ids"], routes=found["routes"],
            categories=found["categories"],
            measures={"observed": bucket.hits, "checks": bucket.total,
                      "baseline": round(baseline.level or 0.0, 3),
                      "threshold": round(baseline.threshold(), 3)},
            evidence=evidence(events))
