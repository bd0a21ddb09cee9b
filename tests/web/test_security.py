"""Sessions, cookies, CSRF, security headers, lock-out, rate limits, TOTP, vendored files."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import select
from tests.web.conftest import PASSWORD, WebStack, csrf_of, running_web

import bastion.web
from bastion.errors import InputError
from bastion.web import SECURITY_HEADERS, SESSION_COOKIE, WebSession, WebSettings, create_web_app

WEB = Path(bastion.web.__file__).parent


def _login(web: WebStack, client: httpx.Client, username: str, password: str,
           totp: str = "") -> httpx.Response:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password,
                                        "totp": totp, "csrf_token": token})


@pytest.mark.parametrize("path", ["/login", "/", "/static/bastion.css", "/no-such-page",
                                  "/api/me", "/healthz"])
def test_every_response_carries_the_security_headers(web: WebStack, path: str) -> None:
    response = web.client().get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, (path, name)
    csp = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'",
                      "form-action 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


def test_session_cookie_is_httponly_strict_and_only_its_hash_is_stored(web: WebStack) -> None:
    client = web.client()
    response = _login(web, client, "viewer", PASSWORD)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    token = client.cookies[SESSION_COOKIE]
    with web.ctx.sessions() as session:
        digests = set(session.execute(select(WebSession.digest)).scalars())
    assert token not in digests
    assert hashlib.sha256(token.encode()).hexdigest() in digests


def test_cookies_are_secure_over_https(tmp_path: Path) -> None:
    app = create_web_app(WebSettings(database_url=f"sqlite:///{tmp_path}/s.db"))
    app.state.web.users.create("ann", "viewer", password=PASSWORD)

    async def run() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://bastion.test") as c:
            token = csrf_of((await c.get("/login")).text)
            response = await c.post("/login", data={"username": "ann", "password": PASSWORD,
                                                     "csrf_token": token})
            assert "max-age=31536000" in response.headers["strict-transport-security"]
            return response.headers["set-cookie"]

    import asyncio
    cookie = asyncio.run(run())
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


def test_logout_revokes_the_session_on_the_server(web: WebStack) -> None:
    client = web.login("developer")
    stolen = client.cookies[SESSION_COOKIE]
    response = client.post("/logout", data={"csrf_token": web.csrf(client)})
    assert response.status_code == 303
    replay = web.client()
    replay.cookies.set(SESSION_COOKIE, stolen)
    assert replay.get("/").status_code == 303  # back to the login page


def test_password_change_ends_every_session(web: WebStack) -> None:
    web.ctx.users.create("pat", "viewer", password=PASSWORD)
    first, second = web.login("pat"), web.login("pat")
    new = "a brand new passphrase here"
    response = first.post("/account/password", data={
        "current": PASSWORD, "new": new, "csrf_token": web.csrf(first)})
    assert response.status_code == 303
    assert second.get("/").status_code == 303
    assert first.get("/").status_code == 303
    assert web.login("pat", new).get("/").status_code == 200


def test_guessing_the_current_password_from_a_session_counts_and_locks(web: WebStack) -> None:
    """The change-password form is no unlimited password oracle for a stolen session: a wrong
    current password is a failed login; at max_failures (3 here) the account locks, this
    session ends, and even the right password is refused until the lock ends."""
    web.ctx.users.create("guessed", "viewer", password=PASSWORD)
    thief, owner = web.login("guessed"), web.login("guessed")
    token = web.csrf(thief)
    codes = [thief.post("/account/password", data={
        "current": f"guess number {i}!", "new": "a brand new passphrase", "csrf_token": token,
    }).status_code for i in range(3)]
    assert codes == [400, 400, 423]
    assert thief.get("/account").status_code == 303  # this session has ended
    user = web.ctx.users.get("guessed").id
    kinds = [e["type"] for e in web.ctx.audit.events() if e.get("user_id") == user]
    assert kinds.count("user.login_failed") == 3
    assert "user.locked" in kinds
    right = owner.post("/account/password", data={
        "current": PASSWORD, "new": "a brand new passphrase", "csrf_token": web.csrf(owner)})
    assert right.status_code == 423  # locked: the right password is refused too
    assert _login(web, web.client(), "guessed", PASSWORD).status_code == 423


def test_post_without_or_with_a_wrong_csrf_token_is_refused(web: WebStack) -> None:
    client = web.login("admin")
    for data in ({"username": "eve", "role": "viewer"},
                 {"username": "eve", "role": "viewer", "csrf_token": "0" * 64}):
        response = client.post("/admin/users", data=data)
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert web.ctx.users.find("eve") is None
    ok = client.post("/admin/users", data={"username": "eve", "role": "viewer"},
                     headers={"X-CSRF-Token": web.csrf(client)})
    assert ok.status_code == 200
    assert web.ctx.users.find("eve") is not None


def test_another_sessions_csrf_token_does_not_work(web: WebStack) -> None:
    alice, bob = web.login("admin"), web.login("triager")
    response = alice.post("/logout", data={"csrf_token": web.csrf(bob)})
    assert response.status_code == 403
    assert alice.get("/").status_code == 200


def test_login_form_itself_needs_the_csrf_token(web: WebStack) -> None:
    client = web.client()
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_lockout_after_failures_refuses_even_the_right_password(web: WebStack) -> None:
    web.ctx.users.create("lou", "viewer", password=PASSWORD)
    client = web.client()
    codes = [_login(web, client, "lou", "wrong password!!").status_code for _ in range(3)]
    assert codes == [401, 401, 423]
    response = _login(web, client, "lou", PASSWORD)
    assert response.status_code == 423
    assert "locked" in response.text
    events = [e["type"] for e in web.ctx.audit.events() if e.get("user_id") ==
              web.ctx.users.get("lou").id]
    assert events.count("user.login_failed") == 3
    assert "user.locked" in events


def test_every_login_decision_and_logout_is_audited_with_the_address(web: WebStack) -> None:
    """Failures for names that match no user (a spray of guessed names) leave a trace too,
    with a short hash of the name, never the name itself (it may be a password typed in the
    wrong box); logins, failures and logouts carry the client address."""
    start = web.ctx.audit.count()
    client = web.client()
    _login(web, client, "Tr0ub4dor&3-typed-as-a-name", "whatever password")
    _login(web, client, "developer", "wrong password!!")
    assert _login(web, client, "developer", PASSWORD).status_code == 303
    assert client.post("/logout", data={"csrf_token": web.csrf(client)}).status_code == 303
    events = web.ctx.audit.events(after=start)
    assert "Tr0ub4dor" not in json.dumps(events)
    developer = web.ctx.users.get("developer").id
    assert [(e["type"], e.get("user_id")) for e in events] == [
        ("user.login_unknown", None), ("user.login_failed", developer),
        ("user.login", developer), ("user.logout", developer)]
    assert len(events[0]["name_sha256"]) == 16
    assert {e["address"] for e in events} == {"127.0.0.1"}


def test_unknown_users_and_wrong_passwords_read_the_same(web: WebStack) -> None:
    client = web.client()
    unknown = _login(web, client, "nobody-at-all", "whatever password")
    wrong = _login(web, client, "viewer", "whatever password")
    assert unknown.status_code == wrong.status_code == 401
    assert "wrong username or password" in unknown.text
    assert "wrong username or password" in wrong.text


def test_login_attempts_are_rate_limited_per_address(tmp_path: Path) -> None:
    with running_web(f"sqlite:///{tmp_path}/r.db", login_attempts_per_minute=3) as web:
        client = web.client()
        codes = [_login(web, client, f"ghost{i}", "nope nope nope").status_code
                 for i in range(4)]
        assert codes == [401, 401, 401, 429]
        assert _login(web, client, "admin", PASSWORD).status_code == 429


def test_request_bodies_over_the_cap_are_refused_with_a_413(tmp_path: Path) -> None:
    """An anonymous visitor cannot make the app read a huge body (form or JSON, declared or
    chunked): a 413 that says the limit, with the security headers; smaller bodies still work."""
    with running_web(f"sqlite:///{tmp_path}/b.db", max_body_mib=1,
                     login_attempts_per_minute=1000) as web:
        client = web.client()
        form = {"username": "x" * (2 * 1024 * 1024), "password": "p",
                "csrf_token": csrf_of(client.get("/login").text)}
        page = client.post("/login", data=form)
        assert page.status_code == 413
        assert "larger than 1 MiB" in page.text
        assert page.headers["content-security-policy"] == SECURITY_HEADERS[
            "content-security-policy"]

        def chunks() -> Iterator[bytes]:
            for _ in range(3):
                yield b" " * (1024 * 1024)

        api = client.post("/api/findings", content=chunks(),
                          headers={"content-type": "application/json"})
        assert api.status_code == 413
        assert "larger than 1 MiB" in api.json()["error"]["message"]
        assert _login(web, client, "admin", PASSWORD).status_code == 303


def test_set_password_tokens_are_masked_in_the_access_log(
        web: WebStack, caplog: pytest.LogCaptureFixture) -> None:
    """uvicorn's access log (on under ``bastion web run``) writes query strings; a set-password
    link's token there would let anyone reading the log set the password first."""
    access = logging.getLogger("uvicorn.access")
    with caplog.at_level("INFO", logger="uvicorn.access"):
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                    "/set-password?token=Zx9-one-time&next=/", "1.1", 200)
    assert '"GET /set-password?token=***&next=/ HTTP/1.1" 200' in caplog.text
    assert "Zx9-one-time" not in caplog.text


