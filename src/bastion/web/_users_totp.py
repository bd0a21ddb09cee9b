"""Two-factor for :class:`~bastion.web._users.UserStore`: turning TOTP on, moving it to a new
authenticator app, an admin's reset, and the recovery codes that come with it.

Apart from passwords (:mod:`bastion.web._users_login`), on which it builds: moving the second
factor or minting recovery codes re-checks the password and counts a wrong one as a failed
login, so a session left open cannot re-bind or bypass the authenticator.
"""

from __future__ import annotations

from bastion.accounts._model import aware
from bastion.errors import InputError
from bastion.store import utcnow
from bastion.web._recovery import clear_codes, codes_left, replace_codes
from bastion.web._secrets import new_totp_secret, verify_password
from bastion.web._totp import TOTP_ROLES, new_secret_step, second_factor
from bastion.web._users_base import LoginOutcome, User, revoke_sessions
from bastion.web._users_login import _Passwords


class _SecondFactor(_Passwords):
    """TOTP on, moved, reset, and its recovery codes."""

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
