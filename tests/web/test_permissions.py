"""Every route declares one permission; the authorisation matrix is generated from the routes.

The matrix walks the app's route table: every route x every role x anonymous, and expects
exactly what :data:`bastion.web.GRANTS` says. A new route without a rule fails here (and the
app refuses to start); a new permission without a grant is denied to everyone and flagged.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from tests.web.conftest import WebStack

from bastion.errors import ConfigError
from bastion.web import (
    GRANTS,
    SESSION_COOKIE,
    WEB_ROLES,
    Feature,
    Permission,
    WebRole,
    WebSettings,
    allowed,
    create_web_app,
    permissions_of,
    requires,
    route_permission,
    views,
)
from bastion.web._secrets import derived, new_token

ROLES: list[WebRole | None] = [None, *WEB_ROLES]




def test_every_route_declares_exactly_one_permission(web: WebStack) -> None:
    routes = views(web.app)
    assert len(routes) >= 10
    for path, route in routes:
        assert len(route_permission(route)) == 1, f"{path} {route.methods}"


def test_anonymous_visitors_hold_only_the_public_permission() -> None:
    assert permissions_of(None) == {Permission.PUBLIC}
    assert permissions_of("viewer") < permissions_of("admin")
    assert not allowed("triager", Permission.USERS_MANAGE)


def test_every_permission_is_granted_to_someone() -> None:
    assert set(GRANTS) == set(Permission), "a Permission has no row in GRANTS"
    for permission, roles in GRANTS.items():
        assert roles, f"{permission} is granted to nobody"
        assert allowed("admin", permission), f"admins should hold {permission}"


def test_an_app_with_an_unguarded_route_refuses_to_start(tmp_path: Any, monkeypatch: Any) -> None:
    router = APIRouter()

    @router.get("/naked")
    def naked() -> dict[str, str]:
        return {}

    @router.get("/twice", dependencies=[requires(Permission.PUBLIC), requires(Permission.HOME_VIEW)])
    def twice() -> dict[str, str]:
        return {}

    import bastion.web._features as features_module
    for path in ("/naked", "/twice"):
        only = APIRouter()
        only.routes.extend(r for r in router.routes if getattr(r, "path", "") == path)
        monkeypatch.setattr(features_module, "bad_feature", Feature("bad", only), raising=False)
        with pytest.raises(ConfigError, match=re.escape(repr(path))):
            create_web_app(WebSettings(database_url=f"sqlite:///{tmp_path}/x.db"),
                           features=("bastion.web._core:feature",
                                     "bastion.web._features:bad_feature"))


@pytest.fixture(scope="module")
def api_keys(web: WebStack) -> dict[WebRole, str]:
    """An API key per role, its account linked to that role's fixture user."""
    keys: dict[WebRole, str] = {}
    for role in WEB_ROLES:
        account = web.ctx.accounts.create_account(f"api-{role}", "user", by="test")
        web.ctx.users.link_account(role, account.id, by="test")
        keys[role] = web.ctx.accounts.create_key(account.id, by="test")[1]
    return keys


def _request(web: WebStack, template: str, method: str, role: WebRole | None,
             keys: dict[WebRole, str]) -> httpx.Response:
    path = re.sub(r"\{[^}]+\}", "matrix-probe", template)
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if path.startswith("/api/"):
        if role is not None:
            headers["Authorization"] = f"Bearer {keys[role]}"
    else:
        # A fresh session (or anonymous CSRF seed) per request: a route that ends sessions
        # (logout, password change) cannot disturb the next cell of the matrix.
        if role is None:
            seed = new_token()
            cookies["bastion_pre"] = seed
        else:
            seed = web.ctx.logins.open(web.ctx.users.get(role).id)
            cookies[SESSION_COOKIE] = seed
        headers["X-CSRF-Token"] = derived(seed, "csrf")
    with httpx.Client(base_url=web.url, cookies=cookies, timeout=30) as client:
        return client.request(method, path, headers=headers, follow_redirects=False)


def _denied(response: httpx.Response, role: WebRole | None, api: bool) -> bool:
    if role is not None:
        if response.request.method == "HEAD":  # no body to read: the GET cell checks it
            return response.status_code == 403
        return response.status_code == 403 and "lacks permission" in response.text
    if api:
        return response.status_code == 401
    return (response.status_code == 303
            and response.headers["location"].startswith("/login?next="))


def test_authorisation_matrix(web: WebStack, api_keys: dict[WebRole, str]) -> None:
    cells = 0
    wrong: list[str] = []
    for path, route in views(web.app):
        (permission,) = route_permission(route)
        for method in sorted(route.methods):
            for role in ROLES:
                response = _request(web, path, method, role, api_keys)
                denied = _denied(response, role, path.startswith("/api/"))
                expected_denied = not allowed(role, permission)
                cells += 1
                if denied != expected_denied:
                    wrong.append(f"{method} {path} as {role or 'anonymous'}: got "
                                 f"{response.status_code}, expected "
                                 f"{'denied' if expected_denied else 'allowed'} "
                                 f"({permission.value})")
    assert not wrong, "\n".join(wrong)
    assert cells >= 6 * 10


def test_every_get_view_answers_head_like_get_without_a_body(
        web: WebStack, api_keys: dict[WebRole, str]) -> None:
    gets = [(path, route) for path, route in views(web.app) if "GET" in route.methods]
    assert len(gets) >= 10
    wrong: list[str] = []
    for path, route in gets:
        assert "HEAD" in route.methods, path  # so the matrix above covers HEAD too
        for role in ("admin", None):
            get = _request(web, path, "GET", role, api_keys)
            head = _request(web, path, "HEAD", role, api_keys)
            same = (head.status_code == get.status_code and head.content == b""
                    and head.headers.get("content-type") == get.headers.get("content-type")
                    and head.headers.get("location") == get.headers.get("location"))
            if not same:
                wrong.append(f"HEAD {path} as {role or 'anonymous'}: {head.status_code} "
                             f"{head.headers.get('content-type')} {len(head.content)} bytes; "
                             f"GET gave {get.status_code} {get.headers.get('content-type')}")
    assert not wrong, "\n".join(wrong)


def test_head_of_a_page_is_not_refused_with_405(web: WebStack) -> None:
    client = web.login("viewer")
    assert client.head("/").status_code == 200
    assert client.head("/account").status_code == 200
    assert client.head("/admin/users").status_code == 403  # the same guard as GET
    assert web.client().head("/login").status_code == 200
    refused = web.client().head("/logout")  # a POST-only route still refuses HEAD
    assert refused.status_code == 405