def test_totp_for_an_admin(web: WebStack) -> None:
    web.ctx.users.create("tess", "admin", password=PASSWORD)
    client = web.login("tess")
    page = client.get("/account").text
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page).group(1)
    bad = client.post("/account/totp", data={"secret": secret, "code": "000000",
                                               "csrf_token": csrf_of(page)})
    assert bad.status_code == 400
    assert "does not match" in bad.text
    code = pyotp.TOTP(secret).now()
    good = client.post("/account/totp", data={"secret": secret, "code": code,
                                                "csrf_token": csrf_of(page)})
    assert good.status_code == 200  # the page of recovery codes, shown once
    assert "Two-factor authentication is on" in good.text
    fresh = web.client()
    assert _login(web, fresh, "tess", PASSWORD).status_code == 401
    # The code that turned TOTP on is spent; the app's next one (valid: clocks drift) works.
    spent = _login(web, fresh, "tess", PASSWORD, totp=code)
    assert spent.status_code == 401
    assert "used already" in spent.text
    following = pyotp.TOTP(secret).at(time.time() + 30)
    assert _login(web, fresh, "tess", PASSWORD, totp=following).status_code == 303


def test_totp_cannot_be_rebound_or_fed_a_malformed_secret(web: WebStack) -> None:
    """A session cannot replace a second factor that is on (the form would not prove the old
    authenticator), and a secret the page did not issue is a 400 saying so, not a 500."""
    web.ctx.users.create("rebind", "admin", password=PASSWORD)
    client = web.login("rebind")
    token = web.csrf(client)
    for secret in ("!!!!", "A", "not-base32-at-all-but-32-chars!!"):
        bad = client.post("/account/totp", data={"secret": secret, "code": "123456",
                                                  "csrf_token": token})
        assert bad.status_code == 400, secret
        assert "not one this page issued" in bad.text
    first = pyotp.TOTP(pyotp.random_base32())
    assert client.post("/account/totp", data={"secret": first.secret, "code": first.now(),
                                              "csrf_token": token}).status_code == 200
    thief = pyotp.TOTP(pyotp.random_base32())
    again = client.post("/account/totp", data={"secret": thief.secret, "code": thief.now(),
                                                "csrf_token": token})
    assert again.status_code == 400
    assert "two-factor is on already" in again.text
    later = first.at(time.time() + 30)
    assert _login(web, web.client(), "rebind", PASSWORD, totp=later).status_code == 303


