"""Account lifecycle in a real browser: moving two-factor to a new app, removing a user and
re-admitting them."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect
from tests.web.conftest import PASSWORD, Pages, WebStack

pytestmark = pytest.mark.browser


def test_moving_two_factor_to_a_new_app(pages: Pages, web: WebStack) -> None:
    web.ctx.users.create("phone-swap", "triager", password=PASSWORD)
    page = pages.login("phone-swap")
    old = pyotp.TOTP(pyotp.random_base32())
    web.ctx.users.enable_totp("phone-swap", old.secret, old.at(time.time() - 30), by="test")
    page.goto("/account")
    form = page.locator("form[action='/account/totp/move']")
    new = pyotp.TOTP(form.locator("input[name=secret]").input_value())
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("input[name=current]").fill(old.now())
    form.locator("input[name=code]").fill(new.now())
    form.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("now uses the new authenticator app")
    later = time.time() + 30
    assert web.ctx.users.login("phone-swap", PASSWORD, old.at(later)).outcome == "bad-totp"
    assert web.ctx.users.login("phone-swap", PASSWORD, new.at(later)).outcome == "ok"
    assert pages.violations() == []


def test_disabling_then_readmitting_a_user(pages: Pages, web: WebStack) -> None:
    web.ctx.users.create("leaver", "red-teamer", password=PASSWORD)
    page = pages.login("admin")
    page.goto("/admin/users")
    page.click("text=Disable leaver")
    expect(page.locator("main")).to_contain_text("leaver is disabled")
    row = page.locator("tr", has_text="leaver")
    row.locator("select[name=role]").select_option("developer")
    row.locator("text=Re-admit leaver").click()
    expect(page.locator("main")).to_contain_text("is re-admitted as developer")
    expect(page.locator("#set-password-link")).to_contain_text("/set-password?token=")
    user = web.ctx.users.get("leaver")
    assert (user.role, user.disabled, user.has_password) == ("developer", False, False)
    assert pages.violations() == []


def test_logging_out_everywhere_else(pages: Pages, web: WebStack) -> None:
    web.ctx.users.create("two-browsers", "viewer", password=PASSWORD)
    other = pages.login("two-browsers")
    page = pages.login("two-browsers")
    page.goto("/account")
    expect(page.locator("text=this session")).to_have_count(1)
    page.click("text=Log out everywhere else")
    expect(page.locator("main")).to_contain_text("1 other session ended")
    other.goto("/account")
    assert "/login" in other.url
    assert pages.violations() == []


def test_recovery_codes_are_shown_once_and_log_in_in_place_of_a_code(
        pages: Pages, web: WebStack) -> None:
    web.ctx.users.create("lost-it", "triager", password=PASSWORD)
    page = pages.login("lost-it")
    page.goto("/account")
    form = page.locator("form[action='/account/totp']")
    totp = pyotp.TOTP(form.locator("input[name=secret]").input_value())
    form.locator("input[name=code]").fill(totp.now())
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Two-factor authentication is on")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.goto("/account")
    expect(page.locator("#recovery")).to_contain_text("10 unused recovery codes left")
    other = pages.new()  # the phone is lost: log in elsewhere with a recovery code
    other.goto("/login")
    other.fill("input[name=username]", "lost-it")
    other.fill("input[name=password]", PASSWORD)
    other.fill("input[name=totp]", codes[0])
    other.click("form[action='/login'] button[type=submit]")
    other.wait_for_url(f"{web.url}/")
    other.goto("/account")
    expect(other.locator("#recovery")).to_contain_text("9 unused recovery codes left")
    assert pages.violations() == []
