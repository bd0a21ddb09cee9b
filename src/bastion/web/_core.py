"""The core feature: log in and out, the start page, your account, set-password links, health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bastion.errors import InputError
from bastion.web._context import web_context
from bastion.web._features import Feature, NavEntry
from bastion.web._guard import SESSION_COOKIE, Identity, requires
from bastion.web._permissions import Permission
from bastion.web._render import flash, render, set_cookie
from bastion.web._secrets import totp_uri
from bastion.web._totp import TOTP_ROLES

router = APIRouter()
P = Permission


def safe_next(target: str | None) -> str:
    """A same-site path to go to after logging in (anything else goes to ``/``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _client(request: Request) -> str:
    """The caller's address, as audit events and per-address limits record it."""
    return request.client.host if request.client else "unknown"


@router.get("/login", dependencies=[requires(P.PUBLIC)])
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    """The login form."""
    return render(request, "core/login.html", {"next": safe_next(next), "username": ""})


@router.post("/login", dependencies=[requires(P.PUBLIC)])
def login(request: Request, username: Annotated[str, Form(max_length=200)],
          password: Annotated[str, Form(max_length=2000)],
          totp: Annotated[str, Form(max_length=20)] = "",
          next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    """Check the credentials; on success open a session and set its cookie."""
    ctx = web_context(request)
    client = _client(request)
    again = {"next": safe_next(next), "username": username}
    if not ctx.login_limiter.hit(ctx.login_rate, "web-login", client):
        return render(request, "core/login.html", {**again, "error": (
            "too many login attempts from your address; wait a minute and try again")},
            status_code=429)
    result = ctx.users.login(username, password, totp or None, address=client)
    if result.outcome != "ok" or result.user is None:
        messages = {
            "bad-credentials": "wrong username or password",
            "totp-required": "this account uses two-factor: type the authenticator code too",
            "bad-totp": "the authenticator code is wrong; check the app's clock",
            "totp-reused": "this authenticator code was used already (a code works once); "
                           "wait for the app to show the next one and type that",
            "bad-recovery": "this recovery code is not one of yours (it is mistyped, or was "
                            "replaced by a newer set); check it, or type a code from your "
                            "authenticator app",
            "recovery-used": "this recovery code was used already (each one works once); type "
                             "another of your recovery codes, or a code from your "
                             "authenticator app",
            "locked": "too many failed logins: this account is locked for "
                      f"{ctx.settings.lockout_minutes} minutes; an admin can unlock it sooner",
        }
        status = 423 if result.outcome == "locked" else 401
        return render(request, "core/login.html", {**again, "error": messages[result.outcome]},
                      status_code=status)
    response = RedirectResponse(safe_next(next), status_code=303)
    token = ctx.logins.open(result.user.id)
    if result.recovery_codes_left is not None:
        _recovery_notice(ctx, token, result.recovery_codes_left)
    set_cookie(request, response, SESSION_COOKIE, token,
               max_age=ctx.settings.session_minutes * 60)
    return response


def _recovery_notice(ctx: Any, token: str, left: int) -> None:
    """Tell a user who logged in with a recovery code how many remain and what to do next
    (if it was not them, they learn it here too: the code is spent)."""
    live = ctx.logins.lookup(token)
    if live is not None:
        ctx.logins.flash(live.id, "info", (
            f"you logged in with a recovery code; {left} unused one{'' if left == 1 else 's'} "
            "left. If your authenticator is lost, ask an admin to reset two-factor, then turn "
            "it on again; make new codes on your account page when you run low"))


@router.post("/logout")
def logout(request: Request, me: Identity = requires(P.ACCOUNT_VIEW)) -> Response:
    """End the session (server side, audited as ``user.logout``) and clear the cookie."""
    ctx = web_context(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        ctx.logins.revoke(token)
    if me.user is not None:
        ctx.audit.append([{"type": "user.logout", "user_id": me.user.id, "session": me.session_id,
                           "address": _client(request)}])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", dependencies=[requires(P.HOME_VIEW)])
def home(request: Request) -> HTMLResponse:
    """The start page: links to everything the user may open."""
    return render(request, "core/home.html")


def _account_context(request: Request, me: Identity) -> dict[str, Any]:
    ctx = web_context(request)
    assert me.user is not None
    secret = ctx.users.start_totp()
    return {"totp_allowed": me.user.role in TOTP_ROLES, "totp_secret": secret,
            "totp_uri": totp_uri(secret, me.user.username, ctx.settings.totp_issuer),
            "live_sessions": ctx.logins.live(me.user.id),
            "recovery_left": ctx.users.recovery_codes_left(me.user.id)}


@router.get("/account")
def account(request: Request, me: Identity = requires(P.ACCOUNT_VIEW)) -> HTMLResponse:
    """Your account: change password, two-factor, the sessions that are logged in."""
    return render(request, "core/account.html", _account_context(request, me))


def _end_locked_session(request: Request, me: Identity) -> Response:
    """Wrong current passwords locked the account: end this session too, and say so."""
    ctx = web_context(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        ctx.logins.revoke(token)
    response = render(request, "core/account.html", {
        **_account_context(request, me), "error": (
            "too many wrong passwords: this account is locked for "
            f"{ctx.settings.lockout_minutes} minutes and this session has ended; log in "
            "again after that, or ask an admin to unlock it")}, status_code=423)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/account/password")
def change_password(request: Request, current: Annotated[str, Form(max_length=2000)],
                    new: Annotated[str, Form(max_length=2000)],
                    me: Identity = requires(P.ACCOUNT_UPDATE)) -> Response:
    """Change your password; every session (this one too) ends.

    A wrong current password counts as a failed login; when that locks the account, this
    session ends too (whoever is guessing from inside it is not the owner, or forgot)."""
    ctx = web_context(request)
    assert me.user is not None
    error = None
    refused = ctx.users.confirm_password(me.user.id, current, address=_client(request))
    if refused == "locked":
        return _end_locked_session(request, me)
    if refused is not None:
        error = "the current password is wrong (a wrong one counts as a failed login)"
    else:
        try:
            ctx.users.set_password(me.user.id, new, by=me.user.id)
        except InputError as exc:
            error = str(exc)
    if error:
        return render(request, "core/account.html",
                      {**_account_context(request, me), "error": error}, status_code=400)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/account/totp")
def enable_totp(request: Request, secret: Annotated[str, Form(max_length=64)],
                code: Annotated[str, Form(max_length=20)],
                me: Identity = requires(P.ACCOUNT_UPDATE)) -> Response:
    """Turn on two-factor once the code from the app matches, and show the recovery codes
    that came with it, once (the page is not cached; a reload does not show them again)."""
    assert me.user is not None
    try:
        _, codes = web_context(request).users.enable_totp(me.user.id, secret, code,
                                                          by=me.user.id)
    except InputError as exc:
        return render(request, "core/account.html",
                      {**_account_context(request, me), "error": str(exc)}, status_code=400)
    return render(request, "core/recovery_codes.html",
                  {"codes": codes, "headline": "Two-factor authentication is on"})


@router.post("/account/recovery-codes")
def new_recovery_codes(request: Request, password: Annotated[str, Form(max_length=2000)],
                       me: Identity = requires(P.ACCOUNT_UPDATE)) -> Response:
    """Replace your recovery codes (the current password re-authenticates; a wrong one counts
    as a failed login) and show the new ones once; the old ones stop working."""
    ctx = web_context(request)
    assert me.user is not None
    try:
        refused, codes = ctx.users.new_recovery_codes(me.user.id, password=password,
                                                      address=_client(request))
    except InputError as exc:
        return render(request, "core/account.html",
                      {**_account_context(request, me), "error": str(exc)}, status_code=400)
    if refused == "locked":
        return _end_locked_session(request, me)
    if refused is not None:
        return render(request, "core/account.html", {**_account_context(request, me), "error": (
            "the current password is wrong (a wrong one counts as a failed login); your "
            "recovery codes are unchanged")}, status_code=400)
    return render(request, "core/recovery_codes.html",
                  {"codes": codes, "headline": "New recovery codes"})


_MOVE_REFUSALS = {
    "bad-credentials": "the current password is wrong (a wrong one counts as a failed login); "
                       "two-factor still uses the old app",
    "bad-totp": "the code from the old app is wrong (it counts as a failed login); check "
                "that app's clock; two-factor still uses the old app",
    "totp-reused": "that code from the old app was used already (a code works once); wait for "
                   "the next one; two-factor still uses the old app",
    "totp-required": "type a code from the old authenticator app too",
}


@router.post("/account/totp/move")
def move_totp(request: Request, password: Annotated[str, Form(max_length=2000)],
              current: Annotated[str, Form(max_length=20)],
              secret: Annotated[str, Form(max_length=64)],
              code: Annotated[str, Form(max_length=20)],
              me: Identity = requires(P.ACCOUNT_UPDATE)) -> Response:
    """Move two-factor to a new authenticator app: password, an old-app code and a new-app
    code; the old app stops working and every other session ends (this one stays)."""
    ctx = web_context(request)
    assert me.user is not None
    error: str | None = None
    try:
        refused = ctx.users.move_totp(me.user.id, password=password, current=current,
                                      secret=secret, code=code, keep_session=me.session_id,
                                      address=_client(request))
    except InputError as exc:
        refused, error = None, str(exc)
    if refused is not None and refused != "locked":
        error = _MOVE_REFUSALS[refused]
    if refused == "locked":
        return _end_locked_session(request, me)
    if error is not None:
        return render(request, "core/account.html",
                      {**_account_context(request, me), "error": error}, status_code=400)
    flash(request, "two-factor now uses the new authenticator app: the old one no longer "
                   "works, and your other sessions have ended", "ok")
    return RedirectResponse("/account", status_code=303)


@router.post("/account/sessions/end")
def end_sessions(request: Request, session: Annotated[str, Form(max_length=40)] = "",
                 me: Identity = requires(P.ACCOUNT_UPDATE)) -> Response:
    """End one of your other sessions (``session``) or, without it, every other one: a lost
    phone or a shared computer stays logged in no longer. Audited as ``user.sessions_ended``."""
    ctx = web_context(request)
    assert me.user is not None
    if session and session == me.session_id:
        raise InputError("that is this session; use 'Log out' to end it")
    ended = ctx.logins.end(me.user.id, session or None, keep=me.session_id)
    ctx.audit.append([{"type": "user.sessions_ended", "user_id": me.user.id,
                       "by": me.user.id, "session": session or "all others", "ended": ended,
                       "address": _client(request)}])
    flash(request, f"{ended} other session{'' if ended == 1 else 's'} ended", "ok")
    return RedirectResponse("/account", status_code=303)


@router.get("/set-password", dependencies=[requires(P.PUBLIC)])
def set_password_page(request: Request, token: str = "") -> HTMLResponse:
    """The form behind a one-time set-password link."""
    user = web_context(request).users.token_user(token, "set-password") if token else None
    error = None if user else "this link is unknown, used or expired; ask an admin for a new one"
    return render(request, "core/set_password.html",
                  {"user": user, "token": token, "error": error},
                  status_code=200 if user else 404)


@router.post("/set-password", dependencies=[requires(P.PUBLIC)])
def set_password(request: Request, token: Annotated[str, Form(max_length=200)],
                 password: Annotated[str, Form(max_length=2000)]) -> Response:
    """Use a one-time link: set the password, then log in."""
    users = web_context(request).users
    try:
        users.redeem_password_token(token, password)
    except InputError as exc:
        user = users.token_user(token, "set-password")
        return render(request, "core/set_password.html",
                      {"user": user, "token": token, "error": str(exc)}, status_code=400)
    return RedirectResponse("/login?next=/", status_code=303)


@router.get("/healthz", dependencies=[requires(P.PUBLIC)])
def health() -> JSONResponse:
    """Liveness for load balancers."""
    return JSONResponse({"status": "ok"})


@router.get("/api/me")
def api_me(me: Identity = requires(P.ACCOUNT_VIEW)) -> dict[str, Any]:
    """The user an API key belongs to."""
    assert me.user is not None
    return {"id": me.user.id, "username": me.user.username, "role": me.user.role}


feature = Feature(
    name="core", router=router,
    nav=(NavEntry("Home", "/", P.HOME_VIEW, order=0),),
)
