"""Incidents in the store: filed from alerts, listed, acknowledged and resolved (audited).

Filing uses the same rule as a replay (:func:`~bastion.monitor.group_alert`) against the
incidents not yet resolved. Acknowledging and resolving need a person and a reason; each change
is written to the audit chain in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import desc, select
from sqlalchemy.orm import Session, sessionmaker

from bastion.errors import InputError, NotFoundError
from bastion.monitor._alert import Alert, Severity
from bastion.monitor._audit import AuditLog
from bastion.monitor._incident import (
    DEDUPE_S,
    GROUP_S,
    STATUSES,
    Incident,
    Status,
    group_alert,
    open_incident,
    with_alert,
)
from bastion.monitor._tables import AlertRow, IncidentRow

LIVE: tuple[Status, ...] = ("open", "acknowledged")
MIN_REASON = 3


class IncidentStore:
    """Incidents and their alerts over the store's session factory.

    Lifetime: one per process. Thread-safe: each call opens its own session; filing takes the
    write lock for its transaction, so two writers do not open twin incidents. Failure: an
    unknown incident, a missing reason or a forbidden transition raises
    :class:`~bastion.errors.InputError`; database errors propagate.

    Args:
        sessions: the store's session factory.
        audit: where acknowledge/resolve are recorded (default: from the environment).
        group_s: how long after its last alert an incident still groups related alerts.
        dedupe_s: how long it still absorbs repeats of the same alert.
    """

    def __init__(self, sessions: sessionmaker[Session], *, audit: AuditLog | None = None,
                 group_s: float = GROUP_S, dedupe_s: float = DEDUPE_S) -> None:
        self.sessions = sessions
        self.audit = audit or AuditLog.from_env(sessions)
        self.group_s, self.dedupe_s = group_s, dedupe_s

    def record(self, alerts: Sequence[Alert]) -> list[Incident]:
        """File alerts (time order) into incidents; returns each incident touched, as it
        stands after the last alert (new ones included)."""
        if not alerts:
            return []
        touched: dict[str, Incident] = {}
        with self.sessions.begin() as session:
            live = {i.id: i for i in self._load(session, session.execute(
                select(IncidentRow).where(IncidentRow.status.in_(LIVE))
                .with_for_update()).scalars())}
            for alert in alerts:
                found = group_alert(live.values(), alert, group_s=self.group_s,
                                    dedupe_s=self.dedupe_s)
                incident = open_incident(alert) if found is None else with_alert(found, alert)
                live[incident.id] = touched[incident.id] = incident
                self._save(session, incident)
                if session.get(AlertRow, alert.id) is None:
                    session.add(AlertRow(id=alert.id, incident_id=incident.id,
                                         detector=alert.detector, key=alert.key,
                                         severity=alert.severity, at=alert.at,
                                         body=alert.to_json()))
        return list(touched.values())

    def _save(self, session: Session, incident: Incident) -> None:
        row = session.get(IncidentRow, incident.id)
        if row is None:
            row = IncidentRow(id=incident.id, status=incident.status, opened_at=incident.opened_at,
                              title=incident.title)
            session.add(row)
        row.severity, row.updated_at, row.title = (incident.severity, incident.updated_at,
                                                   incident.title)
        row.accounts, row.key_ids = list(incident.accounts), list(incident.key_ids)
        session.flush()

    def _load(self, session: Session, rows: Iterable[IncidentRow]) -> list[Incident]:
        found = list(rows)
        if not found:
            return []
        alerts: dict[str, list[Alert]] = {}
        query = (select(AlertRow).where(AlertRow.incident_id.in_([r.id for r in found]))
                 .order_by(AlertRow.at, AlertRow.id))
        for alert in session.execute(query).scalars():
            alerts.setdefault(alert.incident_id, []).append(Alert.from_json(alert.body))
        return [Incident(r.id, cast("Status", r.status), cast("Severity", r.severity), r.title,
                         r.opened_at, r.updated_at, tuple(r.accounts or ()), tuple(r.key_ids or ()),
                         tuple(alerts.get(r.id, ())), r.status_by, r.status_reason)
                for r in found]

    def incidents(self, status: Status | Sequence[Status] | None = LIVE, *,
                  account: str | None = None, limit: int = 100) -> list[Incident]:
        """Incidents, newest activity first: open and acknowledged by default, ``None`` for
        every status; ``account`` keeps those that name it."""
        statuses = [status] if isinstance(status, str) else list(status or STATUSES)
        bad = sorted(set(statuses) - set(STATUSES))
        if bad:
            raise InputError(f"unknown incident status {bad}; use {list(STATUSES)}")
        query = (select(IncidentRow).where(IncidentRow.status.in_(statuses))
                 .order_by(desc(IncidentRow.updated_at), IncidentRow.id))
        with self.sessions() as session:
            rows = session.execute(query).scalars().all()
            if account is not None:
                rows = [r for r in rows if account in (r.accounts or ())]
            return self._load(session, rows[:limit])

    def incident(self, incident_id: str) -> Incident:
        """One incident with its alerts.

        Raises:
            InputError: no incident has that id.
        """
        with self.sessions() as session:
            row = session.get(IncidentRow, incident_id)
            if row is None:
                raise NotFoundError(f"no incident {incident_id!r}; list them with "
                                 "'bastion monitor incidents'")
            return self._load(session, [row])[0]

    def acknowledge(self, incident_id: str, *, by: str, reason: str) -> Incident:
        """Mark an open incident as being handled (audited)."""
        return self._move(incident_id, "acknowledged", by=by, reason=reason)

    def resolve(self, incident_id: str, *, by: str, reason: str) -> Incident:
        """Close an incident (audited); later alerts open a new one."""
        return self._move(incident_id, "resolved", by=by, reason=reason)

    def _move(self, incident_id: str, status: Status, *, by: str, reason: str) -> Incident:
        reason = reason.strip()
        if len(reason) < MIN_REASON:
            raise InputError(f"a reason is required to mark incident {incident_id!r} {status}; "
                             "say what was found or done (at least 3 characters)")
        with self.sessions.begin() as session:
            row = session.get(IncidentRow, incident_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no incident {incident_id!r}; list them with "
                                 "'bastion monitor incidents'")
            if row.status in ("resolved", status):
                raise InputError(f"incident {incident_id!r} is {row.status} already; only an "
                                 "open incident can be acknowledged, and an open or "
                                 "acknowledged one resolved")
            before = row.status
            row.status, row.status_by, row.status_reason = status, by, reason
            self.audit.append_in(session, [{
                "type": f"incident.{status}", "incident_id": incident_id, "by": by,
                "reason": reason, "from": before, "accounts": list(row.accounts or ()),
                "account_id": row.accounts[0] if row.accounts else None}])
        return self.incident(incident_id)
