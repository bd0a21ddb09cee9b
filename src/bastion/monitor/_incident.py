"""Incidents: alerts deduplicated and grouped into the things a person answers.

An alert joins an incident that is not resolved when

1. it has the same ``key`` (the same detector saw the same thing again) and the incident was
   updated within ``dedupe_s``; or
2. it names an account the incident names, within ``group_s``; or
3. it names the same cluster, within ``group_s``; or
4. both are about a route only (no account, no category: failures, latency) and share a
   route, within ``group_s``.

Otherwise it opens a new incident. :func:`group_alert` is the rule; :class:`IncidentBook` keeps
incidents in memory (replays, tests) and :class:`~bastion.monitor.IncidentStore` in the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from bastion.monitor._alert import SEVERITY_RANK, Alert, Evidence, Severity

Status = Literal["open", "acknowledged", "resolved"]
STATUSES: tuple[Status, ...] = ("open", "acknowledged", "resolved")
GROUP_S = 3600.0
DEDUPE_S = 6 * 3600.0
MAX_ALERTS = 100
"""The most alerts an incident keeps (the newest); repeats beyond it only move its time."""


@dataclass(frozen=True)
class Incident:
    """Grouped alerts about one thing, and what people did about it.

    Attributes:
        id: ``inc_`` + 20 hex digits.
        status: ``open``, ``acknowledged`` or ``resolved``.
        severity: the highest severity of its alerts.
        title: the first alert's title (its latest repeat's, once repeated).
        opened_at: stream time of the first alert.
        updated_at: stream time of the newest alert.
        accounts: every account its alerts name (links for the dashboard and co-pilot).
        key_ids: every API key id its alerts name.
        alerts: its alerts, oldest first.
        status_by: who acknowledged or resolved it.
        status_reason: why.
    """

    id: str
    status: Status
    severity: Severity
    title: str
    opened_at: float
    updated_at: float
    accounts: tuple[str, ...]
    key_ids: tuple[str, ...]
    alerts: tuple[Alert, ...]
    status_by: str | None = None
    status_reason: str | None = None

    @property
    def detectors(self) -> tuple[str, ...]:
        """The detectors that raised its alerts, sorted."""
        return tuple(sorted({a.detector for a in self.alerts}))

    @property
    def clusters(self) -> tuple[str, ...]:
        """The prompt clusters its alerts name, sorted."""
        return tuple(sorted({a.cluster for a in self.alerts if a.cluster}))

    @property
    def routes(self) -> tuple[str, ...]:
        """The routes its alerts name, sorted."""
        return tuple(sorted({r for a in self.alerts for r in a.routes}))

    @property
    def categories(self) -> tuple[str, ...]:
        """The policy categories its alerts name, sorted."""
        return tuple(sorted({c for a in self.alerts for c in a.categories}))

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """Every alert's evidence, one entry per request, oldest first."""
        seen: dict[str, Evidence] = {}
        for alert in self.alerts:
            for item in alert.evidence:
                seen.setdefault(item.request_id, item)
        return tuple(sorted(seen.values(), key=lambda e: e.at))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what the webhook and the API send)."""
        return {"id": self.id, "status": self.status, "severity": self.severity,
                "title": self.title, "opened_at": self.opened_at,
                "updated_at": self.updated_at, "accounts": list(self.accounts),
                "key_ids": list(self.key_ids), "clusters": list(self.clusters),
                "routes": list(self.routes), "categories": list(self.categories),
                "detectors": list(self.detectors), "status_by": self.status_by,
                "status_reason": self.status_reason,
                "alerts": [a.to_json() for a in self.alerts]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Incident:
        """The incident :meth:`to_json` wrote."""
        return cls(str(data["id"]), data["status"], data["severity"], str(data["title"]),
                   float(data["opened_at"]), float(data["updated_at"]),
                   tuple(data.get("accounts") or ()), tuple(data.get("key_ids") or ()),
                   tuple(Alert.from_json(a) for a in data.get("alerts") or ()),
                   data.get("status_by"), data.get("status_reason"))


def open_incident(alert: Alert) -> Incident:
    """A new incident holding one alert."""
    digest = hashlib.sha256(alert.id.encode("ascii")).hexdigest()
    return Incident("inc_" + digest[:20], "open", alert.severity, alert.title, alert.at,
                    alert.at, alert.accounts, alert.key_ids, (alert,))


def with_alert(incident: Incident, alert: Alert) -> Incident:
    """``incident`` with ``alert`` added (severity, accounts, keys and time follow)."""
    severity = max(incident.severity, alert.severity, key=SEVERITY_RANK.__getitem__)
    # A repeat of the first alert says where the thing stands now ("spreading across 20").
    title = alert.title if alert.key == incident.alerts[0].key else incident.title
    return replace(incident, severity=severity, title=title,
                   updated_at=max(incident.updated_at, alert.at),
                   accounts=tuple(sorted({*incident.accounts, *alert.accounts})),
                   key_ids=tuple(sorted({*incident.key_ids, *alert.key_ids})),
                   alerts=(*incident.alerts, alert)[-MAX_ALERTS:])


def group_alert(incidents: Iterable[Incident], alert: Alert, *, group_s: float = GROUP_S,
                dedupe_s: float = DEDUPE_S) -> Incident | None:
    """The incident ``alert`` belongs to (see the module docstring), or ``None``."""
    live = sorted((i for i in incidents if i.status != "resolved"),
                  key=lambda i: i.updated_at, reverse=True)
    for incident in live:
        if (alert.at - incident.updated_at <= dedupe_s
                and any(a.key == alert.key for a in incident.alerts)):
            return incident
    for incident in live:
        if alert.at - incident.updated_at > group_s:
            continue
        if set(alert.accounts) & set(incident.accounts):
            return incident
        if alert.cluster and alert.cluster in incident.clusters:
            return incident
        if _route_only(alert) and all(_route_only(a) for a in incident.alerts) and (
                set(alert.routes) & set(incident.routes)):
            return incident
    return None


def _route_only(alert: Alert) -> bool:
    return not alert.accounts and not alert.categories and not alert.cluster


class IncidentBook:
    """Incidents kept in memory (a replay's, or a test's).

    Lifetime: one per stream. Not thread-safe.
    """

    def __init__(self, *, group_s: float = GROUP_S, dedupe_s: float = DEDUPE_S) -> None:
        self.group_s, self.dedupe_s = group_s, dedupe_s
        self.incidents: dict[str, Incident] = {}

    def add(self, alert: Alert) -> Incident:
        """File ``alert``: into the incident it belongs to, or a new one."""
        found = group_alert(self.incidents.values(), alert, group_s=self.group_s,
                            dedupe_s=self.dedupe_s)
        incident = open_incident(alert) if found is None else with_alert(found, alert)
        self.incidents[incident.id] = incident
        return incident

    def list(self, status: Status | None = None) -> list[Incident]:
        """Incidents (of one status, if given), most severe first, then newest first."""
        chosen = [i for i in self.incidents.values() if status is None or i.status == status]
        return sorted(chosen, key=lambda i: (-SEVERITY_RANK[i.severity], -i.updated_at))
