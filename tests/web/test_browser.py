"""The foundation in a real browser: login, logout, lock-out, CSRF refusal, CSP on every page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from tests.web.conftest import PASSWORD, Pages, WebStack

from bastion.web import views

pytestmark = pytest.mark.browser


def _pages_to_visit(web: WebStack) -> list[str]:
    """Every GET page without path parameters (the API and health answer JSON)."""
    return sorted({path for path, route in views(web.app)
                   if "GET" in route.methods and "{" not in path
                   and not path.startswith("/api/") and path != "/healthz"})


def test_login_and_logout(pages: Pages) -> None:
    page = pages.login("viewer")
    assert page.locator("h1").inner_text() == "Welcome, viewer"
    assert page.evaluate("typeof htmx") == "object"  # the vendored script ran under the CSP
    page.click("text=Log out")
    page.wait_for_url("**/login")
    expect(page.locator("h1")).to_have_text("Log in")
    page.goto("/")
    assert "/login?next=/" in page.url
    assert pages.violations() == []


def test_wrong_password_then_lockout(pages: Pages, web: WebStack) -> None:
    web.ctx.users.create("bria", "viewer", password=PASSWORD)
    page = pages.new()
    for expected in ("wrong username or password", "wrong username or password", "locked"):
        page.goto("/login")
        page.fill("input[name=username]", "bria")
        page.fill("input[name=password]", "not the password")
        page.click("form[action='/login'] button[type=submit]")
        expect(page.locator("[role=alert]")).to_contain_text(expected)
    page.goto("/login")
    page.fill("input[name=username]", "bria")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("[role=alert]")).to_contain_text("locked")
    assert "/login" in page.url


def test_tampered_csrf_token_is_refused(pages: Pages, web: WebStack) -> None:
    page = pages.login("admin")
    page.goto("/admin/users")
    page.fill("input[name=username]", "mallory")
    page.locator("form[action='/admin/users'] input[name=csrf_token]").evaluate(
        "e => { e.value = 'forged' }")
    with page.expect_response("**/admin/users") as response:
        page.click("form[action='/admin/users'] button[type=submit]")
    assert response.value.status == 403
    expect(page.locator("main")).to_contain_text("CSRF")
    assert web.ctx.users.find("mallory") is None


def test_csp_header_and_no_violation_on_any_page(pages: Pages, web: WebStack) -> None:
    visited = 0
    for role in ("admin", "viewer"):
        page = pages.login(role)
        for path in _pages_to_visit(web):
            response: Any = page.goto(path)
            assert "script-src 'self'" in response.headers["content-security-policy"], path
            visited += 1
    anonymous = pages.new()
    for path in ("/login", "/set-password?token=nope"):
        anonymous.goto(path)
        visited += 1
    assert visited >= 6
    assert pages.violations() == []
