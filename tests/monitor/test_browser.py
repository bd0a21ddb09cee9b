"""The dashboard in a real browser (Debian's chromium): live charts under the CSP, and the
incident queue's acknowledge / resolve flow. Screenshots go to ``$BASTION_SCREENSHOTS_DIR``
(``scripts/screenshots.py``), else to the test's temporary folder."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import Pages, WebStack, browser, running_web  # noqa: F401 - fixture

from bastion.monitor import EventStore, IncidentStore, Watcher, replay
from bastion.monitor._synthetic import synthetic_day

from .web_data import Seeded, seed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebStack, Seeded]]:
    """The app with a synthetic day (shifted to end now) run through the detectors."""
    tmp = tmp_path_factory.mktemp("monitor-browser")
    with running_web(f"sqlite:///{tmp}/web.db", login_attempts_per_minute=10_000) as web:
        day = synthetic_day(5, events=30_000, accounts=300)
        shift = time.time() - day.events[-1].at
        events = [replace(e, at=e.at + shift) for e in day.events]
        store = EventStore(web.ctx.sessions)
        for start in range(0, len(events), 5000):
            store.append(events[start:start + 5000])
        found = replay(events, Watcher())
        IncidentStore(web.ctx.sessions, audit=web.ctx.audit).record(list(found.alerts))
        yield web, seed(web.ctx)


@pytest.fixture
def pages(stack: tuple[WebStack, Seeded], browser: Any) -> Iterator[Pages]:  # noqa: F811
    with ExitStack() as exits:
        yield Pages(stack[0], browser, exits)


def test_overview_draws_live_charts(pages: Pages, shots: Path) -> None:
    page = pages.login("triager")
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.goto("/monitor")
    page.wait_for_selector("section[data-loaded=true]")
    drawn = page.eval_on_selector_all("canvas[data-chart]",
                                      "cs => cs.map(c => c.getAttribute('data-drawn'))")
    assert drawn == ["true"] * 4
    assert page.evaluate("Chart.version") == "4.5.1"  # the vendored file ran under the CSP
    assert int(page.inner_text("[data-total=checks]")) > 1000
    assert page.locator("#top-accounts tbody tr").count() >= 3
    page.screenshot(path=str(shots / "monitor-overview.png"), full_page=True)
    assert pages.violations() == []


def test_incident_queue_acknowledge_and_resolve(pages: Pages, stack: tuple[WebStack, Seeded],
                                                shots: Path) -> None:
    page = pages.login("triager")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/monitor/incidents")
    assert page.locator("#incidents tbody tr").count() >= 3
    page.screenshot(path=str(shots / "monitor-incidents.png"), full_page=True)
    page.click(f"a[href='/monitor/incidents/{stack[1].incident}']")
    assert "mallory" in page.inner_text("dl.facts")
    assert page.locator("#evidence pre.text").first.inner_text().startswith("<script>")
    page.screenshot(path=str(shots / "monitor-incident.png"), full_page=True)
    page.fill("#acknowledge textarea[name=reason]", "looking at mallory's burst")
    page.click("#acknowledge button[type=submit]")
    page.wait_for_selector("text=acknowledged by triager")
    page.fill("#resolve textarea[name=reason]", "mallory suspended, key revoked")
    page.click("#resolve button[type=submit]")
    assert "resolved by triager: mallory suspended, key revoked" in page.inner_text("#status")
    page.goto("/monitor/incidents")
    assert stack[1].incident not in page.content()
    assert pages.violations() == []
