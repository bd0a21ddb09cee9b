"""The network end to end in a real browser, against the real gateway:
apply → admin approves → member sets a password and accepts the NDA and rules → joins an
engagement → gets a key → the key works in scope, not outside → member removed → key refused.

Screenshots of the main pages go to ``$BASTION_SCREENSHOTS_DIR`` (``scripts/screenshots.py``
points it at ``docs/screenshots``), else to the test's temporary folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.gateway.conftest import (  # noqa: F401 - fixtures used by name
    GatewayFactory,
    Running,
    _identity_secret,
    gateway_factory,
    upstream,
)
from tests.web.conftest import Pages, WebStack

pytestmark = pytest.mark.browser

NEW_PASSWORD = "member passphrase of mine"


@pytest.fixture
def backend() -> str:
    """The gateway shares the web app's SQLite file."""
    return "sqlite"


@pytest.fixture
def gw(web: WebStack, gateway_factory: GatewayFactory) -> Iterator[Running]:  # noqa: F811
    return gateway_factory(db=web.database_url, auth_cache_s="0")


def _shot(page: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000


def _chat(gw: Running, key: str, model: str) -> httpx.Response:
    with gw.client(key) as client:
        return client.post("/chat/completions", json={
            "model": model, "messages": [{"role": "user", "content": "hello"}]})


def _apply(pages: Pages, shots: Path) -> None:
    page = pages.new()
    page.goto("/apply")
    page.fill("input[name=full_name]", "Nadia Newcomer")
    page.fill("input[name=username]", "nadia")
    page.fill("input[name=email]", "nadia@example.org")
    page.check("input[name=expertise][value=security]")
    page.check("input[name=expertise][value=languages]")
    page.fill("input[name=languages]", "English, Arabic, French")
    page.fill("textarea[name=links]", "https://github.com/nadia\nhttps://example.org/papers")
    page.fill("textarea[name=conflicts]", "Consulting for a model vendor until 2025.")
    page.fill("textarea[name=motivation]", "Ten years of penetration testing; "
              "<script>alert('x')</script> shows up as text.")
    _shot(page, shots, "apply")
    page.click("form[action='/apply'] button[type=submit]")
    expect(page.locator("h1")).to_have_text("Thank you")


def _approve(pages: Pages, shots: Path) -> str:
    admin = pages.login("admin")
    admin.goto("/network/applications")
    admin.click("text=Nadia Newcomer")
    admin.fill("textarea[name=text]", "Checked GitHub and papers; strong security record.")
    with admin.expect_request("**/notes") as sent:
        admin.click("text=Add note")
    headers = sent.value.headers
    assert headers.get("hx-request") == "true"  # swapped in by htmx, no page load
    assert headers.get("x-csrf-token")  # added by static/bastion.js from the meta tag
    expect(admin.locator("#notes .note")).to_contain_text("strong security record")
    expect(admin.locator("pre.text", has_text="<script>alert('x')</script>")).to_have_count(1)
    _shot(admin, shots, "application-review")
    admin.fill("form[action$='/approve'] input[name=reason]", "Welcome aboard")
    admin.click("form[action$='/approve'] button[type=submit]")
    expect(admin.locator("#set-password-link")).to_be_visible()
    return admin.locator("#set-password-link").inner_text().strip()


def _create_engagement(pages: Pages) -> str:
    admin = pages.login("triager")
    admin.goto("/network/engagements/new")
    now = datetime.now(UTC)
    admin.fill("input[name=name]", "Winter injection sprint")
    admin.fill("textarea[name=description]", "Prompt injection against the support bot.")
    admin.fill("input[name=models]", "support-bot-*")
    admin.fill("input[name=categories_in]", "INJ, PRV")
    admin.fill("input[name=categories_out]", "CSE, WPN")
    admin.fill("input[name=starts_at]", (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    admin.fill("input[name=ends_at]", (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    admin.fill("input[name=requests_per_minute]", "60")
    admin.fill("textarea[name=rules]", "No real customer data. Report within 24 hours.")
    admin.click("form[action='/network/engagements'] button[type=submit]")
    expect(admin.locator("h1")).to_contain_text("Winter injection sprint")
    return admin.url


def _member_joins(pages: Pages, link: str, engagement_url: str, shots: Path) -> str:
    member = pages.new()
    member.goto(link)
    member.fill("input[name=password]", NEW_PASSWORD)
    member.click("form[action='/set-password'] button[type=submit]")
    member.wait_for_url("**/login?next=/")
    member.fill("input[name=username]", "nadia")
    member.fill("input[name=password]", NEW_PASSWORD)
    member.click("form[action='/login'] button[type=submit]")
    member.wait_for_url(f"{pages.web.url}/")
    member.goto(engagement_url)
    expect(member.locator("main")).to_contain_text("Accept the")  # no join button yet
    member.goto("/network/agreements")
    for name in ("nda", "roe"):
        member.click(f"#doc-{name} button[type=submit]")
        expect(member.locator(f"#doc-{name} .badge-ok")).to_have_text("accepted")
    member.goto(engagement_url)
    member.click("text=Join and get a key")
    expect(member.locator("#engagement-key")).to_be_visible()
    key = member.locator("#engagement-key").inner_text().strip()
    _shot(member, shots, "engagement")
    return key


def test_apply_approve_join_use_key_and_removal(pages: Pages, web: WebStack, gw: Running,
                                                 shots: Path) -> None:
    login = pages.new()
    login.goto("/login")
    _shot(login, shots, "login")
    _apply(pages, shots)
    link = _approve(pages, shots)
    engagement_url = _create_engagement(pages)
    key = _member_joins(pages, link, engagement_url, shots)
    assert key.startswith("bst-")

    assert _chat(gw, key, "support-bot-eu").status_code == 200
    outside = _chat(gw, key, "billing-bot")
    assert outside.status_code == 403
    assert "may not use model" in outside.json()["error"]["message"]

    admin = pages.login("admin")
    admin.goto(engagement_url)
    admin.fill("input[aria-label='Reason for removing nadia']", "programme ended early")
    admin.click("text=Remove nadia")
    expect(admin.locator("main")).to_contain_text("member removed")
    assert _chat(gw, key, "support-bot-eu").status_code == 401

    types = [e["type"] for e in web.ctx.audit.events()]
    for kind in ("network.application.submitted", "network.application.noted",
                 "network.application.approved", "user.password_set",
                 "network.agreement.accepted", "network.engagement.created",
                 "network.engagement.joined", "network.engagement.member_removed"):
        assert kind in types, kind
    assert pages.violations() == []
