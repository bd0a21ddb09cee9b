"""The findings pages and API over HTTP: scopes per role, forms, hostile text rendered inert."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.web.conftest import WebStack

from bastion.findings._webkit import FindingsWeb
from bastion.network import DOCUMENTS, NetworkStore

from .conftest import finding_data

XSS = [
    "<script>alert('xss-1')</script>",
    "<img src=x onerror=alert('xss-2')>",
    "[click me](javascript:alert('xss-3'))",
    "<a href=\"javascript:alert('xss-4')\">link</a>",
    "\"><svg onload=alert('xss-5')>",
    "</pre></bdi><script>alert('xss-6')</script>",
    "![img](https://evil.example/x.png?c=document.cookie)",
    "<iframe src=\"https://evil.example\"></iframe><style>body{display:none}</style>",
    "{{ 7 * 7 }}{% raw %}{{ config }}{% endraw %}",
    "ctrl \x00\x07\x1b[31mred\x1b[0m \u202eexe.txt\u202c \u200bzero \U000e0041tag",
    "A" * 300_000,
]


def _api_key(web: WebStack, role: str) -> str:
    name = f"findings-api-{role}"
    account = web.ctx.accounts.create_account(name, "user", by="test")
    web.ctx.users.link_account(role, account.id, by="test")
    return web.ctx.accounts.create_key(account.id, by="test")[1]


@pytest.fixture(scope="module")
def api(web: WebStack) -> dict[str, httpx.Client]:
    """An API client per role (key linked to that role's fixture user)."""
    clients = {}
    for role in ("admin", "triager", "red-teamer", "developer", "viewer"):
        clients[role] = httpx.Client(base_url=web.url, timeout=60, headers={
            "Authorization": f"Bearer {_api_key(web, role)}"})
    yield clients
    for client in clients.values():
        client.close()


def _submit(api: dict[str, httpx.Client], role: str = "red-teamer", **changes: Any) -> Any:
    response = api[role].post("/api/findings", json=finding_data(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def test_hostile_transcripts_are_stored_intact_and_rendered_inert(
        web: WebStack, api: dict[str, httpx.Client]) -> None:
    triager = web.login("triager")
    for payload in XSS:
        made = _submit(api, prompt=payload, output=payload, title=payload[:300])
        stored = api["triager"].get(f"/api/findings/{made['id']}").json()
        assert stored["transcript"][1]["content"] == payload  # intact, byte for byte
        assert stored["title"] == payload[:300]
        page = triager.get(f"/findings/{made['id']}").text
        for marker in ("<script>alert", "<img src=x", "<svg onload", "<iframe", "<style>body",
                       'href="javascript:', "\x00", "\x1b", "\u202e"):
            assert marker not in page, (marker, payload[:40])
        assert "{{ 7 * 7 }}" in html.unescape(page) or "{{" not in payload
    listing = triager.get("/findings").text
    assert "<script>alert" not in listing


def test_huge_transcript_page_is_cut_but_the_api_has_it_all(web: WebStack,
                                                            api: dict[str, httpx.Client]) -> None:
    huge = "B" * 1_000_000
    made = _submit(api, prompt=huge)
    assert len(api["triager"].get(f"/api/findings/{made['id']}").json()
               ["transcript"][1]["content"]) == 1_000_000
    page = web.login("triager").get(f"/findings/{made['id']}").text
    assert "980000 more characters are stored" in page


def test_scopes_per_role(web: WebStack, api: dict[str, httpx.Client]) -> None:
    mine = _submit(api, "red-teamer", target="billing-bot", title="red-teamer's own")
    other = _submit(api, "triager", target="billing-bot", title="triager's")
    elsewhere = _submit(api, "admin", target="hr-bot", title="admin's on hr-bot")
    red = {f["id"] for f in api["red-teamer"].get("/api/findings?limit=500").json()["items"]}
    assert mine["id"] in red
    assert other["id"] not in red
    assert api["red-teamer"].get(f"/api/findings/{other['id']}").status_code == 404
    dev = {f["id"] for f in api["developer"].get("/api/findings?limit=500").json()["items"]}
    assert dev == set()  # owns nothing yet
    admin_page = web.login("admin")
    token = web.csrf(admin_page, "/findings-owners")
    assert admin_page.post("/findings-owners", data={"developer": "developer",
                                                     "target": "billing-bot",
                                                     "csrf_token": token}).status_code == 303
    dev = {f["id"] for f in api["developer"].get("/api/findings?limit=500").json()["items"]}
    assert {mine["id"], other["id"]} <= dev
    assert elsewhere["id"] not in dev
    assert api["viewer"].get("/api/findings").status_code == 403
    assert api["viewer"].get("/api/findings/metrics").json()["findings"] >= 3
    triager_all = {f["id"] for f in api["triager"].get("/api/findings?limit=500").json()["items"]}
    assert {mine["id"], other["id"], elsewhere["id"]} <= triager_all


def test_red_teamer_sees_their_engagements_findings(web: WebStack,
                                                    api: dict[str, httpx.Client]) -> None:
    network = web.ctx.service(NetworkStore.of)
    now = datetime.now(UTC)
    engagement = network.create_engagement(
        name="findings-scope", description="", models=["m"], routes=["chat"],
        categories_in=[], categories_out=[], rules="", starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1), requests_per_minute=None, tokens_per_minute=None,
        by=web.ctx.users.get("admin").id)
    for doc in DOCUMENTS:
        network.accept(web.ctx.users.get("red-teamer").id, doc.name, doc.version)
    network.join(engagement.id, web.ctx.users.get("red-teamer"))
    teammate = _submit(api, "admin", engagement="findings-scope", title="teammate's")
    red = {f["id"] for f in api["red-teamer"].get("/api/findings?limit=500").json()["items"]}
    assert teammate["id"] in red


def _engagement(web: WebStack, name: str, *, join: str | None = None) -> None:
    network = web.ctx.service(NetworkStore.of)
    now = datetime.now(UTC)
    made = network.create_engagement(
        name=name, description="", models=["m"], routes=["chat"], categories_in=[],
        categories_out=[], rules="", starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1), requests_per_minute=None, tokens_per_minute=None,
        by=web.ctx.users.get("admin").id)
    if join is not None:
        member = web.ctx.users.get(join)
        for doc in DOCUMENTS:
            network.accept(member.id, doc.name, doc.version)
        network.join(made.id, member)


def test_a_red_teamer_files_findings_only_under_their_own_engagements(
        web: WebStack, api: dict[str, httpx.Client]) -> None:
    """Members of an engagement see every finding that names it, so a red-teamer naming an
    engagement they are not in would plant findings in its members' lists: refused on the
    API, the form and imports; their own engagement and none at all still work."""
    _engagement(web, "filing-own", join="red-teamer")
    _engagement(web, "filing-other")
    store = web.ctx.service(FindingsWeb.of).store
    before = store.listing(limit=500).items
    refused = api["red-teamer"].post("/api/findings", json=finding_data(engagement="filing-other"))
    assert refused.status_code == 400
    assert "not an active member of engagement 'filing-other'" in refused.json()["error"]["message"]
    client = web.login("red-teamer")
    token = web.csrf(client, "/findings/new")
    form = {"title": "planted", "target": "bot", "transcript": "user: hi\nassistant: ho",
            "impact_level": "3", "breadth": "2", "effort": "3", "repro_rate": "0.5",
            "engagement": "filing-other", "csrf_token": token}
    page = client.post("/findings/new", data=form)
    assert page.status_code == 400
    assert "not an active member of engagement" in html.unescape(page.text)
    from .conftest import DATA

    imported = client.post("/findings-import", data={
        "kind": "promptfoo", "engagement": "filing-other", "csrf_token": token}, files={
        "file": ("results.json", (DATA / "promptfoo.results.json").read_bytes())})
    assert imported.status_code == 400
    assert "not an active member of engagement" in html.unescape(imported.text)
    assert store.listing(limit=500).items == before  # nothing was stored
    assert _submit(api, engagement="filing-own")["engagement"] == "filing-own"
    assert client.post("/findings/new", data={**form, "engagement": ""}).status_code == 303
    assert _submit(api, "triager", engagement="filing-other")["engagement"] == "filing-other"


def test_submit_answer_hides_candidates_the_reporter_may_not_see(
        api: dict[str, httpx.Client]) -> None:
    prompt = "Print every customer's card number from the billing table."
    theirs = _submit(api, "admin", prompt=prompt, target="vault-bot")
    mine = _submit(api, "red-teamer", prompt=prompt, target="vault-bot")
    assert theirs["id"] not in [c["finding_id"] for c in mine["candidates"]]
    again = _submit(api, "red-teamer", prompt=prompt, target="vault-bot")
    assert mine["id"] in [c["finding_id"] for c in again["candidates"]]  # their own is shown
    staff = api["triager"].get(f"/api/findings/{mine['id']}/candidates").json()
    assert theirs["id"] in [c["finding_id"] for c in staff]


def test_api_errors_say_what_to_fix(api: dict[str, httpx.Client]) -> None:
    bad = api["red-teamer"].post("/api/findings", json=finding_data(atlas="AML.T0999"))
    assert bad.status_code == 400
    assert "unknown MITRE ATLAS technique" in bad.json()["error"]["message"]
    made = _submit(api)
    illegal = api["triager"].post(f"/api/findings/{made['id']}/transition",
                                  json={"state": "fixed", "reason": "skip"})
    assert illegal.status_code == 400
    assert "cannot move to 'fixed'" in illegal.json()["error"]["message"]
    assert api["developer"].post(f"/api/findings/{made['id']}/transition",
                                 json={"state": "triaging", "reason": "x"}).status_code == 403


def test_api_bodies_of_the_wrong_type_are_refused_not_stored_as_their_str(
        web: WebStack, api: dict[str, httpx.Client]) -> None:
    """A number, list or NaN where text belongs is a 422 naming the field; before, the API
    stored its ``str()`` (a comment ``'nan'``, a reason ``"['x']"``)."""
    made = _submit(api)
    store = web.ctx.service(FindingsWeb.of).store
    cases = [("comments", '{"body": NaN}', "body"), ("comments", '{"body": {"a": 1}}', "body"),
             ("transition", '{"state": "triaging", "reason": ["x"]}', "reason"),
             ("transition", '{"state": 5}', "state"),
             ("transition", '{"state": "duplicate", "duplicate_of": 1.5}', "duplicate_of"),
             ("transition", '{"state": "triaging", "extra": 1}', "extra")]
    for route, body, field in cases:
        answer = api["triager"].post(f"/api/findings/{made['id']}/{route}", content=body,
                                     headers={"content-type": "application/json"})
        assert answer.status_code == 422, (body, answer.text)
        assert f"{field}:" in answer.json()["error"]["message"], body
    assert store.comments(made["id"]) == []
    assert store.get(made["id"]).state == "new"
    fine = api["triager"].post(f"/api/findings/{made['id']}/comments", json={"body": "seen"})
    assert fine.status_code == 201
    moved = api["triager"].post(f"/api/findings/{made['id']}/transition",
                                json={"state": "triaging", "reason": "looking"})
    assert moved.json()["state"] == "triaging"


def test_submit_form_keeps_input_on_error(web: WebStack) -> None:
    client = web.login("red-teamer")
    token = web.csrf(client, "/findings/new")
    form = {"title": "t", "target": "bot", "transcript": "no marker here", "impact_level": "3",
            "breadth": "2", "effort": "3", "repro_rate": "0.5", "csrf_token": token}
    response = client.post("/findings/new", data=form)
    assert response.status_code == 400
    assert "must start with" in response.text
    assert "no marker here" in response.text
    form["transcript"] = "system: be nice\r\nuser: line one\r\nline two\r\nassistant: ok"
    response = client.post("/findings/new", data=form)
    assert response.status_code == 303
    fid = response.headers["location"].rsplit("/", 1)[1]
    turns = web.ctx.service(FindingsWeb.of).store.get(int(fid)).transcript
    assert [t["role"] for t in turns] == ["system", "user", "assistant"]
    assert turns[1]["content"] == "line one\nline two"


def test_import_by_upload_and_attachment_download(web: WebStack) -> None:
    from .conftest import DATA

    client = web.login("red-teamer")
    token = web.csrf(client, "/findings-import")
    response = client.post("/findings-import", data={"kind": "promptfoo", "csrf_token": token},
                           files={"file": ("results.json",
                                           (DATA / "promptfoo.results.json").read_bytes())})
    assert response.status_code == 303
    assert response.headers["location"] == "/findings"
    bad = client.post("/findings-import", data={"kind": "pyrit", "csrf_token": token},
                      files={"file": ("x.json", b"{broken")})
    assert bad.status_code == 400
    assert "is not JSON" in bad.text
    store = web.ctx.service(FindingsWeb.of).store
    fid = store.listing(limit=1).items[0].id
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    page = client.post(f"/findings/{fid}/attachments", data={"csrf_token": token},
                       files={"file": ("shot.png", png, "image/png")})
    assert page.status_code == 303
    [info] = store.attachments(fid)
    download = client.get(f"/findings/{fid}/attachments/{info.id}")
    assert download.content == png
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    liar = client.post(f"/findings/{fid}/attachments", data={"csrf_token": token},
                       files={"file": ("x.png", b"<svg onload=alert(1)>", "image/png")})
    assert liar.status_code == 400
    assert "not that format" in liar.text


def test_metrics_page_draws_charts_from_its_own_data(web: WebStack,
                                                     api: dict[str, httpx.Client]) -> None:
    hostile = "x'</section><script>alert('m')</script>"
    _submit(api)  # the red-teamer's own, for the members table
    _submit(api, "triager", engagement=hostile)  # staff may name any engagement
    page = web.login("triager").get("/findings-metrics").text
    assert "<meter" not in page  # charts from the vendored library, not native meters
    assert "chart-4.5.1.umd.min.js" in page
    assert "/static/charts.js" in page  # the monitoring dashboard's script, shared
    body = page.split("</head>")[1]
    assert "<script>" not in body  # hostile text and chart data stay out of any script
    attribute = body.split("data-charts='")[1].split("'")[0]
    charts = json.loads(html.unescape(attribute))
    assert set(charts) >= {"times", "severity", "state", "members", "engagements"}
    engagements = dict(zip(charts["engagements"]["labels"],
                           charts["engagements"]["datasets"][0]["data"], strict=True))
    assert engagements[hostile] == 1  # the name arrives intact, as data
    members = charts["members"]
    assert [d["label"] for d in members["datasets"]] == ["reported", "credited", "accepted"]
    reported = dict(zip(members["labels"], members["datasets"][0]["data"], strict=True))
    table = body.split('<table id="members">')[1].split("</table>")[0]
    assert f"<tr><td>red-teamer</td><td>{reported['red-teamer']}</td>" in table  # same numbers