def test_a_totp_code_works_once(web: WebStack) -> None:
    web.ctx.users.create("tom", "triager", password=PASSWORD)
    totp = pyotp.TOTP(pyotp.random_base32())
    web.ctx.users.enable_totp("tom", totp.secret, totp.at(time.time() - 30), by="test")
    code = totp.now()
    assert _login(web, web.client(), "tom", PASSWORD, totp=code).status_code == 303
    replay = _login(web, web.client(), "tom", PASSWORD, totp=code)  # another browser
    assert replay.status_code == 401
    assert "this authenticator code was used already" in replay.text
    assert "wait for the app to show the next one" in replay.text
    older = _login(web, web.client(), "tom", PASSWORD, totp=totp.at(time.time() - 30))
    assert older.status_code == 401  # a step before the one accepted
    failed = [e for e in web.ctx.audit.events() if e["type"] == "user.login_failed"
              and e["user_id"] == web.ctx.users.get("tom").id]
    assert [e["reason"] for e in failed][:1] == ["totp-reused"]


def test_totp_is_not_offered_to_a_viewer(web: WebStack) -> None:
    page = web.login("viewer").get("/account").text
    assert "/account/totp" not in page


def test_login_redirect_stays_on_site(web: WebStack) -> None:
    client = web.client()
    token = csrf_of(client.get("/login?next=//evil.example/x").text)
    response = client.post("/login", data={"username": "viewer", "password": PASSWORD,
                                            "next": "//evil.example/x", "csrf_token": token})
    assert response.headers["location"] == "/"


