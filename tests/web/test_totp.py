"""TOTP codes work once: the last accepted time step is kept in the store (both backends)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bastion.errors import InputError
from bastion.monitor import AuditLog
from bastion.web import UserStore
from bastion.web._secrets import totp_step

PASSWORD = "correct horse battery staple"


def _users(sessions: sessionmaker[Session]) -> UserStore:
    return UserStore(sessions, audit=AuditLog(sessions, key=b"totp-test-key"), max_failures=10)


#: Seconds a test needs to run inside one 30-second TOTP step.
STEP_MARGIN = 5.0


def _clear_of_a_step_boundary() -> None:
    """Wait for the next 30-second step when this one ends within :data:`STEP_MARGIN`: the
    tests name codes by 'this step' and 'the step before', and a step that rolled over
    between the fixture and the test made the code that turned TOTP on a fresh one (a
    move with it was accepted, not refused as reused: one failure in five runs)."""
    left = 30.0 - time.time() % 30.0
    if left < STEP_MARGIN:
        time.sleep(left + 0.05)


@pytest.fixture
def admin(sessions: sessionmaker[Session]) -> pyotp.TOTP:
    """An admin 'ada' with TOTP on (turned on with the previous step's code)."""
    _clear_of_a_step_boundary()
    users = _users(sessions)
    users.create("ada", "admin", password=PASSWORD)
    totp = pyotp.TOTP(pyotp.random_base32())
    users.enable_totp("ada", totp.secret, totp.at(time.time() - 30), by="test")
    return totp


def test_the_step_of_a_code_is_found_within_one_step_either_side() -> None:
    totp = pyotp.TOTP(pyotp.random_base32())
    now = 1_800_000_000.0
    step = totp.timecode(now)
    assert totp_step(totp.secret, totp.at(now), at=now) == step
    assert totp_step(totp.secret, totp.at(now - 30), at=now) == step - 1
    assert totp_step(totp.secret, totp.at(now + 30), at=now) == step + 1
    assert totp_step(totp.secret, totp.at(now - 90), at=now) is None
    assert totp_step(totp.secret, "12 34ab", at=now) is None


def test_a_code_is_refused_the_second_time_even_by_another_process(
        sessions: sessionmaker[Session], admin: pyotp.TOTP) -> None:
    code = admin.now()
    assert _users(sessions).login("ada", PASSWORD, code).outcome == "ok"
    # A fresh store over the same database (another worker, a restart) still refuses it.
    assert _users(sessions).login("ada", PASSWORD, code).outcome == "totp-reused"
    earlier = admin.at(time.time() - 30)  # the step before the accepted one, still in window
    assert _users(sessions).login("ada", PASSWORD, earlier).outcome in ("totp-reused",
                                                                       "bad-totp")
    assert _users(sessions).login("ada", PASSWORD, admin.at(time.time() + 30)).outcome == "ok"


def test_the_code_that_turned_totp_on_cannot_log_in(sessions: sessionmaker[Session]) -> None:
    users = _users(sessions)
    users.create("ben", "triager", password=PASSWORD)
    totp = pyotp.TOTP(pyotp.random_base32())
    code = totp.now()
    users.enable_totp("ben", totp.secret, code, by="ben")
    assert users.login("ben", PASSWORD, code).outcome == "totp-reused"
    with pytest.raises(InputError, match="does not match"):
        users.enable_totp("ben", totp.secret, "000000" if code != "000000" else "111111",
                          by="ben")


def test_two_logins_racing_with_one_code_let_one_in(sessions: sessionmaker[Session],
                                                    admin: pyotp.TOTP) -> None:
    code = admin.at(time.time() + 30)
    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(lambda _: _users(sessions).login("ada", PASSWORD, code)
                                   .outcome, range(4)))
    assert outcomes == ["ok", "totp-reused", "totp-reused", "totp-reused"]


def test_moving_to_a_new_app_needs_a_fresh_old_code_and_retires_the_old_secret(
        sessions: sessionmaker[Session], admin: pyotp.TOTP) -> None:
    users = _users(sessions)
    new = pyotp.TOTP(pyotp.random_base32(32))
    spent = admin.at(time.time() - 30)  # the code that turned TOTP on
    assert users.move_totp("ada", password=PASSWORD, current=spent, secret=new.secret,
                           code=new.now()) == "totp-reused"
    assert users.move_totp("ada", password=PASSWORD, current=admin.now(), secret=new.secret,
                           code=new.now()) is None
    later = time.time() + 30
    assert users.login("ada", PASSWORD, admin.at(later)).outcome == "bad-totp"
    assert users.login("ada", PASSWORD, new.at(later)).outcome == "ok"
    kinds = [e["type"] for e in users.audit.events()]
    assert kinds.count("user.totp_moved") == 1
