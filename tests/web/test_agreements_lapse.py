"""A member's agreements lapse when staff re-admit them or a new version comes out: until
they accept the current NDA and rules of engagement again, every engagement and finding page
sends them to the Agreements page (the API and forms answer 403 saying why). On PostgreSQL."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from tests.web.conftest import PASSWORD, WebStack, join_live_engagement

from bastion.network import DOCUMENTS, NetworkStore

GATED_PAGES = ("/findings", "/findings/f_0123456789abcdef", "/findings-metrics",
               "/network/engagements")


@pytest.fixture
def web(web_pg: WebStack) -> WebStack:
    """The app over PostgreSQL (the module's)."""
    return web_pg


def _accept_all(web: WebStack, client: httpx.Client) -> None:
    """Accept every current document through the Agreements page's forms."""
    token = web.csrf(client, "/network/agreements")
    for doc in DOCUMENTS:
        accepted = client.post("/network/agreements", data={
            "document": doc.name, "version": doc.version, "csrf_token": token})
        assert accepted.status_code == 303, accepted.text


def _readmitted_member(web: WebStack, username: str) -> tuple[httpx.Client, str]:
    """A red-teamer who accepted the agreements and joined an engagement, was removed by an
    admin, re-admitted as a red-teamer and set a password again: their session and the
    engagement's id."""
    user = web.ctx.users.create(username, "red-teamer", password=PASSWORD)
    eng, _ = join_live_engagement(web, user, f"{username}-eng")
    admin = web.login("admin")
    token = web.csrf(admin, "/admin/users")
    assert admin.post(f"/admin/users/{user.id}/disable",
                      data={"csrf_token": token}).status_code == 303
    back = admin.post(f"/admin/users/{user.id}/readmit",
                      data={"role": "red-teamer", "csrf_token": token})
    assert back.status_code == 200, back.text
    web.ctx.users.set_password(user.id, PASSWORD, by=user.id)
    return web.login(username), eng.id


def test_a_readmitted_member_is_sent_to_accept_the_nda_before_any_finding(
        web: WebStack) -> None:
    member, engagement_id = _readmitted_member(web, "nda-again")
    for path in (*GATED_PAGES, f"/network/engagements/{engagement_id}"):
        response = member.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/network/agreements", path
    page = member.get("/network/agreements").text
    assert "accept the current non-disclosure agreement (version" in page  # says why
    assert "you were re-admitted on " in page
    assert page.count('action="/network/agreements"') == len(DOCUMENTS)  # none counts now
    refused = member.post(f"/network/engagements/{engagement_id}/join",
                          data={"csrf_token": web.csrf(member)})
    assert refused.status_code == 403
    assert "bst-" not in refused.text
    _accept_all(web, member)
    assert member.get("/findings").status_code == 200
    assert member.get(f"/network/engagements/{engagement_id}").status_code == 200


def test_a_member_readmitted_to_an_engagement_accepts_again_before_rejoining(
        web: WebStack) -> None:
    user = web.ctx.users.create("eng-again", "red-teamer", password=PASSWORD)
    eng, _ = join_live_engagement(web, user, "eng-again-eng")
    store = web.ctx.service(NetworkStore.of)
    store.remove_member(eng.id, user.id, by="test", reason="out of scope")
    store.readmit_member(eng.id, user.id, by="test", reason="scope explained")
    member = web.login("eng-again")
    assert member.get("/findings").headers["location"] == "/network/agreements"
    _accept_all(web, member)
    joined = member.post(f"/network/engagements/{eng.id}/join",
                         data={"csrf_token": web.csrf(member)})
    assert joined.status_code == 200, joined.text
    assert "bst-" in joined.text


def test_a_new_nda_version_closes_findings_until_it_is_accepted(
        web: WebStack, monkeypatch: pytest.MonkeyPatch) -> None:
    user = web.ctx.users.create("nda-v2", "red-teamer", password=PASSWORD)
    join_live_engagement(web, user, "nda-v2-eng")
    member = web.login("nda-v2")
    assert member.get("/findings").status_code == 200
    newer = tuple(dataclasses.replace(d, version="2099-01") if d.name == "nda" else d
                  for d in DOCUMENTS)
    for module in ("_documents", "_store", "_web"):
        monkeypatch.setattr(f"bastion.network.{module}.DOCUMENTS", newer)
    assert member.get("/findings").headers["location"] == "/network/agreements"
    assert member.get("/network/engagements").status_code == 303
    page = member.get("/network/agreements").text
    assert "non-disclosure agreement (version 2099-01) first: a new version came out" in page
    nda = newer[0] if newer[0].name == "nda" else newer[1]
    member.post("/network/agreements", data={"document": nda.name, "version": nda.version,
                                             "csrf_token": web.csrf(member)})
    assert member.get("/findings").status_code == 200


def test_staff_pass_and_a_member_who_never_accepted_is_sent_to_accept_first(
        web: WebStack) -> None:
    """Staff accept nothing. A member who never accepted the agreements could open the
    engagements in scope and the findings pages (only joining asked them first)."""
    assert web.login("triager").get("/findings").status_code == 200
    web.ctx.users.create("brand-new", "red-teamer", password=PASSWORD)
    member = web.login("brand-new")
    for path in GATED_PAGES:
        response = member.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/network/agreements", path
    assert "first: you have not accepted them yet" in member.get("/network/agreements").text
    refused = member.post("/findings/new", data={
        "csrf_token": web.csrf(member, "/network/agreements"), "title": "t"})
    assert refused.status_code == 403
    assert "Agreements page" in refused.text
    _accept_all(web, member)
    assert member.get("/findings").status_code == 200
    assert member.get("/network/engagements").status_code == 200
