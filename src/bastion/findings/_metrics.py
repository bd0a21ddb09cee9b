"""Programme metrics: time to triage and to fix, reopen rate, findings per member and
engagement, counts by state and severity."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bastion.findings._convert import utc
from bastion.findings._query import EVERYTHING, Filters, Scope, scoped
from bastion.findings._tables import FindingRow

# States a finding reaches only once a triager accepted it.
_ACCEPTED = ("accepted", "fixing", "fixed", "verified", "closed", "regressed")


@dataclass(frozen=True)
class Metrics:
    """Figures over the findings a scope can see.

    Attributes:
        findings: how many.
        median_hours_to_triage / median_hours_to_fix: from submission to the end of triage
            and to the fix (None when no finding got there yet).
        reopen_rate: of the findings ever fixed, the share a regression reopened.
        per_member: reporter -> {"reported", "credited" (not a duplicate), "accepted"}.
        per_engagement: engagement -> findings ("" for none).
        by_state / by_severity: counts.
    """

    findings: int
    median_hours_to_triage: float | None
    median_hours_to_fix: float | None
    reopen_rate: float | None
    per_member: dict[str, dict[str, int]] = field(default_factory=dict)
    per_engagement: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, int] = field(default_factory=dict)
    by_severity: dict[str, int] = field(default_factory=dict)


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    a, b = utc(start), utc(end)
    return None if a is None or b is None else (b - a).total_seconds() / 3600


def _median(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(statistics.median(kept), 2) if kept else None


def metrics(sessions: sessionmaker[Session], *, scope: Scope = EVERYTHING) -> Metrics:
    """The metrics of every finding in ``scope``."""
    query = scoped(select(FindingRow.reporter, FindingRow.engagement, FindingRow.state,
                           FindingRow.severity, FindingRow.duplicate_of, FindingRow.created_at,
                           FindingRow.triaged_at, FindingRow.fixed_at, FindingRow.reopened),
                    scope, Filters())
    with sessions() as session:
        rows = session.execute(query).all()
    members: dict[str, Counter[str]] = {}
    for r in rows:
        counts = members.setdefault(r.reporter, Counter())
        counts["reported"] += 1
        counts["credited"] += int(r.duplicate_of is None and r.state != "duplicate")
        counts["accepted"] += int(r.state in _ACCEPTED)
    fixed = [r for r in rows if r.fixed_at is not None]
    return Metrics(
        findings=len(rows),
        median_hours_to_triage=_median([_hours(r.created_at, r.triaged_at) for r in rows]),
        median_hours_to_fix=_median([_hours(r.created_at, r.fixed_at) for r in rows]),
        reopen_rate=round(sum(1 for r in fixed if r.reopened) / len(fixed), 4) if fixed
        else None,
        per_member={m: dict(c) for m, c in sorted(members.items())},
        per_engagement=dict(sorted(Counter(r.engagement or "" for r in rows).items())),
        by_state=dict(sorted(Counter(r.state for r in rows).items())),
        by_severity=dict(sorted(Counter(r.severity for r in rows).items())),
    )


def count(sessions: sessionmaker[Session]) -> int:
    """How many findings there are."""
    with sessions() as session:
        return int(session.execute(select(func.count()).select_from(FindingRow)).scalar_one())
