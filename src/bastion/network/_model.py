"""What the network store returns: frozen snapshots, never live rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bastion.accounts._model import aware
from bastion.network._tables import (
    Application,
    ApplicationNote,
    Engagement,
    EngagementMember,
)

EXPERTISE = ("security", "machine learning", "law", "ethics", "medicine", "chemistry/biology",
             "languages", "child safety", "elections", "finance")
"""Expertise areas an applicant can pick from."""


@dataclass(frozen=True)
class Note:
    """A reviewer's note."""

    author_id: str
    text: str
    created_at: datetime

    @classmethod
    def of(cls, row: ApplicationNote) -> Note:
        """A snapshot of a row."""
        return cls(row.author_id, row.text, aware(row.created_at))


@dataclass(frozen=True)
class ApplicationInfo:
    """An application and its review state."""

    id: str
    username: str
    full_name: str
    email: str
    expertise: tuple[str, ...]
    languages: tuple[str, ...]
    links: tuple[str, ...]
    conflicts: str
    motivation: str
    status: str
    decision_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    user_id: str | None
    created_at: datetime
    notes: tuple[Note, ...] = ()

    @classmethod
    def of(cls, row: Application, notes: tuple[Note, ...] = ()) -> ApplicationInfo:
        """A snapshot of a row."""
        return cls(row.id, row.username, row.full_name, row.email, tuple(row.expertise),
                   tuple(row.languages), tuple(row.links), row.conflicts, row.motivation,
                   row.status, row.decision_reason, row.decided_by, aware(row.decided_at),
                   row.user_id, aware(row.created_at), notes)


@dataclass(frozen=True)
class MemberInfo:
    """A member of an engagement."""

    user_id: str
    username: str
    account_id: str
    key_id: str
    joined_at: datetime
    removed_at: datetime | None
    removal_reason: str | None
    readmitted_at: datetime | None = None

    @property
    def active(self) -> bool:
        """True until the member is removed."""
        return self.removed_at is None

    @classmethod
    def of(cls, row: EngagementMember, username: str) -> MemberInfo:
        """A snapshot of a row."""
        return cls(row.user_id, username, row.account_id, row.key_id, aware(row.joined_at),
                   aware(row.removed_at), row.removal_reason, aware(row.readmitted_at))


@dataclass(frozen=True)
class EngagementInfo:
    """An engagement: scope, window, quotas and members."""

    id: str
    name: str
    description: str
    models: tuple[str, ...]
    routes: tuple[str, ...]
    categories_in: tuple[str, ...]
    categories_out: tuple[str, ...]
    rules: str
    starts_at: datetime
    ends_at: datetime
    requests_per_minute: int | None
    tokens_per_minute: int | None
    created_by: str
    members: tuple[MemberInfo, ...] = ()

    def active(self, now: datetime) -> bool:
        """True inside the time window."""
        return self.starts_at <= now < self.ends_at

    def state(self, now: datetime) -> str:
        """``upcoming``, ``active`` or ``ended``."""
        if now < self.starts_at:
            return "upcoming"
        return "active" if now < self.ends_at else "ended"

    @classmethod
    def of(cls, row: Engagement, members: tuple[MemberInfo, ...] = ()) -> EngagementInfo:
        """A snapshot of a row."""
        return cls(row.id, row.name, row.description, tuple(row.models), tuple(row.routes),
                   tuple(row.categories_in), tuple(row.categories_out), row.rules,
                   aware(row.starts_at), aware(row.ends_at), row.requests_per_minute,
                   row.tokens_per_minute, row.created_by, members)
