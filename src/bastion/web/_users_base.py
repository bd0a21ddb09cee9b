"""What every part of :class:`~bastion.web._users.UserStore` shares: the snapshots it returns
(:class:`User`, :class:`Login`), reading users (:meth:`_UserRows.get` and the other look-ups,
which the password and two-factor parts call too), auditing in the change's transaction, and
the two clean-ups several changes make (:func:`revoke_sessions`, :func:`_burn_tokens`).

The store is assembled from parts, one concern each, so that none of its modules runs past
the size a reader takes in at once: this base, passwords and lock-out
(:mod:`bastion.web._users_login`), the second factor (:mod:`bastion.web._users_totp`), and
the store itself with creation, administration and one-time links (:mod:`bastion.web._users`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from bastion.accounts._model import aware
from bastion.errors import NotFoundError
from bastion.monitor import AuditLog
from bastion.store import utcnow
from bastion.web._permissions import WebRole
from bastion.web._tables import WebSession, WebToken, WebUser


@dataclass(frozen=True)
class User:
    """A web user (a snapshot; the password hash and TOTP secret stay in the database)."""

    id: str
    username: str
    role: WebRole
    email: str | None
    totp_enabled: bool
    account_id: str | None
    disabled: bool
    has_password: bool
    locked_until: datetime | None = None
    readmitted_at: datetime | None = None

    def locked(self, now: datetime) -> bool:
        """True while a lock-out lasts."""
        return self.locked_until is not None and now < self.locked_until

    @classmethod
    def of(cls, row: WebUser) -> User:
        """A snapshot of a row."""
        return cls(row.id, row.username, row.role, row.email,  # type: ignore[arg-type]
                   row.totp_secret is not None, row.account_id, row.disabled,
                   row.password_hash is not None, aware(row.locked_until),
                   aware(row.readmitted_at))


LoginOutcome = Literal["ok", "bad-credentials", "locked", "totp-required", "bad-totp",
                       "totp-reused", "bad-recovery", "recovery-used"]


@dataclass(frozen=True)
class Login:
    """The result of a login attempt: ``user`` is set only when ``outcome == 'ok'``;
    ``recovery_codes_left`` only when a recovery code logged in (how many remain)."""

    outcome: LoginOutcome
    user: User | None = None
    locked_until: datetime | None = None
    recovery_codes_left: int | None = None


class _UserRows:
    """The state and row access every part of the user store reads (set by
    :class:`~bastion.web._users.UserStore`'s constructor)."""

    sessions: sessionmaker[Session]
    audit: AuditLog
    max_failures: int
    lockout: timedelta

    def get(self, ref: str) -> User:
        """The user with this id or username."""
        with self.sessions() as session:
            return User.of(self._row(session, ref))

    def find(self, ref: str) -> User | None:
        """The user with this id or username, or ``None``."""
        with self.sessions() as session:
            row = self._lookup(session, ref)
            return None if row is None else User.of(row)

    def by_account(self, account_id: str) -> User | None:
        """The user an accounts-module account (and so its API keys) belongs to."""
        with self.sessions() as session:
            row = session.execute(select(WebUser).where(WebUser.account_id == account_id)
                                  ).scalar_one_or_none()
            return None if row is None else User.of(row)

    def users(self) -> list[User]:
        """Every user, oldest first."""
        with self.sessions() as session:
            rows = session.execute(select(WebUser).order_by(WebUser.created_at)).scalars()
            return [User.of(row) for row in rows]

    def _lookup(self, session: Session, ref: str) -> WebUser | None:
        return session.execute(select(WebUser).where(
            or_(WebUser.id == ref, WebUser.username == ref))).scalar_one_or_none()

    def _row(self, session: Session, ref: str) -> WebUser:
        row = self._lookup(session, ref)
        if row is None:
            raise NotFoundError(f"no user with id or name {ref!r}; list them on /admin/users")
        return row

    def _audit(self, session: Session, kind: str, user_id: str, **fields: Any) -> None:
        self.audit.append_in(session, [{"type": kind, "user_id": user_id, **fields}])


def _burn_tokens(session: Session, user_id: str) -> int:
    """Mark every unused one-time token of a user used; returns how many."""
    now = utcnow()
    rows = session.execute(select(WebToken).where(
        WebToken.user_id == user_id, WebToken.used_at.is_(None))).scalars().all()
    for row in rows:
        row.used_at = now
    return len(rows)


def revoke_sessions(session: Session, user_id: str, *, keep: str | None = None) -> int:
    """End every live session of a user but ``keep`` (inside the caller's transaction);
    returns how many ended."""
    now = utcnow()
    ended = 0
    for row in session.execute(select(WebSession).where(
            WebSession.user_id == user_id, WebSession.revoked_at.is_(None))).scalars():
        if row.id != keep:
            row.revoked_at, ended = now, ended + 1
    return ended
