"""User administration: list users, invite one with a one-time set-password link."""

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
    try:
        user = users.create(username, role, by=me.user.id)  # type: ignore[arg-type]
    except InputError as exc:
        return render(request, "admin/users.html", _page(request, me, error=str(exc)),
                      status_code=400)
    token = users.issue_token(user.id, "set-password", valid=LINK_VALID, by=me.user.id)
    return render(request, "admin/users.html", _page(
        request, me, link=set_password_link(request, token), link_user=user.username))


@router.post("/admin/users/{user_id}/unlock")
def unlock(request: Request, user_id: str, me: Identity = requires(P.USERS_MANAGE)) -> Response:
    """End a user's lock-out now."""
    assert me.user is not None
    user = web_context(request).users.unlock(user_id, by=me.user.id)
    flash(request, f"{user.username} is unlocked", "ok")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/disable")
def disable(request: Request, user_id: str, disabled: Annotated[str, Form(max_length=5)] = "1",
            me: Identity = requires(P.USERS_MANAGE)) -> Response:
    """Disable a user (their sessions end) or, with ``disabled=0``, enable them again."""
    assert me.user is not None
    if user_id == me.user.id:
        raise InputError("you cannot disable yourself; ask another admin")
    user = web_context(request).users.set_disabled(user_id, disabled != "0", by=me.user.id)
    flash(request, f"{user.username} is {'disabled' if user.disabled else 'enabled'}", "ok")
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/api/users")
def api_users(request: Request, me: Identity = requires(P.USERS_VIEW)) -> list[dict[str, Any]]:
    """Every user (no secrets)."""
    return [{"id": u.id, "username": u.username, "role": u.role, "disabled": u.disabled,
             "totp": u.totp_enabled} for u in web_context(request).users.users()]


feature = Feature(
    name="admin", router=router,
    nav=(NavEntry("Users", "/admin/users", P.USERS_VIEW, order=90),),
)
