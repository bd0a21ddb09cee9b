"""Web app fixtures other test packages reuse: the app on loopback, a user per role, clients
and browser pages logged in as a role.

``web`` (module-scoped) is a running app over SQLite; ``web_pg`` the same over a fresh
PostgreSQL database. ``client_as(role)`` gives an httpx client with a live session;
``page_as(role)`` a Playwright page (Debian's chromium) that has logged in through the form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.services import fresh_database

from bastion.monitor import KEY_ENV, AuditLog
from bastion.network import DOCUMENTS, NetworkStore
from bastion.store import close_store, open_store
from bastion.testing import serve_app
from bastion.web import WEB_ROLES, WebContext, WebRole, WebSettings, create_web_app

PASSWORD = "correct horse battery staple"
#: The audit key of the web app under test; a gateway sharing its database needs the same
#: one (as $BASTION_AUDIT_KEY), or it refuses to start.
AUDIT_KEY = "web-test-audit-key"
"""Every fixture user's password."""
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]

_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's meta tag."""
    found = _META_CSRF.search(html)
    assert found is not None, "page has no csrf-token meta tag"
    return found.group(1)


@dataclass
class WebStack:
    """A web app on a real loopback server, with one user per role (named after the role).

    Attributes:
        url: the base URL, no trailing slash.
        app: the FastAPI app.
        ctx: its :class:`~bastion.web.WebContext` (stores, settings).
        database_url: its database (a gateway can share it: ``gateway_factory(db=...)``).
    """

    url: str
    app: Any
    ctx: WebContext
    database_url: str = ""
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        """An anonymous client (closed at teardown)."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        self._clients.append(client)
        return client

    def login(self, username: str, password: str = PASSWORD) -> httpx.Client:
        """A client logged in through the form as ``username``."""
        client = self.client()
        token = csrf_of(client.get("/login").text)
        response = client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": token})
        assert response.status_code == 303, response.text
        return client

    def csrf(self, client: httpx.Client, path: str = "/account") -> str:
        """The CSRF token the client's session must send (read from a page it may see)."""
        return csrf_of(client.get(path).text)

    def close(self) -> None:
        """Close every client."""
        for client in self._clients:
            client.close()


def join_live_engagement(stack: WebStack, user: Any, name: str) -> tuple[Any, str]:
    """``user`` accepts the agreements and joins a new engagement ``name`` that runs for the
    next hour (model ``m``, route ``chat``, no quotas): the engagement and the member's key."""
    network = stack.ctx.service(NetworkStore.of)
    for doc in DOCUMENTS:
        network.accept(user.id, doc.name, doc.version)
    now = datetime.now(UTC)
    eng = network.create_engagement(
        name=name, description="", models=["m"], routes=["chat"], categories_in=[],
        categories_out=[], rules="", starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1), requests_per_minute=None, tokens_per_minute=None,
        by="test")
    return eng, network.join(eng.id, user)[1]


@contextmanager
def running_web(database_url: str, **settings: Any) -> Iterator[WebStack]:
    """A web app over ``database_url`` on loopback, with a user per role. Its audit key is
    ``$BASTION_AUDIT_KEY`` while it runs, as in a deployment, so a gateway or CLI started
    beside it on the same database signs with the same key."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(KEY_ENV, AUDIT_KEY)
        sessions = open_store(database_url)
        try:
            audit = AuditLog(sessions, key=AUDIT_KEY.encode())
            config = WebSettings(database_url=database_url, **settings)
            app = create_web_app(config, sessions=sessions, audit=audit)
            ctx: WebContext = app.state.web
            for role in WEB_ROLES:
                user = ctx.users.create(role, role, password=PASSWORD, by="test")
                if role == "red-teamer":  # an onboarded member: engagements and findings
                    for doc in DOCUMENTS:  # are closed until the agreements are accepted
                        ctx.service(NetworkStore.of).accept(user.id, doc.name, doc.version)
            with serve_app(app) as url:
                stack = WebStack(url.removesuffix("/v1"), app, ctx, database_url)
                try:
                    yield stack
                finally:
                    stack.close()
        finally:
            close_store(sessions)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    """The web app over SQLite, on loopback, for the module."""
    tmp = tmp_path_factory.mktemp("web")
    # Every fixture client comes from 127.0.0.1, so the per-address login and application
    # limits are lifted here; test_security and test_network check them on apps of their own.
    with running_web(f"sqlite:///{tmp}/web.db", max_failures=3,
                     login_attempts_per_minute=10_000, applications_per_hour=10_000) as stack:
        yield stack


@pytest.fixture(scope="module")
def web_pg(postgres_url: str) -> Iterator[WebStack]:
    """The web app over a fresh PostgreSQL database, on loopback, for the module."""
    with running_web(fresh_database(postgres_url), max_failures=3,
                     login_attempts_per_minute=10_000, applications_per_hour=10_000) as stack:
        yield stack


@pytest.fixture
def client_as(web: WebStack) -> Callable[[WebRole], httpx.Client]:
    """``client_as('triager')``: an httpx client logged in as that role's fixture user."""
    return web.login


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright (never ``playwright install``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed; pip install -e '.[dev]' (browser tests must "
                    "not be skipped silently)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; apt-get install chromium (browser tests must not "
                    "be skipped silently)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class Pages:
    """Browser pages of one test; each records console messages and CSP violations."""

    web: WebStack
    browser: Any
    stack: ExitStack
    console: list[str] = field(default_factory=list)

    def new(self) -> Any:
        """A fresh page in its own context (its own cookies)."""
        context = self.browser.new_context(base_url=self.web.url)
        self.stack.callback(context.close)
        page = context.new_page()
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))
        return page

    def login(self, username: str, password: str = PASSWORD) -> Any:
        """A page logged in through the login form as ``username``."""
        page = self.new()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{self.web.url}/")
        return page

    def violations(self) -> list[str]:
        """Console lines that report a Content-Security-Policy violation or a script error."""
        return [line for line in self.console
                if "Content Security Policy" in line or line.startswith("pageerror")]


@pytest.fixture
def pages(web: WebStack, browser: Any) -> Iterator[Pages]:
    """Browser pages against ``web``; ``pages.login(role)`` logs one in."""
    with ExitStack() as stack:
        yield Pages(web, browser, stack)


@pytest.fixture
def page_as(pages: Pages) -> Callable[[WebRole], Any]:
    """``page_as('admin')``: a Playwright page logged in as that role's fixture user."""
    return pages.login
