"""Two-factor recovery codes, through the pages, on PostgreSQL: shown once, stored as hashes,
each good for one login, replaced only after re-authentication, gone with a two-factor reset,
and guessed no faster than TOTP codes."""

from __future__ import annotations

import re

import httpx
import pyotp
import pytest
from sqlalchemy import select
from tests.web.conftest import PASSWORD, WebStack, csrf_of

from bastion.web import SESSION_COOKIE, WebRecoveryCode

_CODE = re.compile(r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>")


@pytest.fixture
def web(web_pg: WebStack) -> WebStack:
    """The app over PostgreSQL (the module's)."""
    return web_pg


def _login(web: WebStack, username: str, code: str = "") -> httpx.Response:
    client = web.client()
    return client.post("/login", data={"username": username, "password": PASSWORD,
                                       "totp": code, "csrf_token": csrf_of(
                                           client.get("/login").text)})


def _enrol(web: WebStack, username: str) -> tuple[httpx.Client, list[str], httpx.Response]:
    """A triager ``username`` turns on two-factor through the account page: their session,
    the recovery codes the answer showed, and the answer."""
    web.ctx.users.create(username, "triager", password=PASSWORD)
    client = web.login(username)
    page = client.get("/account").text
    found = re.search(r'action="/account/totp">\s*<input type="hidden" name="csrf_token" '
                      r'value="[^"]*">\s*<input type="hidden" name="secret" value="([A-Z2-7]+)"',
                      page)
    assert found is not None, "the account page offers no 'turn on two-factor' form"
    answer = client.post("/account/totp", data={
        "secret": found.group(1), "code": pyotp.TOTP(found.group(1)).now(),
        "csrf_token": csrf_of(page)})
    assert answer.status_code == 200, answer.text
    return client, _CODE.findall(answer.text), answer


def _rows(web: WebStack, username: str) -> list[WebRecoveryCode]:
    user_id = web.ctx.users.get(username).id
    with web.ctx.sessions() as session:
        return list(session.execute(select(WebRecoveryCode).where(
            WebRecoveryCode.user_id == user_id)).scalars())


def test_codes_are_shown_once_and_only_their_hashes_are_stored(web: WebStack) -> None:
    client, codes, answer = _enrol(web, "rc-once")
    assert len(codes) == len(set(codes)) == 10
    assert "only time they are shown" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    account = client.get("/account").text
    assert not any(code in account for code in codes)  # never shown again
    assert "<strong>10</strong> unused recovery codes left" in account
    rows = _rows(web, "rc-once")
    assert len(rows) == 10
    stored = " ".join(f"{r.digest} {r.user_id} {r.created_at} {r.used_at}" for r in rows)
    for code in codes:
        assert code not in stored
        assert code.replace("-", "") not in stored
    assert all(re.fullmatch(r"[0-9a-f]{64}", r.digest) and r.used_at is None for r in rows)


def test_a_code_logs_in_once_and_the_login_is_audited_as_such(web: WebStack) -> None:
    _, codes, _ = _enrol(web, "rc-works")
    assert _login(web, "rc-works").status_code == 401  # a second factor is needed
    response = _login(web, "rc-works", codes[3].upper().replace("-", " "))  # as people type
    assert response.status_code == 303, response.text
    assert SESSION_COOKIE in response.cookies
    assert sum(r.used_at is not None for r in _rows(web, "rc-works")) == 1
    event = [e for e in web.ctx.audit.events() if e["type"] == "user.login"
             and e.get("user_id") == web.ctx.users.get("rc-works").id][-1]
    assert event["how"] == "signed in with a recovery code"
    assert event["recovery_codes_left"] == 9
    home = httpx.get(f"{web.url}/", cookies=response.cookies).text
    assert "you logged in with a recovery code; 9 unused ones left" in home


def test_a_used_code_is_refused_saying_it_was_used(web: WebStack) -> None:
    _, codes, _ = _enrol(web, "rc-used")
    assert _login(web, "rc-used", codes[0]).status_code == 303
    again = _login(web, "rc-used", codes[0])
    assert again.status_code == 401
    assert "this recovery code was used already (each one works once)" in again.text
    assert SESSION_COOKIE not in again.cookies


def test_new_codes_need_the_password_and_the_old_ones_stop_working(web: WebStack) -> None:
    client, old, _ = _enrol(web, "rc-new")
    token = web.csrf(client)
    before = {r.digest for r in _rows(web, "rc-new")}
    wrong = client.post("/account/recovery-codes", data={"password": "not the password!",
                                                        "csrf_token": token})
    assert wrong.status_code == 400
    assert "the current password is wrong" in wrong.text
    assert not _CODE.findall(wrong.text)
    assert {r.digest for r in _rows(web, "rc-new")} == before  # unchanged
    answer = client.post("/account/recovery-codes", data={"password": PASSWORD,
                                                         "csrf_token": token})
    assert answer.status_code == 200, answer.text
    new = _CODE.findall(answer.text)
    assert len(new) == 10
    assert not set(new) & set(old)
    refused = _login(web, "rc-new", old[0])
    assert refused.status_code == 401
    assert "not one of yours" in refused.text
    assert _login(web, "rc-new", new[0]).status_code == 303
    kinds = [e["type"] for e in web.ctx.audit.events()
             if e.get("user_id") == web.ctx.users.get("rc-new").id]
    assert kinds.count("user.recovery_codes_replaced") == 1


def test_new_codes_are_refused_without_a_session_or_the_csrf_token(web: WebStack) -> None:
    client, codes, _ = _enrol(web, "rc-csrf")
    anonymous = web.client().post("/account/recovery-codes", data={"password": PASSWORD})
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    forged = client.post("/account/recovery-codes", data={"password": PASSWORD})
    assert forged.status_code == 403
    assert "CSRF" in forged.text
    assert _login(web, "rc-csrf", codes[0]).status_code == 303  # the set shown is the live one


def test_an_admin_reset_of_two_factor_deletes_the_codes(web: WebStack) -> None:
    _, codes, _ = _enrol(web, "rc-reset")
    user = web.ctx.users.get("rc-reset")
    admin = web.login("admin")
    assert admin.post(f"/admin/users/{user.id}/reset-totp", data={
        "csrf_token": web.csrf(admin, "/admin/users")}).status_code == 303
    assert _rows(web, "rc-reset") == []
    event = next(e for e in web.ctx.audit.events() if e["type"] == "user.totp_reset"
                 and e["user_id"] == user.id)
    assert event["recovery_codes_deleted"] == 10
    # Turned on again, two-factor comes with a new set; the codes of before stay dead.
    totp = pyotp.TOTP(pyotp.random_base32())
    web.ctx.users.enable_totp(user.id, totp.secret, totp.now(), by="test")
    refused = _login(web, "rc-reset", codes[0])
    assert refused.status_code == 401
    assert "not one of yours" in refused.text


def test_wrong_codes_count_as_failed_logins_and_lock_the_account(web: WebStack) -> None:
    """The fixture app locks after 3 failures, as for wrong TOTP codes; while locked even a
    right code is refused and stays unused."""
    _, codes, _ = _enrol(web, "rc-guess")
    guesses = [_login(web, "rc-guess", f"aaaa-bbbb-cccc-{n}{n}{n}{n}").status_code
               for n in (2, 3, 4)]
    assert guesses == [401, 401, 423]
    locked = _login(web, "rc-guess", codes[0])
    assert locked.status_code == 423
    assert "locked" in locked.text
    assert all(r.used_at is None for r in _rows(web, "rc-guess"))
    failed = [e for e in web.ctx.audit.events() if e["type"] == "user.login_failed"
              and e["user_id"] == web.ctx.users.get("rc-guess").id]
    assert [e["reason"] for e in failed] == ["bad-recovery"] * 3
