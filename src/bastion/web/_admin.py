"""User administration: list users, invite one with a one-time set-password link, disable
(remove) one, re-admit a removed one afresh."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bastion.errors import InputError
from bastion.store import utcnow
from bastion.web._context import web_context
from bastion.web._features import Feature, NavEntry
from bastion.web._guard import Identity, requires
from bastion.web._permissions import WEB_ROLES, Permission, allowed
from bastion.web._render import flash, render
from bastion.web._users import User

router = APIRouter()
P = Permission
LINK_VALID = timedelta(days=7)


def set_password_link(request: Request, token: str) -> str:
    """The absolute URL of a one-time set-password link."""
    return str(request.url_for("set_password_page").include_query_params(token=token))


def _page(request: Request, me: Identity, **extra: Any) -> dict[str, Any]:
    return {"users": web_context(request).users.users(), "roles": WEB_ROLES, "now": utcnow(),
            "can_manage": allowed(me.role, P.USERS_MANAGE), **extra}


@router.get("/admin/users")
def users_page(request: Request, me: Identity = requires(P.USERS_VIEW)) -> HTMLResponse:
    """Every user, and (for admins) the invite form."""
    return render(request, "admin/users.html", _page(request, me))


@router.post("/admin/users")
def invite(request: Request, username: Annotated[str, Form(max_length=100)],
           role: Annotated[str, Form(max_length=20)],
           me: Identity = requires(P.USERS_MANAGE)) -> HTMLResponse:
    """Create a user without a password and show their one-time link once."""
    assert me.user is not None
    users = web_context(request).users
    removed = users.find(username.strip())
    if removed is not None and removed.disabled:  # inviting a removed member back
        return _readmit(request, me, removed.id, role)
    try:
        user = users.create(username, role, by=me.user.id)  # type: ignore[arg-type]
    except InputError as exc:
        return _refused(request, me, exc)
    return _with_link(request, me, user)


@router.post("/admin/users/{user_id}/readmit")
def readmit(request: Request, user_id: str, role: Annotated[str, Form(max_length=20)],
            me: Identity = requires(P.USERS_MANAGE)) -> HTMLResponse:
    """Re-admit a removed user with the role picked now; their one-time link is shown once."""
    return _readmit(request, me, user_id, role)


def _readmit(request: Request, me: Identity, user_id: str, role: str) -> HTMLResponse:
    assert me.user is not None
    users = web_context(request).users
    before = users.find(user_id)
    if before is not None and before.disabled:
        # A user disabled before removals revoked keys may still hold live ones: end them
        # now, so that nothing of before survives re-admission.
        _end_grants(request, before, by=me.user.id)
    try:
        user = users.readmit(user_id, role, by=me.user.id)  # type: ignore[arg-type]
    except InputError as exc:
        return _refused(request, me, exc)
    return _with_link(request, me, user, readmitted=user)


def _refused(request: Request, me: Identity, exc: InputError) -> HTMLResponse:
    return render(request, "admin/users.html", _page(request, me, error=str(exc)),
                  status_code=400)


def _with_link(request: Request, me: Identity, user: User, **extra: Any) -> HTMLResponse:
    """The users page showing ``user``'s new one-time set-password link, once."""
    assert me.user is not None
    token = web_context(request).users.issue_token(user.id, "set-password", valid=LINK_VALID,
                                                   by=me.user.id)
    return render(request, "admin/users.html", _page(
        request, me, link=set_password_link(request, token), link_user=user.username, **extra))


@router.post("/admin/users/{user_id}/unlock")
def unlock(request: Request, user_id: str, me: Identity = requires(P.USERS_MANAGE)) -> Response:
    """End a user's lock-out now."""
    assert me.user is not None
    user = web_context(request).users.unlock(user_id, by=me.user.id)
    flash(request, f"{user.username} is unlocked", "ok")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/reset-totp")
def reset_totp(request: Request, user_id: str,
               me: Identity = requires(P.USERS_MANAGE)) -> Response:
    """Turn off the two-factor of a user who lost their authenticator; their sessions end."""
    assert me.user is not None
    if user_id == me.user.id:
        raise InputError("you cannot reset your own two-factor (a stolen session could drop "
                         "it); move it to a new app on your account page, or ask another admin")
    user = web_context(request).users.reset_totp(user_id, by=me.user.id)
    flash(request, f"two-factor of {user.username} is off and their sessions have ended; they "
                   "log in with their password and turn it on again", "ok")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/disable")
def disable(request: Request, user_id: str, disabled: Annotated[str, Form(max_length=5)] = "1",
            me: Identity = requires(P.USERS_MANAGE)) -> Response:
    """Disable (remove) a user: their sessions end, the API keys of their linked account are
    revoked, and each feature ends what it gave them (the network: engagement keys).

    ``disabled=0`` (the old "enable") is refused: it would hand back the old password, second
    factor, role and keys; re-admitting starts them afresh.
    """
    assert me.user is not None
    if disabled == "0":
        raise InputError("a removed user is not switched back on (that would restore their "
                         "old password, two-factor and keys); re-admit them instead: pick a "
                         "role and send them the new one-time link")
    if user_id == me.user.id:
        raise InputError("you cannot disable yourself; ask another admin")
    user = web_context(request).users.set_disabled(user_id, True, by=me.user.id)
    _end_grants(request, user, by=me.user.id)
    flash(request, f"{user.username} is disabled: their sessions and keys no longer work",
          "ok")
    return RedirectResponse("/admin/users", status_code=303)


def _end_grants(request: Request, user: User, *, by: str) -> None:
    """Revoke the API keys of the user's linked account and let each feature end what it
    gave them (the network: engagement keys). Idempotent."""
    ctx = web_context(request)
    if user.account_id is not None:
        for key in ctx.accounts.keys(user.account_id):
            ctx.accounts.revoke_key(key.id, by=by)
    for feature in request.app.state.features:
        if feature.on_user_disabled is not None:
            feature.on_user_disabled(ctx, user.id, by)


@router.get("/api/users")
def api_users(request: Request, me: Identity = requires(P.USERS_VIEW)) -> list[dict[str, Any]]:
    """Every user (no secrets)."""
    return [{"id": u.id, "username": u.username, "role": u.role, "disabled": u.disabled,
             "totp": u.totp_enabled} for u in web_context(request).users.users()]


feature = Feature(
    name="admin", router=router,
    nav=(NavEntry("Users", "/admin/users", P.USERS_VIEW, order=90),),
)
