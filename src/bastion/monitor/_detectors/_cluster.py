"""A new cluster of similar blocked prompts spreading across accounts.

Blocked prompts with a (redacted) sample are embedded with the shipped model
(:func:`bastion.classify.embed`, one batch per call) and clustered online, leader-style: a
prompt joins the most similar live cluster when the cosine similarity to its centroid is at
least ``similarity``, else it starts a new one. A cluster lives while it keeps growing within
``window_s``. It alerts when ``min_accounts`` distinct accounts have sent its prompts, and
again each time that number doubles (the incident grows with it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bastion.monitor._alert import Alert, Evidence
from bastion.monitor._detector import Detector, DetectorSettings, StateEntry, register_detector
from bastion.monitor._event import MonitorEvent

Embed = Callable[[list[str]], np.ndarray]


class ClusterSettings(DetectorSettings):
    """Similarity, window and spread threshold (defaults tuned on the dev day)."""

    similarity: float = 0.92
    window_s: float = 3 * 3600.0
    min_accounts: int = 5


@dataclass
class _Cluster:
    id: str
    centroid: np.ndarray
    size: int
    last_at: float
    next_alert: int
    by_account: dict[str, MonitorEvent] = field(default_factory=dict)


def _default_embed(texts: list[str]) -> np.ndarray:
    from bastion.classify import embed  # noqa: PLC0415 - loads the model only when needed

    return embed(texts)


@register_detector
class ClusterSpread(Detector):
    """Clusters recent blocked prompts; alerts when one cluster spans many accounts."""

    name = "cluster-spread"
    Settings = ClusterSettings
    accepts = ("embed",)

    def __init__(self, settings: ClusterSettings | None = None, *,
                 embed: Embed | None = None) -> None:
        s = self.options = settings or ClusterSettings()
        super().__init__(s)
        self.embed = embed or _default_embed
        self.clusters: list[_Cluster] = []
        self.embedded = 0

    def observe(self, events: Sequence[MonitorEvent]) -> list[Alert]:
        """Embed this batch's blocked samples (one call), cluster them, alert on spread."""
        blocked = [e for e in events if e.blocked and e.sample and e.account_id]
        if not blocked:
            return []
        vectors = np.asarray(self.embed([e.sample or "" for e in blocked]), np.float32)
        self.embedded += len(blocked)
        alerts = []
        for event, vector in zip(blocked, vectors, strict=True):
            cluster = self._place(event, vector)
            if len(cluster.by_account) >= cluster.next_alert:
                cluster.next_alert *= 2
                alerts.append(self._alert(cluster))
        return alerts

    def dump_state(self, since: float) -> dict[str, StateEntry]:
        """Each live cluster: centroid, size, accounts (their latest event) and next alert."""
        return {c.id: StateEntry(c.last_at, {
            "centroid": [float(v) for v in c.centroid], "size": c.size,
            "next_alert": c.next_alert,
            "by_account": {a: e.to_json() for a, e in c.by_account.items()}})
            for c in self.clusters if c.last_at >= since}

    def load_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Resume the clusters :meth:`dump_state` kept (oldest first, as they were made)."""
        for key, found in state.items():
            by_account = {a: MonitorEvent.from_json(e)
                          for a, e in (found.get("by_account") or {}).items()}
            last_at = max((e.at for e in by_account.values()), default=0.0)
            self.clusters.append(_Cluster(key, np.asarray(found["centroid"], np.float32),
                                          int(found["size"]), last_at,
                                          int(found["next_alert"]), by_account))
        self.clusters.sort(key=lambda c: c.last_at)

    def _place(self, event: MonitorEvent, vector: np.ndarray) -> _Cluster:
        horizon = event.at - self.options.window_s
        self.clusters = [c for c in self.clusters if c.last_at >= horizon]
        best: _Cluster | None = None
        if self.clusters:
            sims = np.stack([c.centroid for c in self.clusters]) @ vector
            index = int(np.argmax(sims))
            if sims[index] >= self.options.similarity:
                best = self.clusters[index]
        if best is None:
            best = _Cluster(f"cluster-{event.request_id}", vector.copy(), 0, event.at,
                            self.options.min_accounts)
            self.clusters.append(best)
        centroid = best.centroid * best.size + vector
        best.centroid = centroid / max(float(np.linalg.norm(centroid)), 1e-9)
        best.size += 1
        best.last_at = event.at
        best.by_account[event.account_id or ""] = event
        return best

    def _alert(self, cluster: _Cluster) -> Alert:
        latest = sorted(cluster.by_account.values(), key=lambda e: e.at)
        accounts = tuple(sorted(cluster.by_account))
        categories = tuple(sorted({c for e in latest for c in e.categories}))
        return Alert(
            self.name, f"{self.name}:{cluster.id}",
            "critical" if len(accounts) >= 4 * self.options.min_accounts else "high",
            latest[-1].at, f"One attack spreading across {len(accounts)} accounts",
            f"{cluster.size} blocked prompts from {len(accounts)} accounts are near-copies of "
            f"each other (cosine similarity >= {self.options.similarity:g} to their centroid) "
            f"within {self.options.window_s / 3600:g} hours: one attack shared or scripted "
            "across accounts.",
            accounts=accounts, key_ids=tuple(sorted({e.key_id for e in latest if e.key_id})),
            routes=tuple(sorted({e.route for e in latest})), categories=categories,
            cluster=cluster.id,
            measures={"accounts": len(accounts), "prompts": cluster.size},
            evidence=tuple(Evidence.of(e) for e in latest[-8:]))
