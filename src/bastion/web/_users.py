"""Web users: create, authenticate (with lock-out, TOTP and its recovery codes), passwords,
one-time tokens.

Every change is audited in the same transaction as the change (``bastion.monitor.AuditLog``).
:class:`UserStore` is assembled from parts, one concern each: reading users and what the parts
share (:mod:`bastion.web._users_base`), passwords and lock-out (:mod:`bastion.web._users_login`),
two-factor (:mod:`bastion.web._users_totp`); this module adds creation, administration
(unlock, disable, re-admit) and one-time links.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bastion.accounts._model import aware
from bastion.errors import InputError
from bastion.monitor import AuditLog
from bastion.store import utcnow
from bastion.web._permissions import WEB_ROLES, WebRole
from bastion.web._recovery import clear_codes
from bastion.web._secrets import digest, hash_password, new_token
from bastion.web._tables import WebToken, WebUser
from bastion.web._users_base import (
    Login,
    LoginOutcome,
    User,
    _burn_tokens,
    revoke_sessions,
)
from bastion.web._users_totp import _SecondFactor

#: What other modules import from here (the store's parts live beside it).
__all__ = ["Login", "LoginOutcome", "User", "UserStore", "revoke_sessions"]


class UserStore(_SecondFactor):
    """Web users over a session factory.

    Lifetime: one per app. Thread-safe: each call opens its own session. Failure: caller
    mistakes raise :class:`~bastion.errors.InputError`; database errors propagate.

    Args:
        sessions: the store's session factory.
        audit: the audit log (default: keyed from the environment).
        max_failures: failed logins in a row that lock the account.
        lockout: how long a lock lasts.
    """

    def __init__(self, sessions: sessionmaker[Session], *, audit: AuditLog | None = None,
                 max_failures: int = 5, lockout: timedelta = timedelta(minutes=15)) -> None:
        self.sessions = sessions
        self.audit = audit or AuditLog.from_env(sessions)
        self.max_failures = max_failures
        self.lockout = lockout

    def create(self, username: str, role: WebRole, *, password: str | None = None,
               email: str | None = None, account_id: str | None = None,
               by: str = "cli") -> User:
        """Create a user (with no password: give them a :meth:`issue_token` link)."""
        if role not in WEB_ROLES:
            raise InputError(f"unknown role {role!r}; use one of {list(WEB_ROLES)}")
        username = username.strip()
        if not username or len(username) > 100 or not username.isprintable():
            raise InputError(f"username {username!r} is not usable; use 1 to 100 printable "
                             "characters")
        row = WebUser(id=f"user_{secrets.token_hex(10)}", username=username, role=role,
                      email=email, account_id=account_id, failed_logins=0, disabled=False,
                      password_hash=None if password is None else hash_password(
                          password, username),
                      created_at=utcnow())
        try:
            with self.sessions.begin() as session:
                session.add(row)
                session.flush()
                self._audit(session, "user.created", row.id, by=by, role=role,
                            username=username)
        except IntegrityError as exc:
            raise InputError(f"a user named {username!r} exists already; pick another "
                             "name") from exc
        return User.of(row)

    def link_account(self, ref: str, account_id: str, *, by: str) -> User:
        """Let the API keys of ``account_id`` authenticate as this user on ``/api``."""
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            row.account_id = account_id
            self._audit(session, "user.account_linked", row.id, by=by,
                        linked_account=account_id)
            return User.of(row)

    def unlock(self, ref: str, *, by: str) -> User:
        """End a lock-out now and forget the failed logins."""
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            row.locked_until, row.failed_logins = None, 0
            self._audit(session, "user.unlocked", row.id, by=by)
            return User.of(row)

    def set_disabled(self, ref: str, disabled: bool, *, by: str, reason: str = "") -> User:
        """Disable (or re-enable) a user; disabling ends their sessions and burns their
        unused one-time links (a removed user's invitation must not outlive the removal)."""
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            row.disabled = disabled
            if disabled:
                revoke_sessions(session, row.id)
                _burn_tokens(session, row.id)
            self._audit(session, "user.disabled" if disabled else "user.enabled", row.id,
                        by=by, reason=reason)
            return User.of(row)

    def readmit(self, ref: str, role: WebRole, *, by: str) -> User:
        """Bring a disabled (removed) user back with ``role`` and nothing else of before.

        Re-enabling would silently restore the old password, second factor, role and API-key
        link; a re-admitted member starts afresh instead: the admin picks the role now, the
        password and TOTP are cleared (give them a :meth:`issue_token` link), the linked
        account's API keys no longer act for them, and unused one-time links of before are
        burnt. Their old sessions stay ended, and ``readmitted_at`` tells features that what
        they accepted before (the network's NDA) must be accepted again. Audited as
        ``user.readmitted``.

        Raises:
            InputError: an unknown role, or the user is not disabled.
        """
        if role not in WEB_ROLES:
            raise InputError(f"unknown role {role!r}; use one of {list(WEB_ROLES)}")
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            if not row.disabled:
                raise InputError(f"{row.username!r} is an active user, not a removed one; "
                                 "there is nothing to re-admit (change what they may do by "
                                 "disabling and re-admitting them)")
            old_role, old_account = row.role, row.account_id
            row.role, row.disabled, row.password_hash = role, False, None
            row.totp_secret, row.totp_last_step, row.account_id = None, None, None
            row.failed_logins, row.locked_until = 0, None
            row.readmitted_at = utcnow()  # what they agreed to before no longer counts
            clear_codes(session, row.id)
            revoke_sessions(session, row.id)
            burnt = _burn_tokens(session, row.id)
            self._audit(session, "user.readmitted", row.id, by=by, role=role,
                        previous_role=old_role, unlinked_account=old_account,
                        tokens_burnt=burnt)
            return User.of(row)

    def issue_token(self, ref: str, purpose: str, *, valid: timedelta, by: str) -> str:
        """A one-time token for ``purpose`` (shown once; only its digest is stored)."""
        token = new_token()
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            session.add(WebToken(digest=digest(token), user_id=row.id, purpose=purpose,
                                 created_at=utcnow(), expires_at=utcnow() + valid))
            self._audit(session, "user.token_issued", row.id, by=by, purpose=purpose)
        return token

    def token_user(self, token: str, purpose: str) -> User | None:
        """The user a valid, unused, unexpired token belongs to (the token stays valid)."""
        with self.sessions() as session:
            row = self._token(session, token, purpose)
            return None if row is None else User.of(session.get_one(WebUser, row.user_id))

    def redeem_password_token(self, token: str, password: str) -> User:
        """Use a ``set-password`` token once: set the password, burn the token."""
        owner = self.token_user(token, "set-password")
        hashed = hash_password(password, owner.username if owner else None)
        with self.sessions.begin() as session:
            found = self._token(session, token, "set-password")
            if found is None:
                raise InputError("this link is unknown, used or expired; ask an admin for "
                                 "a new one")
            found.used_at = utcnow()
            row = session.get_one(WebUser, found.user_id)
            row.password_hash, row.failed_logins, row.locked_until = hashed, 0, None
            revoke_sessions(session, row.id)
            self._audit(session, "user.password_set", row.id, by=row.id)
            return User.of(row)

    def _token(self, session: Session, token: str, purpose: str) -> WebToken | None:
        row = session.get(WebToken, digest(token))
        if (row is None or row.purpose != purpose or row.used_at is not None
                or aware(row.expires_at) <= utcnow()):
            return None
        return row
