"""Passwords and lock-out for :class:`~bastion.web._users.UserStore`: logging in (with the
second factor checked and failures counted), the failed-login counter that locks a user, and
setting and re-checking a password.

Apart from the store's other parts (:mod:`bastion.web._users_base`) because this is where
an attacker guesses: every path that checks a password counts a failure here, in one place.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bastion.accounts._model import aware
from bastion.store import utcnow
from bastion.web._recovery import codes_left
from bastion.web._secrets import digest, hash_password, verify_password
from bastion.web._tables import WebUser
from bastion.web._totp import second_factor
from bastion.web._users_base import Login, LoginOutcome, User, _UserRows, revoke_sessions


class _Passwords(_UserRows):
    """Logging in, the failed-login counter and lock-out, and passwords."""

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
