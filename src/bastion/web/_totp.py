"""TOTP rules shared by the user store: who may turn it on, which secrets a page issues, and
the compare-and-set that makes each code work once."""

from __future__ import annotations

import re

from sqlalchemy import or_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bastion.errors import InputError
from bastion.web._permissions import WebRole
from bastion.web._secrets import totp_step
from bastion.web._tables import WebUser

TOTP_ROLES: frozenset[WebRole] = frozenset({"admin", "triager"})
"""Roles that may (and are encouraged to) turn on TOTP."""
_TOTP_SECRET = re.compile(r"[A-Z2-7]{32}")
"""A secret as :func:`~bastion.web._secrets.new_totp_secret` makes it (160 bits, base32)."""


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
