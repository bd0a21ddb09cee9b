"""Account lifecycle through the pages: moving two-factor to a new app, re-admitting a
removed user."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import httpx
import pyotp
from tests.web.conftest import PASSWORD, WebStack, csrf_of, join_live_engagement

from bastion.network import NetworkStore
from bastion.web import SESSION_COOKIE


def _login(web: WebStack, username: str, totp: str = "") -> httpx.Response:
    client = web.client()
    return client.post("/login", data={"username": username, "password": PASSWORD,
                                       "totp": totp, "csrf_token": csrf_of(
                                           client.get("/login").text)})


def _with_totp(web: WebStack, username: str) -> tuple[pyotp.TOTP, httpx.Client, httpx.Client]:
    """An admin with two live sessions, then TOTP turned on (with the previous step's code,
    so the app's current code is still unused)."""
    web.ctx.users.create(username, "admin", password=PASSWORD)
    mine, other = web.login(username), web.login(username)
    old = pyotp.TOTP(pyotp.random_base32())
    web.ctx.users.enable_totp(username, old.secret, old.at(time.time() - 30), by="test")
    return old, mine, other


def _move_form(client: httpx.Client, **fields: str) -> dict[str, str]:
    page = client.get("/account").text
    found = re.search(r'action="/account/totp/move">\s*<input type="hidden" name="csrf_token" '
                      r'value="[^"]*">\s*<input type="hidden" name="secret" value="([A-Z2-7]+)"',
                      page)
    assert found is not None, "the account page offers no 'move two-factor' form"
    return {"secret": found.group(1), "password": PASSWORD, "csrf_token": csrf_of(page),
            **fields}


def test_two_factor_moves_to_a_new_app_and_the_old_one_stops_working(web: WebStack) -> None:
    old, mine, other = _with_totp(web, "new-phone")
    form = _move_form(mine, current=old.now())
    new = pyotp.TOTP(form["secret"])
    wrong_new = mine.post("/account/totp/move", data={**form, "code": "000000"
                                                      if new.now() != "000000" else "111111"})
    assert wrong_new.status_code == 400
    assert "the code from the new app does not match" in wrong_new.text
    moved = mine.post("/account/totp/move", data={**form, "code": new.now()})
    assert moved.status_code == 303, moved.text
    assert "the old one no longer works" in mine.get("/account").text  # this session stays
    assert other.get("/account").status_code == 303  # the other one has ended
    later = time.time() + 30
    refused = _login(web, "new-phone", old.at(later))
    assert refused.status_code == 401
    assert "authenticator code is wrong" in refused.text
    assert _login(web, "new-phone", new.at(later)).status_code == 303
    user = web.ctx.users.get("new-phone").id
    events = [e for e in web.ctx.audit.events() if e.get("user_id") == user]
    moved_events = [e for e in events if e["type"] == "user.totp_moved"]
    assert len(moved_events) == 1
    assert moved_events[0]["sessions_ended"] == 1
    assert moved_events[0]["address"] == "127.0.0.1"


def test_a_session_without_both_current_factors_cannot_move_two_factor(web: WebStack) -> None:
    """A stolen session (even knowing the password) cannot re-bind the second factor: a wrong
    old-app code is a failed login, the third locks the account and ends the session, and the
    old app still works afterwards."""
    old, thief, _ = _with_totp(web, "stolen-session")
    form = _move_form(thief)
    code = pyotp.TOTP(form["secret"]).now()
    wrong_password = thief.post("/account/totp/move", data={
        **form, "password": "not the password!", "current": old.now(), "code": code})
    assert wrong_password.status_code == 400
    assert "the current password is wrong" in wrong_password.text
    guesses = [thief.post("/account/totp/move", data={
        **form, "current": f"{n:06d}", "code": code}).status_code for n in (1, 2)]
    assert guesses == [400, 423]
    assert thief.get("/account").status_code == 303
    user = web.ctx.users.get("stolen-session")
    assert user.locked_until is not None
    web.ctx.users.unlock(user.id, by="test")
    assert _login(web, "stolen-session", old.at(time.time() + 30)).status_code == 303
    kinds = [e["type"] for e in web.ctx.audit.events() if e.get("user_id") == user.id]
    assert "user.totp_moved" not in kinds
    assert kinds.count("user.login_failed") == 3


def test_moving_is_offered_only_once_two_factor_is_on(web: WebStack) -> None:
    client = web.login("triager")
    assert "/account/totp/move" not in client.get("/account").text
    new = pyotp.TOTP(pyotp.random_base32(32))
    response = client.post("/account/totp/move", data={
        "password": PASSWORD, "current": "123456", "secret": new.secret, "code": new.now(),
        "csrf_token": web.csrf(client)})
    assert response.status_code == 400
    assert "two-factor is off for this account" in response.text
    assert client.get("/account").status_code == 200


def _removed_member(web: WebStack, name: str) -> dict[str, object]:
    """A triager with TOTP, a linked API key, an engagement key, a live session and an unused
    one-time link; then an admin disables them through the page."""
    users, accounts = web.ctx.users, web.ctx.accounts
    user = users.create(name, "triager", password=PASSWORD)
    eng, engagement_key = join_live_engagement(web, user, f"before-removal-{name}")
    account = accounts.create_account(f"{name}-api", "user", by="test")
    api_key = accounts.create_key(account.id, by="test")[1]
    users.link_account(user.id, account.id, by="test")
    session = web.login(name)
    users.enable_totp(user.id, (totp := pyotp.TOTP(pyotp.random_base32())).secret,
                      totp.now(), by="test")
    link = users.issue_token(user.id, "set-password", valid=timedelta(days=1), by="test")
    admin = web.login("admin")
    disabled = admin.post(f"/admin/users/{user.id}/disable",
                          data={"disabled": "1", "csrf_token": web.csrf(admin)})
    assert disabled.status_code == 303
    return {"id": user.id, "engagement": eng.id, "engagement_key": engagement_key,
            "api_key": api_key, "session": session, "link": link, "admin": admin}


def test_disabling_a_member_ends_their_keys_not_only_their_sessions(web: WebStack) -> None:
    removed = _removed_member(web, "disabled-member")
    assert web.ctx.accounts.authenticate(str(removed["engagement_key"])) is None
    assert web.ctx.accounts.authenticate(str(removed["api_key"])) is None
    session = removed["session"]
    assert isinstance(session, httpx.Client)
    assert session.get("/account").status_code == 303
    members = web.ctx.service(NetworkStore.of).engagement(str(removed["engagement"])).members
    assert [(m.active, m.removal_reason) for m in members] == [
        (False, "removed from the network (user disabled)")]


def test_inviting_a_removed_member_back_readmits_them_afresh(web: WebStack) -> None:
    removed = _removed_member(web, "returning")
    admin = removed["admin"]
    assert isinstance(admin, httpx.Client)
    token = web.csrf(admin, "/admin/users")
    enable = admin.post(f"/admin/users/{removed['id']}/disable",
                        data={"disabled": "0", "csrf_token": token})
    assert enable.status_code == 400
    assert "re-admit them instead" in enable.text
    invite = admin.post("/admin/users", data={"username": "returning", "role": "viewer",
                                              "csrf_token": token})
    assert invite.status_code == 200, invite.text
    assert "is re-admitted as viewer" in invite.text
    link = re.search(r'id="set-password-link">([^<]+)<', invite.text).group(1)  # type: ignore[union-attr]
    user = web.ctx.users.get("returning")
    assert (user.role, user.disabled, user.totp_enabled) == ("viewer", False, False)
    assert (user.has_password, user.account_id) == (False, None)
    assert _login(web, "returning").status_code == 401  # the old password is gone
    session = removed["session"]
    assert isinstance(session, httpx.Client)
    assert session.get("/account").status_code == 303  # the old session stays dead
    assert web.ctx.accounts.authenticate(str(removed["engagement_key"])) is None
    assert web.ctx.accounts.authenticate(str(removed["api_key"])) is None
    assert web.ctx.users.token_user(str(removed["link"]), "set-password") is None
    new = web.client()
    form = new.get(link.replace("&amp;", "&"))
    assert form.status_code == 200
    assert new.post("/set-password", data={
        "token": link.split("token=")[1], "password": "a whole new passphrase",
        "csrf_token": csrf_of(form.text)}).status_code == 303
    assert web.login("returning", "a whole new passphrase").get("/").status_code == 200
    event = next(e for e in web.ctx.audit.events() if e["type"] == "user.readmitted")
    assert (event["role"], event["previous_role"]) == ("viewer", "triager")
    assert event["by"] == web.ctx.users.get("admin").id
    again = admin.post(f"/admin/users/{removed['id']}/readmit",
                       data={"role": "admin", "csrf_token": token})
    assert again.status_code == 400
    assert "is an active user, not a removed one" in again.text
    assert web.ctx.users.get("returning").role == "viewer"


def test_a_removed_users_unused_link_dies_with_the_removal(web: WebStack) -> None:
    """An invited user removed before using their link cannot set a password with it (and so
    cannot be half-back when re-admitted: re-admission issues a new link)."""
    user = web.ctx.users.create("never-started", "developer")
    link = web.ctx.users.issue_token(user.id, "set-password", valid=timedelta(days=1),
                                     by="test")
    admin = web.login("admin")
    assert admin.post(f"/admin/users/{user.id}/disable", data={
        "disabled": "1", "csrf_token": web.csrf(admin)}).status_code == 303
    page = web.client().get("/set-password", params={"token": link})
    assert page.status_code == 404
    assert "unknown, used or expired" in page.text


def _session_id(web: WebStack, client: httpx.Client) -> str:
    live = web.ctx.logins.lookup(client.cookies[SESSION_COOKIE])
    assert live is not None
    return live.id


def test_sessions_are_listed_and_the_others_can_be_ended(web: WebStack) -> None:
    """A lost phone or a shared computer: the account page lists the live sessions and ends
    one or all of the others; another user's session cannot be ended from here."""
    web.ctx.users.create("many-devices", "viewer", password=PASSWORD)
    here, phone, laptop = (web.login("many-devices") for _ in range(3))
    bystander = web.login("developer")
    page = here.get("/account").text
    assert page.count('name="session" value="sess_') == 2
    assert page.count("this session") == 1
    current, phone_id = (_session_id(web, client) for client in (here, phone))
    assert phone_id in page
    token = csrf_of(page)
    assert here.post("/account/sessions/end", data={
        "session": current, "csrf_token": token}).status_code == 400
    assert here.post("/account/sessions/end", data={
        "session": phone_id, "csrf_token": token}).status_code == 303
    assert "1 other session ended" in here.get("/account").text
    assert phone.get("/account").status_code == 303
    assert laptop.get("/account").status_code == 200
    other_user = web.ctx.logins.live(web.ctx.users.get("developer").id)[0].id
    here.post("/account/sessions/end", data={"session": other_user, "csrf_token": token})
    assert bystander.get("/account").status_code == 200
    assert here.post("/account/sessions/end", data={"csrf_token": token}).status_code == 303
    assert laptop.get("/account").status_code == 303
    assert here.get("/account").status_code == 200
    user = web.ctx.users.get("many-devices").id
    ended = [e for e in web.ctx.audit.events() if e["type"] == "user.sessions_ended"
             and e["user_id"] == user]
    assert [e["ended"] for e in ended] == [1, 0, 1]


def test_readmitting_a_user_disabled_before_keys_were_revoked_ends_their_old_keys(
        web: WebStack) -> None:
    """Users disabled by an older version kept live keys; re-admitting them ends those keys
    before anything new is given."""
    users, accounts = web.ctx.users, web.ctx.accounts
    user = users.create("disabled-long-ago", "developer", password=PASSWORD)
    account = accounts.create_account("long-ago-api", "user", by="test")
    api_key = accounts.create_key(account.id, by="test")[1]
    users.link_account(user.id, account.id, by="test")
    engagement_key = join_live_engagement(web, user, "long-ago")[1]
    users.set_disabled(user.id, True, by="old version")  # no key revoked, as before
    assert accounts.authenticate(api_key) is not None
    assert accounts.authenticate(engagement_key) is not None
    admin = web.login("admin")
    response = admin.post(f"/admin/users/{user.id}/readmit", data={
        "role": "viewer", "csrf_token": web.csrf(admin, "/admin/users")})
    assert response.status_code == 200, response.text
    assert accounts.authenticate(api_key) is None
    assert accounts.authenticate(engagement_key) is None


def test_an_admin_resets_the_two_factor_of_a_user_who_lost_their_phone(web: WebStack) -> None:
    """No recovery codes: a user with no old app cannot move two-factor, so another admin turns
    it off (audited, their sessions end) and they log in with the password and enrol again."""
    old, lost, _ = _with_totp(web, "lost-phone")
    admin = web.login("admin")
    token = web.csrf(admin, "/admin/users")
    user = web.ctx.users.get("lost-phone")
    assert f"/admin/users/{user.id}/reset-totp" in admin.get("/admin/users").text
    assert _login(web, "lost-phone").status_code == 401  # the code is needed
    assert admin.post(f"/admin/users/{user.id}/reset-totp",
                      data={"csrf_token": token}).status_code == 303
    assert lost.get("/account").status_code == 303
    assert web.ctx.users.get("lost-phone").totp_enabled is False
    assert _login(web, "lost-phone").status_code == 303
    twice = admin.post(f"/admin/users/{user.id}/reset-totp", data={"csrf_token": token})
    assert twice.status_code == 400
    assert "off for &#39;lost-phone&#39; already" in twice.text
    me = web.ctx.users.get("admin").id
    own = admin.post(f"/admin/users/{me}/reset-totp", data={"csrf_token": token})
    assert own.status_code == 400
    assert "you cannot reset your own two-factor" in own.text
    event = next(e for e in web.ctx.audit.events() if e["type"] == "user.totp_reset")
    assert (event["user_id"], event["by"], event["sessions_ended"]) == (user.id, me, 2)
    assert old.secret not in str(event)
