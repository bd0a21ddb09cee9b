"""The findings list and the priority queue: filtered, scoped, keyset-paginated.

The list is newest first (``id`` descending). The queue holds open findings, ordered by
severity (critical first), then the SLA deadline (the earliest first; overdue ones are the
earliest), then age (oldest first). Both page by keyset (the last row's sort key), never by
offset, so page 1,000 costs what page 1 does; both read only the summary columns, never
transcripts or vectors.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bastion.errors import InputError
from bastion.findings._convert import utc
from bastion.findings._tables import FindingRow

Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
_COLUMNS = (FindingRow.id, FindingRow.title, FindingRow.target, FindingRow.engagement,
            FindingRow.severity, FindingRow.severity_rank, FindingRow.state,
            FindingRow.reporter, FindingRow.created_at, FindingRow.due_at,
            FindingRow.duplicate_of, FindingRow.is_open)


@dataclass(frozen=True)
class Scope:
    """Which findings a viewer may see.

    ``everything`` (admins, triagers) sees all; otherwise a finding is visible when it was
    reported by ``reporter``, belongs to one of ``engagements``, or targets one of
    ``targets`` (a developer's systems).
    """

    everything: bool = False
    reporter: str | None = None
    engagements: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    def allows(self, reporter: str, engagement: str | None, target: str) -> bool:
        """Whether one finding is visible in this scope."""
        return (self.everything or reporter == self.reporter
                or (engagement is not None and engagement in self.engagements)
                or target in self.targets)


EVERYTHING = Scope(everything=True)


@dataclass(frozen=True)
class Filters:
    """Optional filters of the list and queue (all must hold)."""

    states: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    policy_categories: tuple[str, ...] = ()
    target: str | None = None
    reporter: str | None = None
    engagement: str | None = None


@dataclass(frozen=True)
class Summary:
    """One row of the list or queue."""

    id: int
    title: str
    target: str
    engagement: str | None
    severity: str
    state: str
    reporter: str
    created_at: datetime
    due_at: datetime | None
    duplicate_of: int | None
    overdue: bool


@dataclass(frozen=True)
class Page:
    """One page of summaries and the cursor of the next page (None on the last one)."""

    items: tuple[Summary, ...]
    next: str | None = None


def scoped(query: Q, scope: Scope, filters: Filters) -> Q:
    """``query`` limited to what ``scope`` may see and what ``filters`` ask for."""
    if not scope.everything:
        allowed = []
        if scope.reporter:
            allowed.append(FindingRow.reporter == scope.reporter)
        if scope.engagements:
            allowed.append(FindingRow.engagement.in_(scope.engagements))
        if scope.targets:
            allowed.append(FindingRow.target.in_(scope.targets))
        query = query.where(or_(*allowed) if allowed else FindingRow.id.is_(None))
    if filters.states:
        query = query.where(FindingRow.state.in_(filters.states))
    if filters.severities:
        query = query.where(FindingRow.severity.in_(filters.severities))
    if filters.policy_categories:
        query = query.where(FindingRow.policy_category.in_(filters.policy_categories))
    for column, value in ((FindingRow.target, filters.target),
                          (FindingRow.reporter, filters.reporter),
                          (FindingRow.engagement, filters.engagement)):
        if value is not None:
            query = query.where(column == value)
    return query


def _encode(data: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[object]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise InputError("the page cursor is not valid; start again from the first page "
                         "(no cursor)") from exc
    if not isinstance(data, list) or len(data) != size:
        raise InputError("the page cursor is not valid; start again from the first page")
    return data


def _summaries(rows: Sequence[Any], now: datetime) -> tuple[Summary, ...]:
    out = []
    for r in rows:
        due = utc(r.due_at)
        created = utc(r.created_at)
        assert created is not None
        out.append(Summary(r.id, r.title, r.target, r.engagement, r.severity, r.state,
                           r.reporter, created, due, r.duplicate_of,
                           bool(r.is_open) and due is not None and now > due))
    return tuple(out)


def list_findings(sessions: sessionmaker[Session], now: datetime, *, scope: Scope = EVERYTHING,
                  filters: Filters | None = None, after: str | None = None,
                  limit: int = 50) -> Page:
    """Newest findings first, one page."""
    query = scoped(select(*_COLUMNS), scope, filters or Filters())
    if after:
        (last,) = _decode(after, 1)
        query = query.where(FindingRow.id < int(str(last)))
    query = query.order_by(FindingRow.id.desc()).limit(limit + 1)
    with sessions() as session:
        rows = session.execute(query).all()
    more = len(rows) > limit
    items = _summaries(rows[:limit], now)
    return Page(items, _encode([items[-1].id]) if more and items else None)


def queue(sessions: sessionmaker[Session], now: datetime, *, scope: Scope = EVERYTHING,
          filters: Filters | None = None, after: str | None = None, limit: int = 50) -> Page:
    """Open findings by severity, SLA deadline and age, one page."""
    query = scoped(select(*_COLUMNS), scope, filters or Filters())
    query = query.where(FindingRow.is_open.is_(True))
    if after:
        rank, due_iso, last = _decode(after, 3)
        due = datetime.fromisoformat(str(due_iso))
        query = query.where(or_(
            FindingRow.severity_rank < rank,
            and_(FindingRow.severity_rank == rank, FindingRow.due_at > due),
            and_(FindingRow.severity_rank == rank, FindingRow.due_at == due,
                 FindingRow.id > last)))
    # The order of the ix_findings_queue index (is_open, severity_rank DESC, due_at, id).
    query = query.order_by(FindingRow.severity_rank.desc(), FindingRow.due_at.asc(),
                           FindingRow.id.asc()).limit(limit + 1)
    with sessions() as session:
        rows = session.execute(query).all()
    more = len(rows) > limit
    items = _summaries(rows[:limit], now)
    cursor = None
    if more and items:
        last_row = rows[limit - 1]
        cursor = _encode([last_row.severity_rank, last_row.due_at.isoformat(), last_row.id])
    return Page(items, cursor)
