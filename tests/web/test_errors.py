"""Error pages: a view's specific not-found message is shown (escaped); routing's own 404
and 405 get a plain one; a 5xx never shows its cause."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, HTTPException
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, WebStack

from bastion.web import Feature, Permission, WebSettings, create_web_app, requires

HOSTILE = "<img src=x onerror=alert(1)>"
boom_router = APIRouter()


@boom_router.get("/boom/http", dependencies=[requires(Permission.PUBLIC)])
def boom_http() -> None:
    raise HTTPException(500, "cannot reach postgresql://bastion:hunter2@db/bastion")


@boom_router.get("/boom/token", dependencies=[requires(Permission.PUBLIC)])
def boom_token() -> None:
    raise HTTPException(500, "cannot reach https://sk-live-abc123XYZ@llm.example/v1; "
                             "tell bob@example.com")


@boom_router.get("/boom/crash", dependencies=[requires(Permission.PUBLIC)])
def boom_crash() -> None:
    raise RuntimeError("secret key hunter2 leaked in a traceback")


boom_feature = Feature("boom", boom_router)


def test_unknown_addresses_get_a_plain_404(web: WebStack) -> None:
    page = web.login("viewer").get("/no-such-page")
    assert page.status_code == 404
    assert "there is no page at &#39;/no-such-page&#39;" in page.text
    api = web.client().get("/api/no-such-route")
    assert api.status_code == 404
    assert "there is no page at '/api/no-such-route'" in api.json()["error"]["message"]
    wrong_method = web.login("viewer").put("/account")
    assert wrong_method.status_code == 405
    assert "PUT is not accepted at &#39;/account&#39;" in wrong_method.text


def test_a_views_not_found_message_is_shown(web: WebStack) -> None:
    triager = web.login("triager")
    finding = triager.get("/findings/4242")
    assert finding.status_code == 404
    assert "there is no finding &#39;4242&#39; you can see" in finding.text
    assert "there is no page at" not in finding.text
    incident = triager.get("/monitor/incidents/inc_nope")
    assert incident.status_code == 404
    assert "no incident &#39;inc_nope&#39;" in incident.text


def test_a_not_found_error_from_a_store_is_a_404_with_its_message(web: WebStack) -> None:
    client = web.login("triager")
    token = web.csrf(client)
    missing = client.post("/copilot/proposals/prop_nope/reject",
                          data={"reason": "not ours", "csrf_token": token})
    assert missing.status_code == 404  # was a 400 "That did not work"
    assert "no proposal with id &#39;prop_nope&#39;" in missing.text


def test_a_hostile_name_in_a_not_found_message_renders_inert(web: WebStack) -> None:
    client = web.login("triager")
    page = client.get("/monitor/incidents/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert page.status_code == 404
    assert "no incident &#39;&lt;img src=x onerror=alert(1)&gt;&#39;" in page.text
    assert HOSTILE not in page.text
    nowhere = client.get("/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert nowhere.status_code == 404
    assert "&lt;img src=x onerror=alert(1)&gt;" in nowhere.text
    assert HOSTILE not in nowhere.text


def test_server_errors_never_show_their_cause(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    app = create_web_app(WebSettings(database_url=f"sqlite:///{tmp_path}/e.db"),
                         features=("bastion.web._core:feature",
                                   "tests.web.test_errors:boom_feature"))
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level("ERROR"):
        http = client.get("/boom/http")
        logged = caplog.text
        crash = client.get("/boom/crash")
    # the log keeps the cause for the operator, with the DSN's password masked
    assert "cannot reach postgresql://bastion:***@db/bastion" in logged
    assert "hunter2" not in logged
    assert http.status_code == 500
    assert "something went wrong on our side" in http.text
    assert crash.status_code == 500
    for response in (http, crash):
        assert "hunter2" not in response.text
        assert "postgresql" not in response.text


def test_a_token_written_as_the_user_of_a_url_is_masked_in_the_error_log(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``https://TOKEN@host`` in a 5xx's detail (issue 8): only ``user:password@`` was masked,
    so the log line held the token whole. An e-mail address in the detail stays as it is."""
    app = create_web_app(WebSettings(database_url=f"sqlite:///{tmp_path}/e.db"),
                         features=("bastion.web._core:feature",
                                   "tests.web.test_errors:boom_feature"))
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level("ERROR"):
        assert client.get("/boom/token").status_code == 500
    assert "sk-live-abc123XYZ" not in caplog.text
    assert "cannot reach https://***@llm.example/v1; tell bob@example.com" in caplog.text


def test_an_unreadable_json_body_gets_a_400_or_422_that_says_why(web: WebStack) -> None:
    """Bad UTF-8, JSON nested past the parser's depth, and broken syntax each answer with what
    was wrong and how to fix it, not FastAPI's bare "There was an error parsing the body" or
    "0: JSON decode error"."""
    account = web.ctx.accounts.create_account("api-errors-body", "user", by="test")
    web.ctx.users.create("apibody", "triager", password=PASSWORD, account_id=account.id)
    key = web.ctx.accounts.create_key(account.id, by="test")[1]
    client = web.client()
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    for body in (b'{"content": "\xff\xfe"}', b"[" * 100_000 + b"]" * 100_000):
        answer = client.post("/api/policies", content=body, headers=headers)
        assert answer.status_code == 400
        assert "not UTF-8, or its JSON is nested too deeply" in answer.json()["error"]["message"]
    broken = client.post("/api/policies", content=b'{"content": ', headers=headers)
    assert broken.status_code == 422
    assert "body: not valid JSON (Expecting value at character 12)" in broken.json()[
        "error"]["message"]
