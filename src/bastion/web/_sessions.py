"""Server-side sessions: a random token in the cookie, only its digest in the database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bastion.accounts._model import aware
from bastion.store import utcnow
from bastion.web._secrets import digest, new_token
from bastion.web._tables import WebSession, WebUser
from bastion.web._users import User, revoke_sessions


@dataclass(frozen=True)
class SessionInfo:
    """One of a user's live sessions, as the account page lists them (no token, no digest)."""

    id: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class LiveSession:
    """A valid session: its id and its user."""

    id: str
    user: User


class SessionStore:
    """Sessions over a session factory.

    Lifetime: one per app. Thread-safe: each call opens its own database session.

    Args:
        sessions: the store's session factory.
        ttl: how long a session lasts at most.
    """

    def __init__(self, sessions: sessionmaker[Session], *, ttl: timedelta) -> None:
        self.sessions = sessions
        self.ttl = ttl

    def open(self, user_id: str) -> str:
        """A new session for ``user_id``; returns the token for the cookie (never stored)."""
        token = new_token()
        now = utcnow()
        with self.sessions.begin() as session:
            session.add(WebSession(id=f"sess_{secrets.token_hex(10)}", user_id=user_id,
                                   digest=digest(token), created_at=now,
                                   expires_at=now + self.ttl, flashes=[]))
        return token

    def lookup(self, token: str) -> LiveSession | None:
        """The live session behind a cookie token: unknown, expired, revoked → ``None``."""
        with self.sessions() as session:
            found = session.execute(
                select(WebSession, WebUser).join(WebUser, WebUser.id == WebSession.user_id)
                .where(WebSession.digest == digest(token), WebSession.revoked_at.is_(None))
            ).first()
            if found is None or aware(found[0].expires_at) <= utcnow() or found[1].disabled:
                return None
            return LiveSession(found[0].id, User.of(found[1]))

    def revoke(self, token: str) -> None:
        """End the session behind ``token`` (harmless when unknown)."""
        with self.sessions.begin() as session:
            row = session.execute(select(WebSession).where(
                WebSession.digest == digest(token))).scalar_one_or_none()
            if row is not None and row.revoked_at is None:
                row.revoked_at = utcnow()

    def live(self, user_id: str) -> list[SessionInfo]:
        """The user's sessions that still work, newest first."""
        now = utcnow()
        with self.sessions() as session:
            rows = session.execute(select(WebSession).where(
                WebSession.user_id == user_id, WebSession.revoked_at.is_(None)
            ).order_by(WebSession.created_at.desc())).scalars()
            return [SessionInfo(row.id, aware(row.created_at), aware(row.expires_at))
                    for row in rows if aware(row.expires_at) > now]

    def end(self, user_id: str, session_id: str | None = None, *,
            keep: str | None = None) -> int:
        """End one session of the user (``session_id``) or, without it, every one but
        ``keep``; returns how many ended. Another user's session id ends nothing."""
        with self.sessions.begin() as session:
            if session_id is None:
                return revoke_sessions(session, user_id, keep=keep)
            row = session.get(WebSession, session_id)
            if row is None or row.user_id != user_id or row.revoked_at is not None:
                return 0
            row.revoked_at = utcnow()
            return 1

    def flash(self, session_id: str, level: str, message: str) -> None:
        """Queue a message shown on the next page the session loads."""
        with self.sessions.begin() as session:
            row = session.get_one(WebSession, session_id)
            row.flashes = [*row.flashes, {"level": level, "message": message}]

    def pop_flashes(self, session_id: str) -> list[dict[str, Any]]:
        """The queued messages, removed from the queue."""
        with self.sessions.begin() as session:
            row = session.get_one(WebSession, session_id)
            if not row.flashes:
                return []
            flashes, row.flashes = list(row.flashes), []
            return flashes
