"""TOTP rules shared by the user store: who may turn it on, which secrets a page issues, the
compare-and-set that makes each code work once, and the login's second-factor check (a TOTP
code or a recovery code)."""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy import or_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bastion.errors import InputError
from bastion.web._permissions import WebRole
from bastion.web._recovery import is_recovery_code, redeem
from bastion.web._secrets import totp_step
from bastion.web._tables import WebUser

TOTP_ROLES: frozenset[WebRole] = frozenset({"admin", "triager"})
"""Roles that may (and are encouraged to) turn on TOTP."""
_TOTP_SECRET = re.compile(r"[A-Z2-7]{32}")
"""A secret as :func:`~bastion.web._secrets.new_totp_secret` makes it (160 bits, base32)."""

Refusal = Literal["totp-required", "bad-totp", "totp-reused", "bad-recovery", "recovery-used"]
"""Why a second factor was not accepted (each but ``totp-required`` is a failed login)."""
_REDEEMED: dict[str, Refusal | Literal["recovery-code"]] = {
    "ok": "recovery-code", "used": "recovery-used", "unknown": "bad-recovery"}


def new_secret_step(secret: str, code: str) -> int:
    """The time step of ``code`` under a new ``secret`` the account page issued.

    Raises:
        InputError: the secret is not one :func:`~bastion.web._secrets.new_totp_secret`
            makes, or the code does not match it.
    """
    if not _TOTP_SECRET.fullmatch(secret):
        raise InputError("the two-factor secret is not one this page issued (32 base32 "
                         "characters); reload the account page and add the secret it shows")
    step = totp_step(secret, code)
    if step is None:
        raise InputError("the code from the new app does not match; check the authenticator "
                         "app's clock and type the current six digits")
    return step


def claim_step(session: Session, row: WebUser, step: int) -> bool:
    """Record ``step`` as the user's last accepted TOTP step, unless it is not newer than the
    one recorded: a compare-and-set, so two logins racing with one code cannot both win."""
    claimed = session.execute(
        update(WebUser)
        .where(WebUser.id == row.id,
               or_(WebUser.totp_last_step.is_(None), WebUser.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(row, "totp_last_step", step)  # what the database holds now
    return True


def second_factor(session: Session, row: WebUser, code: str | None, *,
                  totp_only: bool = False) -> Refusal | Literal["recovery-code"] | None:
    """Check the second factor of a login: ``None`` when the user has no TOTP or ``code`` is
    a fresh TOTP code (now used), ``"recovery-code"`` when it is one of their unused recovery
    codes (now used), else why it is refused. ``totp_only`` refuses recovery codes (moving
    two-factor to a new app must prove the old app)."""
    if row.totp_secret is None:
        return None
    if not code:
        return "totp-required"
    if not totp_only and is_recovery_code(code):
        return _REDEEMED[redeem(session, row.id, code)]
    step = totp_step(row.totp_secret, code)
    if step is None:
        return "bad-totp"
    if not claim_step(session, row, step):  # this step or a later one was used: a replay
        return "totp-reused"
    return None
