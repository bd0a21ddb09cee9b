"""Accounts and keys in the database: create, list, rotate, revoke, suspend, reinstate.

Every change is written to the audit log in the same transaction as the change itself, so a
change without its audit event cannot happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bastion.accounts._keys import ROLES, Role, key_digest, new_id, new_key
from bastion.accounts._model import AccountInfo, KeyInfo, Principal, Scopes
from bastion.accounts._sqlstrikes import reset_in
from bastion.errors import InputError, NotFoundError
from bastion.monitor import AuditLog
from bastion.store import Account, ApiKey, utcnow


class AccountStore:
    """Accounts and API keys over a session factory.

    Lifetime: one per process. Thread-safe: each call opens its own session. Failure:
    caller mistakes (unknown account, duplicate name) raise :class:`~bastion.errors.InputError`;
    database failures propagate as SQLAlchemy errors.
    """

    def __init__(self, sessions: sessionmaker[Session], *, audit: AuditLog | None = None) -> None:
        self.sessions = sessions
        self.audit = audit or AuditLog.from_env(sessions)

    def create_account(self, name: str, role: Role = "user", *, engagement: str | None = None,
                       engagement_until: datetime | None = None,
                       requests_per_minute: int | None = None,
                       tokens_per_minute: int | None = None, by: str = "cli") -> AccountInfo:
        """Create an account; ``engagement_until`` applies to red-teamers only.

        The limits are shared by every key of the account (each key may have its own too).
        """
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}; use one of {list(ROLES)}")
        if engagement_until is not None and role != "red-teamer":
            raise InputError("only red-teamer accounts have engagements; drop "
                             "--engagement-until or use --role red-teamer")
        row = Account(id=new_id("acct"), name=name, role=role, status="active",
                      engagement=engagement, engagement_until=engagement_until,
                      requests_per_minute=requests_per_minute,
                      tokens_per_minute=tokens_per_minute, created_at=utcnow())
        try:
            with self.sessions.begin() as session:
                session.add(row)
                session.flush()
                self._audit(session, "account.created", row.id, by=by, role=role,
                            engagement=engagement, requests_per_minute=requests_per_minute,
                            tokens_per_minute=tokens_per_minute)
        except IntegrityError as exc:
            raise InputError(f"an account named {name!r} exists already; pick another "
                             "name") from exc
        return AccountInfo.of(row)

    def account(self, ref: str) -> AccountInfo:
        """The account with this id or name."""
        with self.sessions() as session:
            return AccountInfo.of(self._row(session, ref))

    def accounts(self) -> list[AccountInfo]:
        """Every account, oldest first."""
        with self.sessions() as session:
            rows = session.execute(select(Account).order_by(Account.created_at)).scalars()
            return [AccountInfo.of(row) for row in rows]

    def create_key(self, account_ref: str, *, routes: Sequence[str] | None = None,
                   models: Sequence[str] | None = None, requests_per_minute: int | None = None,
                   tokens_per_minute: int | None = None, by: str = "cli",
                   categories: Sequence[str] | None = None,
                   expires_at: datetime | None = None) -> tuple[KeyInfo, str]:
        """A new key for an account: its record and the key itself (shown once, never again).

        ``categories`` narrows an engagement key's abuse exemption (see :class:`Scopes`);
        ``expires_at`` ends the key by itself.
        """
        key = new_key()
        scopes = Scopes(None if routes is None else frozenset(routes),
                        None if models is None else tuple(models),
                        None if categories is None else frozenset(categories))
        with self.sessions.begin() as session:
            account = self._row(session, account_ref)
            row = ApiKey(id=new_id("key"), account_id=account.id, prefix=key[:10],
                         digest=key_digest(key), scopes=scopes.to_json(),
                         requests_per_minute=requests_per_minute,
                         tokens_per_minute=tokens_per_minute, created_at=utcnow(),
                         expires_at=expires_at)
            session.add(row)
            session.flush()
            self._audit(session, "key.created", account.id, by=by, key_id=row.id,
                        scopes=scopes.to_json(),
                        expires_at=None if expires_at is None else expires_at.isoformat())
            return KeyInfo.of(row), key

    def keys(self, account_ref: str | None = None, *, revoked: bool = False) -> list[KeyInfo]:
        """Keys (of one account, if given), oldest first; revoked ones only if asked."""
        with self.sessions() as session:
            query = select(ApiKey).order_by(ApiKey.created_at)
            if account_ref is not None:
                query = query.where(ApiKey.account_id == self._row(session, account_ref).id)
            if not revoked:
                query = query.where(ApiKey.revoked_at.is_(None))
            return [KeyInfo.of(row) for row in session.execute(query).scalars()]

    def revoke_key(self, key_id: str, *, by: str = "cli") -> KeyInfo:
        """Revoke a key at once; revoking twice is harmless."""
        with self.sessions.begin() as session:
            row = session.get(ApiKey, key_id)
            if row is None:
                raise NotFoundError(f"no key with id {key_id!r}; list them with 'bastion keys "
                                 "list'")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                self._audit(session, "key.revoked", row.account_id, by=by, key_id=key_id)
            return KeyInfo.of(row)

    def rotate_key(self, key_id: str, *, by: str = "cli") -> tuple[KeyInfo, str]:
        """Revoke a key and make a new one with the same scopes and limits."""
        old = self.revoke_key(key_id, by=by)
        return self.create_key(old.account_id, routes=_opt(old.scopes.routes),
                               models=old.scopes.models,
                               requests_per_minute=old.requests_per_minute,
                               tokens_per_minute=old.tokens_per_minute, by=by,
                               categories=_opt(old.scopes.categories),
                               expires_at=old.expires_at)

    def authenticate(self, key: str) -> Principal | None:
        """The principal a key belongs to, or ``None`` for an unknown, revoked or expired key."""
        with self.sessions() as session:
            found = session.execute(
                select(ApiKey, Account).join(Account, Account.id == ApiKey.account_id)
                .where(ApiKey.digest == key_digest(key), ApiKey.revoked_at.is_(None))
            ).first()
            if found is None or KeyInfo.of(found[0]).expired(utcnow()):
                return None
            return Principal(AccountInfo.of(found[1]), KeyInfo.of(found[0]))

    def set_limits(self, account_ref: str, *, requests_per_minute: int | None,
                   tokens_per_minute: int | None, by: str = "cli") -> AccountInfo:
        """Set (or, with ``None``, clear) the limits all the account's keys share."""
        with self.sessions.begin() as session:
            row = self._row(session, account_ref)
            row.requests_per_minute, row.tokens_per_minute = (requests_per_minute,
                                                              tokens_per_minute)
            self._audit(session, "account.limits", row.id, by=by,
                        requests_per_minute=requests_per_minute,
                        tokens_per_minute=tokens_per_minute)
            return AccountInfo.of(row)

    def set_status(self, account_ref: str, status: str, reason: str | None, *,
                   by: str, details: dict[str, Any] | None = None) -> AccountInfo:
        """Suspend (``status='suspended'``) or reinstate (``'active'``) an account."""
        with self.sessions.begin() as session:
            row = self._row(session, account_ref)
            row.status, row.status_reason = status, reason
            if status == "active":  # a reinstated account starts with no strikes
                reset_in(session, row.id)
            kind = "account.suspended" if status == "suspended" else "account.reinstated"
            self._audit(session, kind, row.id, by=by, reason=reason, **(details or {}))
            return AccountInfo.of(row)

    def _row(self, session: Session, ref: str) -> Account:
        row = session.execute(
            select(Account).where(or_(Account.id == ref, Account.name == ref))
        ).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"no account with id or name {ref!r}; list them with "
                             "'bastion accounts list'")
        return row

    def _audit(self, session: Session, kind: str, account_id: str, **fields: Any) -> None:
        self.audit.append_in(session, [{"type": kind, "account_id": account_id, **fields}])


def _opt(routes: frozenset[str] | None) -> list[str] | None:
    return None if routes is None else sorted(routes)
