"""The HTML report in a real browser (Debian's chromium through Playwright): hostile responses
stay inert, nothing overflows a phone's or a laptop's width, every success can be reached and
filtered with no script and no network, and the print view keeps the list of successes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bastion.redteam import Attempt, Case, Score, Turn, render

pytestmark = pytest.mark.browser
WINS = 600
HOSTILE = ("<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"
           "</pre></details></table></td><h1 id=injected>INJECTED</h1>"
           "<style>body{display:none!important}</style><svg onload=window.__pwned=3></svg>"
           "<base href=\"http://evil.invalid/\"><link rel=stylesheet href=\"http://evil.invalid/"
           "x.css\"><meta http-equiv=refresh content=\"0;url=http://evil.invalid/\">"
           "![t](http://evil.invalid/t.png) \u202egnp.exe\u200b\u2066 " + "A" * 20_000)
SEVERITIES = ("critical", "high", "medium", "low")
# OWASP and ATLAS names are the chart's longest labels.
OWASP = ("LLM02:2025", "LLM05:2025", "LLM07:2025")
ATLAS = ("AML.T0050", "AML.T0051.001", "AML.T0057")


def _attempts() -> list[Attempt]:
    """600 successes and 60 failures over 4 severities, 6 probes and 3 categories."""
    out = []
    for i in range(WINS + 60):
        case = Case(f"probe{i % 6}/case-{i % 40}", f"probe{i % 6}", HOSTILE,
                    ("malware", "pii_leak", "system_prompt_leak")[i % 3], (OWASP[i % 3],),
                    (ATLAS[i % 3],), "goal", severity=SEVERITIES[i % 4])
        win = i < WINS
        out.append(Attempt(f"a{i:04d}", case, "single", ("base64",) if i % 2 else (), i,
                           turns=(Turn(HOSTILE, HOSTILE, HOSTILE, 1.0),),
                           scores=(Score("refusal", 0.9, win, HOSTILE),), success=win,
                           reason=HOSTILE[:300]))
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of :func:`_attempts`, written to a file."""
    path = tmp_path_factory.mktemp("report") / "redteam.html"
    header = {"config": {"target": "openai", "seed": 3,
                         "target_options": {"base_url": "http://127.0.0.1:1/v1",
                                            "model": "<b>m</b>"}},
              "started_at": "2026-12-06T01:00:00+00:00", "bastion_version": "0.1.0"}
    path.write_text(render("html", _attempts(), header), encoding="utf-8")
    return path


