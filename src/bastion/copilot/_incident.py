"""What the co-pilot reads: an incident with its alerts, accounts, keys and evidence.

The monitor owns incidents and alerts; the co-pilot depends only on this narrow, read-only
shape (:class:`IncidentLike`, :class:`AlertLike`), so it triages the monitor's incidents, ones
built in tests, or ones loaded from JSON alike. :class:`Alert` and :class:`Incident` are plain
frozen implementations of it.

Every string field here may hold hostile text (a blocked prompt, an attacker-chosen account
name): the co-pilot treats all of it as data. Only the structured fields (``account_id``,
``key_id``, ``category``, ``kind``, ``severity``) decide which actions a playbook proposes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from bastion.errors import InputError

Severity = Literal["low", "medium", "high", "critical"]
SEVERITY_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}


@runtime_checkable
class AlertLike(Protocol):
    """One alert as the co-pilot reads it (the monitor's alerts have these attributes)."""

    @property
    def id(self) -> str:
        """Stable alert id."""
    @property
    def kind(self) -> str:
        """The detector that raised it, e.g. ``block_rate``, ``cluster``, ``probing``."""
    @property
    def severity(self) -> str:
        """``low``, ``medium``, ``high`` or ``critical``."""
    @property
    def account_id(self) -> str | None:
        """The account it concerns, if one."""
    @property
    def key_id(self) -> str | None:
        """The API key it concerns, if one."""
    @property
    def category(self) -> str | None:
        """The policy category (``JBK``, ``VIO``...) it concerns, if one."""
    @property
    def summary(self) -> str:
        """The detector's one-line description."""
    @property
    def at(self) -> datetime:
        """When it was raised."""
    @property
    def count(self) -> int:
        """How many events it stands for."""
    @property
    def evidence(self) -> Sequence[str]:
        """Example prompts or events (already redacted as the policy requires)."""


@runtime_checkable
class IncidentLike(Protocol):
    """An incident: alerts grouped by the monitor, with an id and a title."""

    @property
    def id(self) -> str:
        """Stable incident id."""
    @property
    def title(self) -> str:
        """A short title."""
    @property
    def alerts(self) -> Sequence[AlertLike]:
        """The incident's alerts."""


@dataclass(frozen=True)
class Alert:
    """A plain alert (see :class:`AlertLike`)."""

    id: str
    kind: str
    severity: Severity
    summary: str
    at: datetime
    account_id: str | None = None
    key_id: str | None = None
    category: str | None = None
    count: int = 1
    evidence: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alert:
        """Read an alert from JSON (``at`` in ISO 8601).

        Raises:
            InputError: a field is missing or has the wrong shape.
        """
        try:
            severity = str(data["severity"])
            if severity not in SEVERITY_RANK:
                raise InputError(f"alert {data.get('id')!r}: severity {severity!r} is not one "
                                 f"of {list(SEVERITY_RANK)}")
            return cls(id=str(data["id"]), kind=str(data["kind"]),
                       severity=severity,  # type: ignore[arg-type]
                       summary=str(data.get("summary", "")),
                       at=datetime.fromisoformat(str(data["at"])),
                       account_id=_opt(data.get("account_id")), key_id=_opt(data.get("key_id")),
                       category=_opt(data.get("category")), count=int(data.get("count", 1)),
                       evidence=tuple(str(e) for e in data.get("evidence", ())))
        except KeyError as exc:
            raise InputError(f"alert is missing field {exc.args[0]!r}; each alert needs id, "
                             "kind, severity and at") from exc
        except (TypeError, ValueError) as exc:
            raise InputError(f"alert {data.get('id')!r} is malformed: {exc}") from exc


@dataclass(frozen=True)
class Incident:
    """A plain incident (see :class:`IncidentLike`)."""

    id: str
    title: str
    alerts: tuple[Alert, ...] = field(default_factory=tuple)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        """Read an incident from JSON: ``{"id", "title", "alerts": [...]}``.

        Raises:
            InputError: the incident or one of its alerts is malformed.
        """
        if not isinstance(data, Mapping) or "id" not in data:
            raise InputError("an incident is a JSON object with 'id', 'title' and 'alerts'")
        alerts = data.get("alerts", [])
        if not isinstance(alerts, list) or not alerts:
            raise InputError(f"incident {data['id']!r} has no alerts; give it a non-empty "
                             "'alerts' list")
        return cls(str(data["id"]), str(data.get("title", "")),
                   tuple(Alert.from_dict(a) for a in alerts))


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def accounts_of(incident: IncidentLike) -> list[str]:
    """The incident's account ids, most alerted first (ties by first appearance)."""
    counts: dict[str, int] = {}
    for alert in incident.alerts:
        if alert.account_id:
            counts[alert.account_id] = counts.get(alert.account_id, 0) + alert.count
    return sorted(counts, key=lambda a: -counts[a])


def worst(alerts: Sequence[AlertLike]) -> str:
    """The highest severity among ``alerts``."""
    return max((a.severity for a in alerts), key=lambda s: SEVERITY_RANK.get(s, 0),
               default="low")
