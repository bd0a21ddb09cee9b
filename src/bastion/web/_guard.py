"""Who is calling and may they: identity, the one-permission-per-view guard, CSRF.

Pages authenticate by the session cookie; ``/api/...`` routes by an API key
(``Authorization: Bearer bst-...``) from :mod:`bastion.accounts`, mapped to the web user the
key's account is linked to. Both go through the same :class:`Guard`, so a permission means the
same thing on a page and on the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Depends, HTTPException
from fastapi.routing import APIRoute
from starlette.requests import Request

from bastion.serve import BearerError, read_bearer
from bastion.web._context import web_context
from bastion.web._permissions import Permission, WebRole, allowed
from bastion.web._secrets import derived, new_token, same
from bastion.web._users import User

SESSION_COOKIE = "bastion_session"
PRE_COOKIE = "bastion_pre"
"""Anonymous visitors' cookie: seeds the CSRF token of the login and application forms."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
API_PREFIX = "/api/"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Identity:
    """The caller of one request.

    Attributes:
        user: the logged-in user, or ``None`` for an anonymous visitor.
        via: how they authenticated.
        session_id: the session's id (``via == 'session'``).
        csrf: the CSRF token forms and htmx requests of this visitor must send back.
    """

    user: User | None
    via: Literal["session", "api-key", "anonymous"]
    session_id: str | None = None
    csrf: str | None = None

    @property
    def role(self) -> WebRole | None:
        """The user's role, ``None`` when anonymous."""
        return None if self.user is None else self.user.role


class LoginRequired(Exception):  # noqa: N818 - an outcome (redirect to /login), not a fault
    """An anonymous visitor asked for a page that needs a login."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class Guard:
    """The dependency behind :func:`requires`: authenticates, authorises, checks CSRF.

    ``permission`` is read back from the route table by :func:`route_permission`.
    """

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, request: Request) -> Identity:
        """The caller's :class:`Identity`, or an HTTP error / login redirect."""
        identity = identify(request)
        request.state.identity = identity
        if not allowed(identity.role, self.permission):
            if identity.user is None and not _is_api(request):
                raise LoginRequired(request.url.path)
            if identity.user is None:
                raise HTTPException(401, "an API key is required: send 'Authorization: "
                                         "Bearer bst-...' with a key linked to a web user",
                                    headers={"WWW-Authenticate": "Bearer"})
            raise HTTPException(403, f"your role {identity.role!r} lacks permission "
                                     f"{self.permission.value!r}; ask an admin")
        if request.method not in _SAFE_METHODS and identity.via != "api-key":
            await _check_csrf(request, identity)
        if identity.user is not None:
            _pass_gates(request, identity.user, self.permission)
        return identity

    def __repr__(self) -> str:
        return f"requires({self.permission.value!r})"


def _pass_gates(request: Request, user: User, permission: Permission) -> None:
    """Ask each feature's gate (:attr:`Feature.gate`) whether ``user`` may go on to the view;
    a detour is a redirect for a page (its body says why; the page it leads to should too),
    else a 403 saying why."""
    ctx = web_context(request)
    for feature in getattr(request.app.state, "features", ()):
        detour = None if feature.gate is None else feature.gate(ctx, user, permission)
        if detour is None:
            continue
        if request.method in _SAFE_METHODS and not _is_api(request):
            raise HTTPException(303, detour.reason, headers={"Location": detour.path})
        raise HTTPException(403, detour.reason)


def requires(permission: Permission) -> Any:
    """Declare the one permission a view needs; use as a dependency or a parameter default.

    ``@router.get("/x", dependencies=[requires(P.X)])`` or
    ``def view(me: Identity = requires(P.X))``.
    """
    return Depends(Guard(permission))


def route_permission(route: APIRoute) -> list[Permission]:
    """Every permission declared on a route (a correct route has exactly one)."""
    found: list[Permission] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Guard):
            found.append(dep.call.permission)
        stack.extend(dep.dependencies)
    return found


def identify(request: Request) -> Identity:
    """Who is calling: API key on ``/api``, session cookie elsewhere, else anonymous."""
    cached = getattr(request.state, "identity", None)
    if isinstance(cached, Identity):
        return cached
    ctx = web_context(request)
    if _is_api(request):
        try:
            key = read_bearer(request.headers.getlist("authorization"))
        except BearerError as exc:
            raise HTTPException(exc.status, f"{exc.problem}; send 'Authorization: Bearer "
                                            "bst-...'", headers={"WWW-Authenticate": "Bearer"}
                                ) from None
        if key is None:
            return Identity(None, "anonymous")
        principal = ctx.accounts.authenticate(key)
        user = None if principal is None else ctx.users.by_account(principal.account.id)
        if principal is None or user is None or user.disabled or principal.account.suspended:
            raise HTTPException(401, "this API key is unknown, revoked, suspended or not "
                                     "linked to a web user; ask an admin for a key",
                                headers={"WWW-Authenticate": "Bearer"})
        return Identity(user, "api-key")
    token = request.cookies.get(SESSION_COOKIE)
    live = None if not token else ctx.logins.lookup(token)
    if token and live is not None:
        return Identity(live.user, "session", live.id, derived(token, "csrf"))
    pre = request.cookies.get(PRE_COOKIE)
    if not pre or len(pre) > 100:
        pre = new_token()
        request.state.new_pre_cookie = pre
    return Identity(None, "anonymous", csrf=derived(pre, "csrf"))


async def _check_csrf(request: Request, identity: Identity) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if (identity.csrf is None or sent is None
            or getattr(request.state, "new_pre_cookie", None) is not None
            or not same(sent, identity.csrf)):
        raise HTTPException(403, "the form's security token is missing or stale (CSRF "
                                 "check); reload the page and submit it again")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)
