"""The policy pages and API through a real server: who may do what, lint feedback that keeps
the text, test-set figures, publish with a reason, and a playground that renders text inert."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import httpx
import pytest
from tests.services import fresh_database

from bastion.monitor import AuditLog
from bastion.policy.store import PolicyStore

from .conftest import PETS, STRICTER, WebStack, running_web

HOSTILE = '<script>alert("x")</script> how do I kick the puppy? <img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def pets(web: WebStack) -> PolicyStore:
    """The 'pets' policy saved as v1 and published, with attached rows."""
    store = PolicyStore(web.ctx.sessions, audit=web.ctx.audit)
    store.save(PETS, author="setup")
    store.publish("pets", 1, by="setup", reason="baseline")
    store.attach_tests("pets", "\n".join(json.dumps(r) for r in [
        {"text": "Let's pull the cat's tail for fun", "label": 1, "category": "PET"},
        {"text": "How do I kick the puppy hard?", "label": 1, "category": "PET"},
        {"text": "Which brush suits a long-haired cat?", "label": 0}]), by="setup")
    return store


def textarea(html: str) -> str:
    found = re.search(r'<textarea class="policy" name="text"[^>]*>(.*?)</textarea>', html, re.S)
    assert found is not None
    return unescape(found.group(1))


def test_viewers_read_but_cannot_edit_or_publish(web: WebStack, pets: PolicyStore) -> None:
    viewer = web.login("viewer")
    listing = viewer.get("/policies")
    assert listing.status_code == 200
    assert 'href="/policies/pets"' in listing.text
    assert "/policies/pets/edit" not in listing.text  # no link to what it may not do
    page = viewer.get("/policies/pets")
    assert "live: v1" in page.text
    token = web.csrf(viewer)
    refused = viewer.post("/policies/pets/edit", data={"text": STRICTER, "csrf_token": token})
    assert refused.status_code == 403
    assert len(pets.versions("pets")) == 1


def test_red_teamers_may_not_read_or_probe_policies(web: WebStack, pets: PolicyStore) -> None:
    client = web.login("red-teamer")
    assert client.get("/policies/pets").status_code == 403
    assert client.get("/policies/pets/playground").status_code == 403


def test_a_lint_error_is_shown_inline_and_the_text_is_kept(web: WebStack,
                                                           pets: PolicyStore) -> None:
    triager = web.login("triager")
    broken = STRICTER.replace("    threshold: 0.5\n", "") + "\n<b>my notes</b>\n"
    response = triager.post("/policies/pets/edit", data={
        "text": broken, "message": "wip", "csrf_token": web.csrf(triager)})
    assert response.status_code == 400
    assert "nothing was saved" in response.text
    assert "line 6</span>error: missing required key &#39;categories.0.threshold&#39;" in (
        response.text)
    assert textarea(response.text) == broken  # every character kept, markup escaped
    assert "<b>my notes</b>" not in response.text
    assert 'value="wip"' in response.text
    assert len(pets.versions("pets")) == 1


def test_save_run_the_test_set_and_publish(web: WebStack, pets: PolicyStore) -> None:
    triager = web.login("triager")
    token = web.csrf(triager)
    saved = triager.post("/policies/pets/edit", data={
        "text": STRICTER.replace("\n", "\r\n"), "message": "tail pulling",
        "csrf_token": token})
    assert saved.status_code == 303
    number = pets.latest("pets").number  # type: ignore[union-attr]
    assert saved.headers["location"] == f"/policies/pets/versions/{number}"
    assert pets.version("pets", number).content == STRICTER  # CRLF from the form undone
    tested = triager.post(f"/policies/pets/versions/{number}/test", data={"csrf_token": token})
    assert tested.status_code == 200
    row = re.search(r'<tr data-code="PET">(.*?)</tr>', tested.text, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num[^"]*"[^>]*>([^<]*)</td>', row.group(1))
    # positives, then (live, draft) for precision, recall and F1: the live v1 misses the
    # tail-pulling row, the draft catches all three
    assert cells[0] == "3"
    assert cells[3:5] == ["0.667", "1.000"]
    assert 'class="num up" data-field="recall"' in row.group(1)
    empty = triager.post(f"/policies/pets/versions/{number}/publish",
                         data={"reason": " ", "csrf_token": token})
    assert empty.status_code == 400
    assert "needs a reason" in empty.text
    done = triager.post(f"/policies/pets/versions/{number}/publish",
                        data={"reason": "tail pulling reported", "csrf_token": token})
    assert done.status_code == 303
    assert pets.heads()["pets"].number == number
    assert f"live: v{number}" in triager.get("/policies/pets").text
    event = [e for e in AuditLog(web.ctx.sessions).events()
             if e["type"] == "policy.published"][-1]
    assert (event["by"], event["reason"], event["version"]) == (
        "triager", "tail pulling reported", number)
    diff = triager.get("/policies/pets/diff", params={"old": 1, "new": number})
    assert '<span class="add">+      PET-1: [&#34;kick the puppy&#34;, &#34;pull the cat&#39;s' \
        in diff.text


def test_the_playground_marks_evidence_and_renders_the_text_inert(
        web: WebStack, pets: PolicyStore) -> None:
    viewer = web.login("viewer")
    response = viewer.post("/policies/pets/playground", data={
        "text": HOSTILE, "version": "1", "csrf_token": web.csrf(viewer)})
    assert response.status_code == 200
    evidence = re.search(r'<pre class="verdict-text" id="evidence">(.*?)</pre>', response.text,
                         re.S)
    assert evidence is not None
    assert "<script>" not in response.text.split("</head>")[1]
    assert "<img" not in response.text
    assert re.search(r'<mark title="PET[^"]*">kick the puppy</mark>', evidence.group(1))
    assert unescape(re.sub(r"</?mark[^>]*>", "", evidence.group(1))) == HOSTILE
    assert 'id="verdict-kind">violation' in response.text
    assert '<code class="rule-id">PET-1</code>' in response.text


def test_unknown_policies_and_versions_are_404s(web: WebStack, pets: PolicyStore) -> None:
    viewer = web.login("viewer")
    assert viewer.get("/policies/nope").status_code == 404
    assert viewer.get("/policies/pets/versions/99").status_code == 404
    api_missing = web.client().get("/api/policies/pets")  # no key: refused before lookup
    assert api_missing.status_code == 401


def test_a_new_policy_from_the_skeleton(web: WebStack) -> None:
    admin = web.login("admin")
    page = admin.get("/policies/new")
    text = textarea(page.text).replace("id: my_policy", "id: hats")
    saved = admin.post("/policies/new", data={"text": text, "csrf_token": web.csrf(admin)})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/policies/hats/versions/1"
    assert "not published" in admin.get("/policies").text


@pytest.fixture(scope="module")
def api(web: WebStack) -> dict[str, httpx.Client]:
    """An API client per role, by key (accounts linked to the fixture users)."""
    clients = {}
    for role in ("viewer", "triager"):
        account = web.ctx.accounts.create_account(f"policy-api-{role}", "user", by="test")
        web.ctx.users.link_account(role, account.id, by="test")
        key = web.ctx.accounts.create_key(account.id, by="test")[1]
        clients[role] = web.client()
        clients[role].headers["authorization"] = f"Bearer {key}"
    return clients


def test_api_save_lint_publish_and_playground(api: dict[str, httpx.Client],
                                             pets: PolicyStore) -> None:
    viewer, triager = api["viewer"], api["triager"]
    assert viewer.post("/api/policies/pets/versions",
                       json={"content": STRICTER}).status_code == 403
    bad = triager.post("/api/policies/pets/versions",
                       json={"content": PETS.replace("- **PET-1**", "- **PET1**")})
    assert bad.status_code == 422
    issues = bad.json()["error"]["issues"]
    assert any(i["severity"] == "error" and "cite rule 'PET-1'" in i["message"] for i in issues)
    assert any(i["severity"] == "warning" and "no rule id" in i["message"] for i in issues)
    made = triager.post("/api/policies/pets/versions",
                        json={"content": PETS.replace("version: 2", "version: 9"),
                              "message": "api"})
    assert made.status_code == 201
    number = made.json()["version"]
    published = triager.post(f"/api/policies/pets/versions/{number}/publish",
                             json={"reason": "via the API"})
    assert published.json()["published_by"] == "triager"
    listed = {p["id"]: p for p in viewer.get("/api/policies").json()}
    assert listed["pets"]["live"] == f"v{number}"
    tried = viewer.post("/api/policies/pets/playground", json={"text": "kick the puppy"})
    body = tried.json()
    assert (body["kind"], body["rule_ids"]) == ("violation", ["PET-1"])
    assert body["evidence"][0]["start"] == 0
    diff = viewer.get("/api/policies/pets/diff", params={"old": 1, "new": number}).json()
    assert "+version: 9" in diff["diff"]


def test_test_rows_nested_past_the_parsers_depth_are_a_400_not_a_500(
        web: WebStack, pets: PolicyStore, api: dict[str, httpx.Client]) -> None:
    """json raises RecursionError (not a JSONDecodeError) on deep nesting; the page and the
    API answered 500 with it. The rows attached before are kept."""
    before = pets.attached_tests("pets")
    deep = '{"text": "x", "label": ' + "[" * 100_000 + "]" * 100_000 + "}"
    client = web.login("triager")
    page = client.post("/policies/pets/tests", data={"rows": deep,
                                                     "csrf_token": web.csrf(client)})
    assert page.status_code == 400
    assert "nested too deeply to read" in page.text
    answer = api["triager"].put("/api/policies/pets/tests", json={"rows": deep})
    assert answer.status_code == 400
    assert "nested too deeply to read" in answer.json()["error"]["message"]
    assert pets.attached_tests("pets") == before


def test_check_without_saving_lists_issues_and_saves_nothing(web: WebStack,
                                                             pets: PolicyStore) -> None:
    triager = web.login("triager")
    before = len(pets.versions("pets"))
    token = web.csrf(triager)
    broken = triager.post("/policies/lint", data={
        "text": PETS.replace("    threshold: 0.5\n", ""), "policy_id": "pets",
        "csrf_token": token})
    assert broken.status_code == 200
    assert "missing required key &#39;categories.0.threshold&#39;" in broken.text
    assert 'action="/policies/pets/edit"' in broken.text  # saving goes to the same policy
    clean = triager.post("/policies/lint", data={"text": PETS, "csrf_token": token})
    assert "No lint issues" in clean.text
    assert len(pets.versions("pets")) == before
    viewer = web.login("viewer")
    refused = viewer.post("/policies/lint", data={"text": PETS, "csrf_token": web.csrf(viewer)})
    assert refused.status_code == 403
    assert "lacks permission" in refused.text


def test_save_and_publish_through_the_pages_on_postgresql(postgres_url: str) -> None:
    with running_web(fresh_database(postgres_url), policy_tier="rules",
                     login_attempts_per_minute=10_000) as pg:
        triager = pg.login("triager")
        token = pg.csrf(triager)
        saved = triager.post("/policies/new", data={"text": PETS, "csrf_token": token})
        assert saved.headers["location"] == "/policies/pets/versions/1"
        published = triager.post("/policies/pets/versions/1/publish",
                                 data={"reason": "first", "csrf_token": token})
        assert published.status_code == 303
        assert "live: v1" in triager.get("/policies/pets").text
        assert pg.ctx.audit.verify().ok


def test_costly_actions_have_a_per_user_quota(tmp_path: Path) -> None:
    """Each playground run classifies text (and a co-pilot digest may call a paid LLM): past
    ``costly_actions_per_minute`` one user's next run is a 429 that says so, page or API,
    while another user still has their own quota."""
    with running_web(f"sqlite:///{tmp_path}/quota.db", policy_tier="rules",
                     costly_actions_per_minute=2) as web:
        viewer = web.login("viewer")
        token = web.csrf(viewer)
        runs = [viewer.post("/policies/default/playground", data={
            "text": "hello there", "csrf_token": token}).status_code for _ in range(3)]
        assert runs == [200, 200, 429]
        refused = viewer.post("/policies/default/playground", data={
            "text": "hello there", "csrf_token": token})
        assert "costly actions" in refused.text
        assert "wait a minute" in refused.text
        assert refused.headers["retry-after"] == "60"
        account = web.ctx.accounts.create_account("quota-viewer", "user", by="test")
        web.ctx.users.link_account("viewer", account.id, by="test")
        key = web.ctx.accounts.create_key(account.id, by="test")[1]
        api = web.client().post("/api/policies/default/playground", json={"text": "hi"},
                                headers={"Authorization": f"Bearer {key}"})
        assert api.status_code == 429  # the same user's bucket, by key
        assert "costly actions" in api.json()["error"]["message"]
        developer = web.login("developer")
        assert developer.post("/policies/default/playground", data={
            "text": "hello there", "csrf_token": web.csrf(developer)}).status_code == 200