def _open(browser: Any, report: Path, width: int) -> tuple[Any, list[str]]:
    """The report in an offline page ``width`` pixels wide; the list collects console
    messages, script errors and every request other than the report itself."""
    context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
    page = context.new_page()
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(f"console {msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: seen.append(f"pageerror: {exc}"))
    page.on("request", lambda r: None if r.url == report.as_uri() else seen.append(r.url))
    page.goto(report.as_uri())
    return page, seen


def test_hostile_responses_stay_inert_offline(browser: Any, report: Path) -> None:
    page, seen = _open(browser, report, 1280)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#injected").count() == 0
    assert page.locator("script, img, iframe, link, base, meta[http-equiv=refresh]").count() == 0
    assert page.evaluate("getComputedStyle(document.body).display") == "block"
    assert seen == [], "a request, a script error or a CSP violation"
    page.context.close()


def test_markup_that_slipped_past_escaping_could_not_restyle_the_page(
        browser: Any, report: Path, tmp_path: Path) -> None:
    # Before, the policy allowed any inline style ('unsafe-inline'): a <style> or style=""
    # slipping past escaping could hide the findings or draw fake ones over them.
    broken = tmp_path / "broken.html"
    broken.write_text(report.read_text("utf-8").replace(
        "<h2>Findings</h2>", "<style>body{display:none}</style><h2 id=f style=color:red>"
                             "Findings</h2>", 1), encoding="utf-8")
    page, _ = _open(browser, broken, 1280)
    assert page.evaluate("getComputedStyle(document.body).display") == "block"
    assert page.evaluate("getComputedStyle(document.getElementById('f')).color") != \
        "rgb(255, 0, 0)"
    assert page.evaluate("getComputedStyle(document.querySelector('.rows')).overflowY") == \
        "auto", "the report's own sheet applies"
    page.context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_nothing_overflows_the_page_and_no_chart_label_is_clipped(
        browser: Any, report: Path, width: int) -> None:
    # Before: at 390 px the page was 962 px wide (charts 634-893 px, tables up to 962 px), and
    # the longest OWASP and ATLAS labels began 4 px left of their chart's edge at any width.
    page, _ = _open(browser, report, width)
    doc = page.evaluate("[document.documentElement.scrollWidth, "
                        "document.documentElement.clientWidth]")
    assert doc[0] <= doc[1], f"the page scrolls sideways at {width} px: {doc}"
    charts = page.evaluate("""() => [...document.querySelectorAll('svg')].map(svg => {
        const box = svg.getBoundingClientRect(), parent = svg.parentElement;
        const w = svg.viewBox.baseVal.width || svg.width.baseVal.value;
        const out = [...svg.querySelectorAll('text')].map(t => t.getBBox())
            .filter(b => b.x < 0 || b.x + b.width > w).length;
        return {right: box.right, room: parent.getBoundingClientRect().right, out: out};})""")
    assert len(charts) == 6
    for chart in charts:
        assert chart["right"] <= chart["room"] + 0.5, chart
        assert chart["out"] == 0, f"{chart['out']} chart label(s) cut at the chart's edge"
    page.context.close()
def test_every_success_is_listed_and_filters_work_without_script(
        browser: Any, report: Path) -> None:
    # Before, successes sat in closed per-category folds, with no way to filter them.
    page, seen = _open(browser, report, 1280)
    rows = page.locator("table.wins tbody.s")
    assert rows.count() == WINS
    box = page.evaluate("[...['scrollWidth', 'clientWidth']].map("
                        "k => document.querySelector('.rows')[k])")
    assert box[0] <= box[1], f"the list of successes needs a sideways scroll at 1280 px: {box}"
    page.get_by_role("radio", name="critical (150)").check()
    assert rows.filter(visible=True).count() == 150
    assert all(t == "critical" for t in rows.filter(visible=True).locator("td.sev")
               .all_inner_texts())
    page.get_by_role("radio", name="probe0 (100)").check()  # critical and probe0: i % 12 == 0
    assert rows.filter(visible=True).count() == 50
    first = rows.filter(visible=True).first
    first.locator("summary").click()
    assert "window.__pwned=1" in first.locator("pre").first.inner_text()
    assert page.evaluate("window.__pwned") is None
    assert seen == []
    page.context.close()


def test_the_print_view_keeps_every_success_and_fits_the_page(
        browser: Any, report: Path) -> None:
    page, _ = _open(browser, report, 1280)
    page.set_viewport_size({"width": 700, "height": 1000})  # about A4's printable width
    page.emulate_media(media="print")
    rows = page.locator("table.wins tbody.s")
    assert rows.filter(visible=True).count() == WINS
    assert page.locator("table.wins tr.t-row").filter(visible=True).count() == 0, (
        "600 transcripts would print hundreds of pages")
    assert page.locator("input").filter(visible=True).count() == 0
    doc = page.evaluate("[document.documentElement.scrollWidth, "
                        "document.documentElement.clientWidth]")
    assert doc[0] <= doc[1], doc
    # Before, print broke every short word to fit: "se/ve/rit/y", "cri/tic/al", "si/ng/le".
    broken = page.evaluate("""() => [...document.querySelectorAll(
            'table.wins th, table.findings th, table.wins tbody.s:first-of-type td:not(.x)')]
        .filter(cell => {
            const range = document.createRange(); range.selectNodeContents(cell);
            const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            return lines.size > 1;}).map(cell => cell.textContent)""")
    assert broken == [], f"words broken across lines in print: {broken}"
    page.context.close()


def test_a_flood_of_combining_marks_stays_in_its_box_and_a_cut_says_so(
        browser: Any, tmp_path: Path) -> None:
    # Before: 1,000 combining marks on one letter made one unbreakable character that made a
    # 1280 px page 1,454 px wide, and a response cut at 4,000 characters ended in "…" only.
    zalgo = "Z" + "\u0336\u0489\u0301\u030d\u0300" * 200 + "algo"
    case = Case("p/1", "p", "prompt", "malware", ("LLM01:2025",), ("AML.T0054",), "goal",
                severity="high")
    attempt = Attempt("a1", case, "single", (), 1,
                      turns=(Turn("hi", "hi", zalgo + " " + "B" * 9000, 1.0),),
                      scores=(Score("refusal", 0.9, True, "r"),), success=True,
                      reason="r " + zalgo)
    path = tmp_path / "redteam.html"
    path.write_text(render("html", [attempt], {"config": {"target": "t"}}), encoding="utf-8")
    page, _ = _open(browser, path, 1280)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    doc = page.evaluate("[document.documentElement.scrollWidth, "
                        "document.documentElement.clientWidth]")
    assert doc[0] <= doc[1], f"the page scrolls sideways: {doc}"
    assert "997 more combining marks" in page.locator("body").inner_text()
    assert page.get_by_text("more characters not shown: the JSON report").count() == 2
    page.context.close()
