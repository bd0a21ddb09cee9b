"""Two-factor recovery codes: a set made when TOTP is turned on, each code good for one login.

A code is 16 characters of the base32 alphabet (80 random bits from :mod:`secrets`), shown
once in four groups (``abcd-efgh-ijkl-mnop``) and stored only as the sha256 of the user's id
and the code. A fast hash is enough here, as for session tokens, because the code is random
and long: a stolen table leaves 2**80 guesses per code, which no GPU farm finishes, whereas
argon2 exists to make *human-chosen* passwords slow to guess, and would cost ten argon2 runs
per login attempt. The user's id in the hash keeps one user's digests useless for another's.

Guessing codes online is limited like guessing TOTP codes: a wrong or used code counts as a
failed login (the user store's lock-out), and login POSTs are limited per client address.
"""

from __future__ import annotations

import secrets
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bastion.store import utcnow
from bastion.web._secrets import digest
from bastion.web._tables import WebRecoveryCode

CODES = 10
"""How many codes a set holds."""
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, in lower case
_LENGTH = 16
_GROUP = 4

Redeemed = Literal["ok", "used", "unknown"]


def is_recovery_code(code: str) -> bool:
    """True when ``code`` is long enough to be a recovery code rather than a TOTP code (six
    to eight digits): the login form takes either in one box."""
    return len(_normal(code)) >= _LENGTH // 2 + 2


def _normal(code: str) -> str:
    """The code as stored: lower case, without the dashes and spaces that group it, and with
    a typed 0 or 1 read as the o or l it must be (base32 has neither digit)."""
    code = code.strip().lower().replace("-", "").replace(" ", "")
    return code.replace("0", "o").replace("1", "l")


def _digest(user_id: str, code: str) -> str:
    return digest(f"{user_id}:{_normal(code)}")


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return "-".join(raw[i:i + _GROUP] for i in range(0, _LENGTH, _GROUP))


def replace_codes(session: Session, user_id: str) -> list[str]:
    """Delete the user's codes (used or not) and store a new set; returns the codes, which
    exist nowhere else: show them once."""
    clear_codes(session, user_id)
    codes = [_new_code() for _ in range(CODES)]
    now = utcnow()
    session.add_all(WebRecoveryCode(digest=_digest(user_id, c), user_id=user_id,
                                    created_at=now) for c in codes)
    return codes


def clear_codes(session: Session, user_id: str) -> int:
    """Delete every code of the user (two-factor reset or turned off); returns how many."""
    result = session.execute(delete(WebRecoveryCode).where(WebRecoveryCode.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def codes_left(session: Session, user_id: str) -> int:
    """How many unused codes the user holds."""
    return int(session.execute(select(func.count()).select_from(WebRecoveryCode).where(
        WebRecoveryCode.user_id == user_id, WebRecoveryCode.used_at.is_(None))).scalar_one())


def redeem(session: Session, user_id: str, code: str) -> Redeemed:
    """Use ``code`` once: ``"ok"``, ``"used"`` for a code used already, or ``"unknown"`` for
    one the user does not hold (wrong, or replaced by a new set).

    The mark is a compare-and-set, so two logins racing with one code cannot both win.
    """
    key = _digest(user_id, code)
    row = session.get(WebRecoveryCode, key)
    if row is None or row.user_id != user_id:
        return "unknown"
    claimed = session.execute(
        update(WebRecoveryCode)
        .where(WebRecoveryCode.digest == key, WebRecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False))
    return "ok" if claimed.rowcount == 1 else "used"  # type: ignore[attr-defined]
