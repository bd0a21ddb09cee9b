"""The network's pages and rules: applying, review, decisions, agreements, joining."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.web.conftest import PASSWORD, WebStack, csrf_of, join_live_engagement

from bastion.errors import InputError
from bastion.network import DOCUMENTS, NetworkStore

HOSTILE = ('<img src=x onerror=alert(1)><script>alert("x")</script>[click](javascript:alert(1))'
           "\u202e\x07" + "A" * 4000)


def _apply_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "full_name": "Ada Applicant", "username": "ada", "email": "ada@example.org",
        "expertise": ["security", "law"], "languages": "English, German",
        "links": "https://github.com/ada", "conflicts": "none", "motivation": "I test models."}
    form.update(changes)
    return form


def _post_apply(web: WebStack, **changes: Any) -> Any:
    client = web.client()
    token = csrf_of(client.get("/apply").text)
    return client.post("/apply", data={**_apply_form(**changes), "csrf_token": token})


def _store(web: WebStack) -> NetworkStore:
    return web.ctx.service(NetworkStore.of)


def test_an_application_lands_in_the_queue(web: WebStack) -> None:
    response = _post_apply(web, username="queue-me")
    assert response.status_code == 200
    assert "review queue" in response.text
    pending = [a for a in _store(web).applications("pending") if a.username == "queue-me"]
    assert len(pending) == 1
    assert pending[0].expertise == ("law", "security")
    assert pending[0].languages == ("English", "German")
    queue = web.login("triager").get("/network/applications").text
    assert "Ada Applicant" in queue


@pytest.mark.parametrize(("changes", "message"), [
    ({"expertise": []}, "pick one or more of"),
    ({"expertise": ["astrology"]}, "astrology"),
    ({"links": "javascript:alert(1)"}, "is not an http(s) address"),
    ({"email": "not-an-email"}, "is not an address"),
    ({"username": "bad name!"}, "is not usable"),
])
def test_bad_applications_say_what_to_fix_and_keep_the_input(web: WebStack,
                                                               changes: dict[str, Any],
                                                               message: str) -> None:
    response = _post_apply(web, **changes)
    assert response.status_code == 400
    assert message in response.text
    assert "I test models." in response.text  # nothing the applicant typed is lost


def test_hostile_application_text_is_stored_intact_and_rendered_inert(web: WebStack) -> None:
    response = _post_apply(web, username="hostile", motivation=HOSTILE, conflicts=HOSTILE)
    assert response.status_code == 200
    app = next(a for a in _store(web).applications() if a.username == "hostile")
    assert app.motivation == HOSTILE.strip()
    page = web.login("admin").get(f"/network/applications/{app.id}").text
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page


def test_approval_creates_a_red_teamer_with_a_one_time_link(web: WebStack) -> None:
    _post_apply(web, username="approved-one")
    app = next(a for a in _store(web).applications() if a.username == "approved-one")
    admin = web.login("triager")
    page = admin.get(f"/network/applications/{app.id}").text
    response = admin.post(f"/network/applications/{app.id}/approve",
                          data={"reason": "great", "csrf_token": csrf_of(page)})
    assert response.status_code == 200
    link = response.text.split('id="set-password-link">')[1].split("<")[0]
    user = web.ctx.users.get("approved-one")
    assert user.role == "red-teamer"
    assert not user.has_password
    assert _store(web).application(app.id).status == "approved"
    member = web.client()
    form = member.get(link.replace(web.url, ""))
    assert form.status_code == 200
    token = link.split("token=")[1]
    done = member.post("/set-password", data={"token": token, "password": PASSWORD,
                                               "csrf_token": csrf_of(form.text)})
    assert done.status_code == 303
    again = member.post("/set-password", data={"token": token, "password": PASSWORD + "x",
                                                "csrf_token": csrf_of(form.text)})
    assert again.status_code == 400  # one-time
    assert web.login("approved-one").get("/network/agreements").status_code == 200


def test_approving_a_removed_members_new_application_says_how_to_readmit(
        web: WebStack) -> None:
    """A removed member who applies again under their name: approval cannot create the user
    (the name is theirs), so the reviewer is told to re-admit them, not to 'pick another
    name' (which an applicant's application cannot do)."""
    removed = web.ctx.users.create("reapplier", "red-teamer", password=PASSWORD)
    web.ctx.users.set_disabled(removed.id, True, by="test")
    _post_apply(web, username="reapplier")
    app = next(a for a in _store(web).applications("pending") if a.username == "reapplier")
    client = web.login("triager")
    response = client.post(f"/network/applications/{app.id}/approve", data={
        "csrf_token": web.csrf(client, f"/network/applications/{app.id}")})
    assert response.status_code == 400
    assert "is the name of a removed member" in response.text
    assert "re-admits them on the Users page" in response.text
    assert _store(web).application(app.id).status == "pending"


def test_rejection_needs_a_reason_and_decisions_are_final(web: WebStack) -> None:
    _post_apply(web, username="rejected-one")
    app = next(a for a in _store(web).applications() if a.username == "rejected-one")
    admin = web.login("admin")
    token = web.csrf(admin, f"/network/applications/{app.id}")
    empty = admin.post(f"/network/applications/{app.id}/reject",
                       data={"reason": "  ", "csrf_token": token})
    assert empty.status_code == 400
    assert "needs a reason" in empty.text
    ok = admin.post(f"/network/applications/{app.id}/reject",
                    data={"reason": "conflict of interest", "csrf_token": token})
    assert ok.status_code == 303
    late = admin.post(f"/network/applications/{app.id}/approve", data={"csrf_token": token})
    assert late.status_code == 400
    assert "rejected already" in late.text
    assert web.ctx.users.find("rejected-one") is None
    events = [e for e in web.ctx.audit.events() if e.get("application_id") == app.id]
    assert [e["type"] for e in events] == ["network.application.submitted",
                                           "network.application.rejected"]
    assert events[1]["reason"] == "conflict of interest"


def test_agreements_are_recorded_with_version_and_time(web: WebStack) -> None:
    user = web.ctx.users.create("agreeing", "red-teamer", password=PASSWORD)
    store = _store(web)
    with pytest.raises(InputError, match="is not current"):
        store.accept(user.id, "nda", "1999-01")
    before = datetime.now(UTC)
    for doc in DOCUMENTS:
        store.accept(user.id, doc.name, doc.version)
    accepted = store.accepted(user.id)
    assert set(accepted) == {d.name for d in DOCUMENTS}
    assert all(moment.replace(tzinfo=UTC) >= before - timedelta(seconds=1)
               for moment in accepted.values())
    event = next(e for e in web.ctx.audit.events()
                 if e["type"] == "network.agreement.accepted" and e["user_id"] == user.id)
    assert event["version"] == DOCUMENTS[0].version


def _engagement(web: WebStack, name: str, start: timedelta, end: timedelta) -> Any:
    now = datetime.now(UTC)
    return _store(web).create_engagement(
        name=name, description="", models=["m-*"], routes=["chat"], categories_in=["INJ"],
        categories_out=[], rules="", starts_at=now + start, ends_at=now + end,
        requests_per_minute=30, tokens_per_minute=None, by="test")


def test_joining_needs_agreements_an_open_window_and_happens_once(web: WebStack) -> None:
    store = _store(web)
    user = web.ctx.users.create("joiner", "red-teamer", password=PASSWORD)
    live = _engagement(web, "live", -timedelta(minutes=1), timedelta(hours=1))
    later = _engagement(web, "later", timedelta(days=1), timedelta(days=2))
    with pytest.raises(InputError, match="accept"):
        store.join(live.id, user)
    for doc in DOCUMENTS:
        store.accept(user.id, doc.name, doc.version)
    with pytest.raises(InputError, match="is upcoming"):
        store.join(later.id, user)
    info, key = store.join(live.id, user)
    assert key.startswith("bst-")
    assert info.requests_per_minute == 30
    assert info.scopes.categories == frozenset({"INJ"})
    account = web.ctx.accounts.account(store.engagement(live.id).members[0].account_id)
    assert account.role == "red-teamer"
    assert account.engagement == "live"
    with pytest.raises(InputError, match="already"):
        store.join(live.id, user)


def _joined(web: WebStack, username: str, engagement: str) -> tuple[Any, Any, str]:
    """A red-teamer who accepted the agreements and joined a live engagement: the user, the
    engagement and the key."""
    store = _store(web)
    user = web.ctx.users.create(username, "red-teamer", password=PASSWORD)
    for doc in DOCUMENTS:
        store.accept(user.id, doc.name, doc.version)
    eng = _engagement(web, engagement, -timedelta(minutes=1), timedelta(hours=1))
    return user, eng, store.join(eng.id, user)[1]


def test_a_removed_member_cannot_join_again_for_a_fresh_key(web: WebStack) -> None:
    """Removal revokes the member's key; joining again on their own would hand them a new
    one at once, so the join form refuses it and says why."""
    store = _store(web)
    user, eng, key = _joined(web, "removed-rt", "no-way-back")
    store.remove_member(eng.id, user.id, by="test", reason="tested out of scope")
    client = web.login("removed-rt")
    page = client.post(f"/network/engagements/{eng.id}/join",
                       data={"csrf_token": web.csrf(client)})
    assert page.status_code == 400
    assert "you were removed from &#39;no-way-back&#39; (tested out of scope)" in page.text
    assert "bst-" not in page.text
    assert web.ctx.accounts.authenticate(key) is None
    assert [m.active for m in store.engagement(eng.id).members] == [False]


def test_staff_readmit_a_removed_member_who_then_joins_for_a_new_key(web: WebStack) -> None:
    """Removal is not for ever: staff re-admit (audited), the member joins again and gets a
    new key with the engagement's scope; the old key stays dead, and a second removal needs
    a second re-admission."""
    store = _store(web)
    user, eng, old_key = _joined(web, "comeback-rt", "second-chance")
    store.remove_member(eng.id, user.id, by="test", reason="misunderstood the scope")
    staff = web.login("triager")
    token = web.csrf(staff, f"/network/engagements/{eng.id}")
    assert f"/members/{user.id}/readmit" in staff.get(f"/network/engagements/{eng.id}").text
    readmitted = staff.post(f"/network/engagements/{eng.id}/members/{user.id}/readmit",
                            data={"reason": "scope explained", "csrf_token": token})
    assert readmitted.status_code == 303, readmitted.text
    again = staff.post(f"/network/engagements/{eng.id}/members/{user.id}/readmit",
                       data={"csrf_token": token})
    assert again.status_code == 400
    assert "re-admitted already" in again.text
    member = web.login("comeback-rt")
    early = member.post(f"/network/engagements/{eng.id}/join",
                        data={"csrf_token": web.csrf(member)})
    assert early.status_code == 403  # the agreements of before the removal no longer count
    assert "accept the current non-disclosure agreement" in early.text
    for doc in DOCUMENTS:
        store.accept(user.id, doc.name, doc.version)
    joined = member.post(f"/network/engagements/{eng.id}/join",
                         data={"csrf_token": web.csrf(member)})
    assert joined.status_code == 200, joined.text
    new_key = re.search(r"bst-[A-Za-z0-9_-]+", joined.text).group(0)  # type: ignore[union-attr]
    assert new_key != old_key
    assert web.ctx.accounts.authenticate(old_key) is None
    principal = web.ctx.accounts.authenticate(new_key)
    assert principal is not None
    assert principal.key.scopes.categories == frozenset({"INJ"})
    assert [m.active for m in store.engagement(eng.id).members] == [False, True]
    event = next(e for e in web.ctx.audit.events()
                 if e["type"] == "network.engagement.member_readmitted")
    assert (event["user_id"], event["reason"]) == (user.id, "scope explained")
    store.remove_member(eng.id, user.id, by="test", reason="out of scope again")
    refused = member.post(f"/network/engagements/{eng.id}/join",
                          data={"csrf_token": web.csrf(member)})
    assert refused.status_code == 400
    assert web.ctx.accounts.authenticate(new_key) is None


def test_only_staff_readmit_members(web: WebStack) -> None:
    eng = _engagement(web, "staff-only", -timedelta(minutes=1), timedelta(hours=1))
    member = web.login("red-teamer")
    response = member.post(f"/network/engagements/{eng.id}/members/x/readmit",
                           data={"csrf_token": web.csrf(member)})
    assert response.status_code == 403


def test_engagement_form_refuses_bad_scope(web: WebStack) -> None:
    client = web.login("admin")
    token = web.csrf(client, "/network/engagements/new")
    response = client.post("/network/engagements", data={
        "name": "bad", "models": "m", "starts_at": "2026-12-02T00:00",
        "ends_at": "2026-12-01T00:00", "routes": ["chat"], "csrf_token": token})
    assert response.status_code == 400
    assert "ends before it starts" in response.text
    overlap = client.post("/network/engagements", data={
        "name": "bad", "models": "m", "starts_at": "2026-12-01T00:00",
        "ends_at": "2026-12-02T00:00", "routes": ["chat"], "categories_in": "INJ",
        "categories_out": "INJ", "csrf_token": token})
    assert overlap.status_code == 400
    assert "both in and out of scope" in overlap.text


def test_red_teamers_see_only_their_own_membership(web: WebStack) -> None:
    store = _store(web)
    eng = _engagement(web, "privacy", -timedelta(minutes=1), timedelta(hours=1))
    for name in ("alpha-rt", "beta-rt"):
        user = web.ctx.users.create(name, "red-teamer", password=PASSWORD)
        for doc in DOCUMENTS:
            store.accept(user.id, doc.name, doc.version)
        store.join(eng.id, user)
    page = web.login("alpha-rt").get(f"/network/engagements/{eng.id}").text
    assert "alpha-rt" in page
    assert "beta-rt" not in page
    staff = web.login("triager").get(f"/network/engagements/{eng.id}").text
    assert "alpha-rt" in staff
    assert "beta-rt" in staff


def test_network_store_on_postgres(web_pg: WebStack) -> None:
    store = web_pg.ctx.service(NetworkStore.of)
    app = store.apply(username="pg-user", full_name="P G", email="p@g.org",
                      expertise=["security"], languages=["English"], links=[],
                      conflicts="", motivation="")
    store.add_note(app.id, "looks fine", by=web_pg.ctx.users.get("admin").id)
    store.approve(app.id, by="test")
    user = web_pg.ctx.users.get("pg-user")
    eng, key = join_live_engagement(web_pg, user, "pg")
    info = web_pg.ctx.accounts.authenticate(key)
    assert info is not None
    store.remove_member(eng.id, user.id, by="test", reason="done")
    assert web_pg.ctx.accounts.authenticate(key) is None
    assert store.application(app.id).notes[0].text == "looks fine"
    assert info.key.expires_at == eng.ends_at


def test_htmx_note_gets_a_fragment_with_the_header_token_only(web: WebStack) -> None:
    _post_apply(web, username="htmx-note")
    app = next(a for a in _store(web).applications() if a.username == "htmx-note")
    client = web.login("triager")
    token = web.csrf(client, f"/network/applications/{app.id}")
    response = client.post(f"/network/applications/{app.id}/notes", data={"text": "via htmx"},
                           headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="notes">')
    assert "via htmx" in response.text
    assert "<html" not in response.text
    forged = client.post(f"/network/applications/{app.id}/notes", data={"text": "forged"},
                         headers={"HX-Request": "true", "X-CSRF-Token": "forged"})
    assert forged.status_code == 403


def test_the_queue_is_paged_pending_first(web: WebStack) -> None:
    store = _store(web)
    for i in range(55):
        store.apply(username=f"bulk{i:02d}", full_name=f"Bulk {i:02d}", email="b@example.org",
                    expertise=["ethics"], languages=[], links=[], conflicts="", motivation="")
    client = web.login("triager")
    first = client.get("/network/applications?status=pending").text
    total = store.count_applications("pending")
    assert f"{total} applications" in first
    assert "page 1 of 2" in first
    assert first.count('href="/network/applications/app_') == 50
    second = client.get("/network/applications?status=pending&page=2").text
    assert second.count('href="/network/applications/app_') == total - 50
    assert "Bulk 54" in second
    assert client.get("/network/applications?page=0").status_code == 422


def test_applications_are_limited_per_address(tmp_path: Any) -> None:
    """The public form cannot flood the reviewers' queue: after ``applications_per_hour``
    applications from one address the next is a 429 that says when to try again; a form
    with a mistake does not count."""
    from tests.web.conftest import running_web

    with running_web(f"sqlite:///{tmp_path}/apply.db", applications_per_hour=2) as web:
        assert _post_apply(web, username="wrong", links="javascript:alert(1)").status_code == 400
        assert [_post_apply(web, username=f"flood{i}").status_code for i in range(3)] == [
            200, 200, 429]
        refused = _post_apply(web, username="flood9")
        assert "try again in an hour" in refused.text
        assert {a.username for a in _store(web).applications()} == {"flood0", "flood1"}
