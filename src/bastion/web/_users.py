"""Web users: create, authenticate (with lock-out, TOTP and its recovery codes), passwords,
one-time tokens.

Every change is audited in the same transaction as the change (``bastion.monitor.AuditLog``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bastion.accounts._model import aware
from bastion.errors import InputError, NotFoundError
from bastion.monitor import AuditLog
from bastion.store import utcnow
from bastion.web._permissions import WEB_ROLES, WebRole
from bastion.web._recovery import clear_codes, codes_left, replace_codes
from bastion.web._secrets import (
    digest,
    hash_password,
    new_token,
    new_totp_secret,
    verify_password,
)
from bastion.web._tables import WebSession, WebToken, WebUser
from bastion.web._totp import TOTP_ROLES, new_secret_step, second_factor


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


class UserStore:
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

    def link_account(self, ref: str, account_id: str, *, by: str) -> User:
        """Let the API keys of ``account_id`` authenticate as this user on ``/api``."""
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            row.account_id = account_id
            self._audit(session, "user.account_linked", row.id, by=by,
                        linked_account=account_id)
            return User.of(row)

    def login(self, username: str, password: str, totp: str | None = None, *,
              address: str | None = None) -> Login:
        """Check a login; counts failures and locks the user after ``max_failures``.

        A locked user is refused even with the right password until the lock ends. Unknown
        names cost the same argon2 time as wrong passwords. Every decision is audited with
        the client ``address``; a name that matches no user as ``user.login_unknown`` with
        a short hash of the name, not the name (people type passwords into the name box),
        so a spray of guessed names can still be told apart and counted.
        """
        now = utcnow()
        with self.sessions.begin() as session:
            row = self._lookup(session, username.strip())
            until = None if row is None else aware(row.locked_until)
            if row is not None and until is not None and until > now:
                self._audit(session, "user.login_refused", row.id, reason="locked",
                            address=address)
                return Login("locked", locked_until=until)
            good = verify_password(None if row is None else row.password_hash, password)
            if row is None or not good or row.disabled:
                if row is not None:
                    return self._failed(session, row, now, address=address)
                self.audit.append_in(session, [{
                    "type": "user.login_unknown", "address": address,
                    "name_sha256": digest(username.strip())[:16]}])
                return Login("bad-credentials")
            checked = second_factor(session, row, totp)
            if checked == "totp-required":
                return Login(checked)
            if checked is not None and checked != "recovery-code":
                return self._failed(session, row, now, outcome=checked, address=address)
            return self._logged_in(session, row, address, by_recovery=checked is not None)

    def _logged_in(self, session: Session, row: WebUser, address: str | None, *,
                   by_recovery: bool) -> Login:
        """Record a successful login (audited; one by recovery code says so and how many
        codes remain)."""
        row.failed_logins, row.locked_until = 0, None
        if not by_recovery:
            self._audit(session, "user.login", row.id, address=address)
            return Login("ok", User.of(row))
        left = codes_left(session, row.id)
        self._audit(session, "user.login", row.id, address=address,
                    how="signed in with a recovery code", recovery_codes_left=left)
        return Login("ok", User.of(row), recovery_codes_left=left)

    def _failed(self, session: Session, row: WebUser, now: datetime, *,
                outcome: LoginOutcome = "bad-credentials", address: str | None = None) -> Login:
        row.failed_logins += 1
        self._audit(session, "user.login_failed", row.id, failures=row.failed_logins,
                    reason=outcome, address=address)
        if row.failed_logins >= self.max_failures:
            row.locked_until, row.failed_logins = now + self.lockout, 0
            self._audit(session, "user.locked", row.id, until=row.locked_until.isoformat())
            return Login("locked", locked_until=row.locked_until)
        return Login(outcome)

    def set_password(self, ref: str, password: str, *, by: str) -> User:
        """Set a new password and end every session of the user."""
        hashed = hash_password(password, self.get(ref).username)
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            row.password_hash, row.failed_logins, row.locked_until = hashed, 0, None
            revoke_sessions(session, row.id)
            self._audit(session, "user.password_changed", row.id, by=by)
            return User.of(row)

    def confirm_password(self, ref: str, password: str, *,
                         address: str | None = None) -> LoginOutcome | None:
        """Re-check a logged-in user's password before a sensitive change (``None``: right).

        A wrong one counts as a failed login (same counter, same lock-out, audited), so a
        stolen session cannot be used to guess the password without limit; while the user
        is locked the answer is ``"locked"`` whatever the password.
        """
        now = utcnow()
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            until = aware(row.locked_until)
            if until is not None and until > now:
                self._audit(session, "user.login_refused", row.id, reason="locked",
                            address=address)
                return "locked"
            if verify_password(row.password_hash, password):
                return None
            return self._failed(session, row, now, address=address).outcome

    def start_totp(self) -> str:
        """A fresh TOTP secret to show the user before :meth:`enable_totp`."""
        return new_totp_secret()

    def enable_totp(self, ref: str, secret: str, code: str, *,
                    by: str) -> tuple[User, list[str]]:
        """Turn on TOTP once the user proves their app has ``secret`` (that code is then used:
        logging in needs a later one); returns the user and their new recovery codes, which
        exist nowhere else (only digests are stored): show them once.

        Refused when TOTP is on already: the form would replace the authenticator without
        proving the old one, so a stolen session could re-bind the second factor.

        Raises:
            InputError: a secret that is not one :meth:`start_totp` makes, a wrong code, a
                role without TOTP, or TOTP on already.
        """
        step = new_secret_step(secret, code)
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            if row.role not in TOTP_ROLES:
                raise InputError(f"TOTP is for {sorted(TOTP_ROLES)} users; {row.username!r} "
                                 f"is {row.role!r}")
            if row.totp_secret is not None:
                raise InputError("two-factor is on already for this account; to use another "
                                 "authenticator app, use 'Move two-factor to a new app' on "
                                 "the account page (it asks for your password and a code "
                                 "from the old app)")
            row.totp_secret, row.totp_last_step = secret, step
            codes = replace_codes(session, row.id)
            self._audit(session, "user.totp_enabled", row.id, by=by, recovery_codes=len(codes))
            return User.of(row), codes

    def new_recovery_codes(self, ref: str, *, password: str,
                           address: str | None = None) -> tuple[LoginOutcome | None, list[str]]:
        """Replace the user's recovery codes with a new set (the old ones, used or not, stop
        working); returns ``(None, codes)``, or the refusal and no codes.

        The user re-authenticates with ``password``, as in :meth:`confirm_password` (a wrong
        one counts as a failed login), so a session left open cannot mint codes that log in
        without the authenticator. Audited as ``user.recovery_codes_replaced``.

        Raises:
            InputError: two-factor is off (there is nothing to recover).
        """
        if not self.get(ref).totp_enabled:
            raise InputError("two-factor is off for this account, so it has no recovery "
                             "codes; turn two-factor on first (the codes come with it)")
        refused = self.confirm_password(ref, password, address=address)
        if refused is not None:
            return refused, []
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            codes = replace_codes(session, row.id)
            self._audit(session, "user.recovery_codes_replaced", row.id, by=row.id,
                        address=address)
            return None, codes

    def recovery_codes_left(self, ref: str) -> int:
        """How many unused recovery codes the user holds."""
        with self.sessions() as session:
            return codes_left(session, self._row(session, ref).id)

    def move_totp(self, ref: str, *, password: str, current: str, secret: str, code: str,
                  keep_session: str | None = None,
                  address: str | None = None) -> LoginOutcome | None:
        """Move two-factor to a new authenticator app (a new phone); ``None`` when done.

        The user proves both factors they have now (``password`` and a ``current`` code from
        the old app) and that the new app holds ``secret`` (its ``code``). Until all three
        check out the old app keeps working; afterwards only the new one does. A wrong
        password or old code counts as a failed login (same counter and lock-out as
        :meth:`confirm_password`), so a stolen session cannot re-bind the second factor or
        guess it without limit. Every other session of the user ends, as on a password
        change; ``keep_session`` (the one making the change) stays.

        Returns:
            ``None`` when moved, else the refusal (``"bad-credentials"``, ``"bad-totp"``,
            ``"totp-reused"`` or ``"locked"``).

        Raises:
            InputError: TOTP is off, or the new secret or its code is not right (nothing is
                counted: the new code proves nothing about who is asking).
        """
        step = new_secret_step(secret, code)
        now = utcnow()
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            if row.totp_secret is None:
                raise InputError("two-factor is off for this account, so there is nothing to "
                                 "move; turn it on with the form on the account page")
            until = aware(row.locked_until)
            if until is not None and until > now:
                self._audit(session, "user.login_refused", row.id, reason="locked",
                            address=address)
                return "locked"
            if not verify_password(row.password_hash, password):
                return self._failed(session, row, now, address=address).outcome
            checked = second_factor(session, row, current, totp_only=True)
            if checked == "totp-required":
                return checked
            if checked is not None and checked != "recovery-code":
                return self._failed(session, row, now, outcome=checked, address=address).outcome
            row.totp_secret, row.totp_last_step = secret, step
            ended = revoke_sessions(session, row.id, keep=keep_session)
            self._audit(session, "user.totp_moved", row.id, by=row.id, address=address,
                        sessions_ended=ended)
            return None

    def reset_totp(self, ref: str, *, by: str) -> User:
        """Turn two-factor off for a user who lost their authenticator and their recovery
        codes: an admin's decision, after checking who is asking by other means. The recovery
        codes are deleted with the secret, and every session of the user ends; they log in with
        the password and turn two-factor on again (for a new set). Audited as
        ``user.totp_reset``.

        Raises:
            InputError: two-factor is off already.
        """
        with self.sessions.begin() as session:
            row = self._row(session, ref)
            if row.totp_secret is None:
                raise InputError(f"two-factor is off for {row.username!r} already; nothing to "
                                 "reset")
            row.totp_secret, row.totp_last_step = None, None
            deleted = clear_codes(session, row.id)
            ended = revoke_sessions(session, row.id)
            self._audit(session, "user.totp_reset", row.id, by=by, sessions_ended=ended,
                        recovery_codes_deleted=deleted)
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