def test_hostile_usernames_render_inert(web: WebStack) -> None:
    web.ctx.users.create("<script>alert(1)</script>", "viewer", password=PASSWORD)
    page = web.login("admin").get("/admin/users").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_api_uses_keys_with_the_same_permissions(web: WebStack) -> None:
    account = web.ctx.accounts.create_account("api-viewer-sec", "user", by="test")
    web.ctx.users.create("apiview", "viewer", password=PASSWORD, account_id=account.id)
    key = web.ctx.accounts.create_key(account.id, by="test")[1]
    client = web.client()
    me = client.get("/api/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert me.json()["role"] == "viewer"
    users = client.get("/api/users", headers={"Authorization": f"Bearer {key}"})
    assert users.status_code == 403
    assert client.get("/api/me", headers={"Authorization": "Bearer bst-forged"}).status_code == 401
    # keys are read as the gateway reads them: a tab after Bearer, or text after the key, is a
    # 401 that says so (it was read as no key at all, or the text was taken as the key's)
    for header in (f"Bearer\t{key}", f"Bearer {key} extra"):
        refused = client.get("/api/me", headers={"Authorization": header})
        assert refused.status_code == 401
        assert "Authorization header" in refused.text
        assert key not in refused.text
    session = web.login("admin")
    assert session.get("/api/me").status_code == 401  # the API takes keys, not cookies


def test_passwords_of_a_few_repeated_characters_or_holding_the_name_are_refused(
        web: WebStack) -> None:
    """Twelve characters is not enough when they are 'aaaaaaaaaaaa' or '121212121212' (tried
    first by any guesser), or when the password holds the user's own name."""
    web.ctx.users.create("weakling", "viewer", password=PASSWORD)
    client = web.login("weakling")
    token = web.csrf(client)
    for weak, why in (("aaaaaaaaaaaa", "only 1 different characters"),
                      ("121212121212", "only 2 different characters"),
                      ("abcdabcdabcd", "only 4 different characters"),
                      ("my WEAKLING password", "contains your username")):
        refused = client.post("/account/password", data={
            "current": PASSWORD, "new": weak, "csrf_token": token})
        assert refused.status_code == 400, weak
        assert why in refused.text, weak
    with pytest.raises(InputError, match="contains your username"):
        web.ctx.users.create("newcomer", "viewer", password="newcomer rocks the house")
    fine = client.post("/account/password", data={
        "current": PASSWORD, "new": "a brand new passphrase", "csrf_token": token})
    assert fine.status_code == 303


def test_form_errors_say_what_to_fix(web: WebStack) -> None:
    client = web.login("admin")
    response = client.post("/admin/users", data={"csrf_token": web.csrf(client)})
    assert response.status_code == 422
    assert "username" in response.text
    assert "role" in response.text


def test_migration_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from bastion.store import make_engine, upgrade
    from bastion.store._engine import _alembic_config

    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    assert {"web_users", "network_engagements"} <= set(inspect(engine).get_table_names())
    command.downgrade(_alembic_config(engine), "0004")
    names = set(inspect(engine).get_table_names())
    assert "web_users" not in names
    assert "network_engagements" not in names
    assert "expires_at" not in {c["name"] for c in inspect(engine).get_columns("api_keys")}
    upgrade(engine)
    assert "expires_at" in {c["name"] for c in inspect(engine).get_columns("api_keys")}
    engine.dispose()


def test_vendored_files_match_the_manifest() -> None:
    manifest = json.loads((WEB / "static/vendor/manifest.json").read_text())
    assert "htmx" in manifest
    for name, entry in manifest.items():
        data = (WEB / "static/vendor" / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        assert (WEB / "static/vendor" / entry["license_file"]).read_text().strip(), name
        assert entry["version"] in entry["file"]


def _template_files() -> list[Path]:
    roots = [WEB / "templates", *(Path(p) for p in _feature_template_dirs())]
    return [f for root in roots for f in root.rglob("*.html")]


def _feature_template_dirs() -> list[str]:
    from bastion.web import load_features
    return [str(f.templates) for f in load_features() if f.templates is not None]


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    files = _template_files()
    assert files
    for path in files:
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{path.name}: inline <script>"
        assert "<style" not in text, f"{path.name}: inline <style>"
        assert not re.search(r"\sstyle\s*=", text), f"{path.name}: style attribute"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{path.name}: inline event handler"
        assert "|safe" not in text.replace(" ", ""), f"{path.name}: |safe"
        assert "javascript:" not in text.lower(), f"{path.name}: javascript: URL"


def test_postgres_login_session_and_lockout(web_pg: WebStack) -> None:
    client = web_pg.login("triager")
    assert client.get("/admin/users").status_code == 200
    fresh = web_pg.client()
    assert [_login(web_pg, fresh, "viewer", "bad password!!").status_code
            for _ in range(3)] == [401, 401, 423]
    assert web_pg.ctx.audit.verify().ok


