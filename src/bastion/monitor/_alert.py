"""Alerts: what a detector says, with the evidence a person needs to judge it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bastion.monitor._event import MonitorEvent

Severity = Literal["low", "medium", "high", "critical"]
SEVERITY_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}
EVIDENCE_EVENTS = 8
"""The most events an alert carries as evidence."""


@dataclass(frozen=True)
class Evidence:
    """One event behind an alert; ``sample`` is the redacted prompt, when kept."""

    request_id: str
    at: float
    account_id: str | None
    key_id: str | None
    route: str
    decision: str
    categories: tuple[str, ...]
    latency_ms: float
    sample: str | None

    @classmethod
    def of(cls, event: MonitorEvent) -> Evidence:
        """The evidence an event gives."""
        return cls(event.request_id, event.at, event.account_id, event.key_id, event.route,
                   event.decision, event.categories, event.latency_ms, event.sample)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"request_id": self.request_id, "at": self.at, "account_id": self.account_id,
                "key_id": self.key_id, "route": self.route, "decision": self.decision,
                "categories": list(self.categories), "latency_ms": self.latency_ms,
                "sample": self.sample}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        """The evidence :meth:`to_json` wrote."""
        return cls(str(data["request_id"]), float(data["at"]), data.get("account_id"),
                   data.get("key_id"), str(data.get("route") or ""), str(data["decision"]),
                   tuple(data.get("categories") or ()), float(data.get("latency_ms") or 0.0),
                   data.get("sample"))


def evidence(events: Iterable[MonitorEvent], limit: int = EVIDENCE_EVENTS) -> tuple[Evidence, ...]:
    """Evidence from the newest ``limit`` events."""
    return tuple(Evidence.of(e) for e in list(events)[-limit:])


@dataclass(frozen=True)
class Alert:
    """One finding of one detector.

    Attributes:
        detector: the detector's registered name.
        key: what makes two alerts "the same thing" (e.g. ``block-rate:account:acct_1``):
            alerts with one key are deduplicated into one incident.
        severity: ``low`` .. ``critical``.
        at: stream time of the event that raised it (epoch seconds).
        title: one line for a list.
        summary: a few sentences: what was seen against what was expected.
        accounts: the accounts involved (links for the dashboard and the co-pilot).
        key_ids: the API key ids involved.
        routes: the routes involved.
        categories: the policy categories involved.
        cluster: the cluster id, for alerts about a cluster of similar blocked prompts.
        measures: the numbers behind it (``observed``, ``threshold``, ``baseline``...).
        evidence: events behind it, newest last, with redacted samples where kept.
    """

    detector: str
    key: str
    severity: Severity
    at: float
    title: str
    summary: str
    accounts: tuple[str, ...] = ()
    key_ids: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    cluster: str | None = None
    measures: Mapping[str, float] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()

    @property
    def id(self) -> str:
        """A stable id from the key and time (``alr_`` + 20 hex digits)."""
        digest = hashlib.sha256(f"{self.key}@{self.at!r}".encode()).hexdigest()
        return "alr_" + digest[:20]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what the webhook and the API send)."""
        return {"id": self.id, "detector": self.detector, "key": self.key,
                "severity": self.severity, "at": self.at, "title": self.title,
                "summary": self.summary, "accounts": list(self.accounts),
                "key_ids": list(self.key_ids), "routes": list(self.routes),
                "categories": list(self.categories), "cluster": self.cluster,
                "measures": dict(self.measures),
                "evidence": [e.to_json() for e in self.evidence]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alert:
        """The alert :meth:`to_json` wrote."""
        return cls(str(data["detector"]), str(data["key"]), data["severity"],
                   float(data["at"]), str(data["title"]), str(data["summary"]),
                   tuple(data.get("accounts") or ()), tuple(data.get("key_ids") or ()),
                   tuple(data.get("routes") or ()), tuple(data.get("categories") or ()),
                   data.get("cluster"), dict(data.get("measures") or {}),
                   tuple(Evidence.from_json(e) for e in data.get("evidence") or ()))


def involved(events: Sequence[MonitorEvent]) -> dict[str, tuple[str, ...]]:
    """The accounts, keys, routes and categories in ``events``, sorted, as Alert fields."""
    return {
        "accounts": tuple(sorted({e.account_id for e in events if e.account_id})),
        "key_ids": tuple(sorted({e.key_id for e in events if e.key_id})),
        "routes": tuple(sorted({e.route for e in events if e.route})),
        "categories": tuple(sorted({c for e in events for c in e.categories})),
    }
