"""The dashboard over HTTP: who sees what, chart data, incident and account actions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.web.conftest import WebStack, running_web

from bastion.monitor import AuditLog

from .web_data import HOSTILE, Seeded, seed


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebStack, Seeded]]:
    tmp = tmp_path_factory.mktemp("monitor-web")
    with running_web(f"sqlite:///{tmp}/web.db", login_attempts_per_minute=10_000) as web:
        yield web, seed(web.ctx)


def test_overview_data_counts_the_traffic(stack: tuple[WebStack, Seeded]) -> None:
    web, seeded = stack
    client = web.login("viewer")
    data = client.get("/monitor/data/overview?window=24h").json()
    assert data["totals"]["checks"] == 512
    assert data["totals"]["blocks"] == 12
    assert data["top_accounts"][0] == {
        "id": seeded.attacker, "name": "mallory", "blocks": 12, "checks": 12,
        "strike_score": 26.0, "level": "throttle", "status": "active"}  # the gateway's score
    assert data["strikes_read"] is True
    assert data["accounts"]["datasets"][0]["label"] == "blocked prompts"
    assert data["categories"]["labels"] == ["INJ"]
    assert sum(data["traffic"]["datasets"][0]["data"]) == 512
    assert client.get("/monitor/data/overview?window=year").status_code == 400
    page = client.get("/monitor")
    assert page.status_code == 200
    assert "chart-4.5.1.umd.min.js" in page.text
    assert "<script>" not in page.text.split("</head>")[1]  # no inline script in the body


def test_accounts_show_the_gateways_strike_scores(stack: tuple[WebStack, Seeded]) -> None:
    web, seeded = stack
    client = web.login("triager")
    html = client.get("/monitor/accounts").text
    rows = html.split("<tbody>")[1].split("</tr>")
    mallory = next(r for r in rows if "mallory" in r)
    assert "<td>26.0</td>" in mallory
    assert ">throttle<" in mallory
    assert "<td>12</td>" in mallory
    assert web.ctx.accounts.account(seeded.suspended).suspended  # runs before reinstating
    sam = next(r for r in rows if ">sam<" in r)
    assert "<td>45.0</td>" in sam
    assert ">suspend<" in sam
    account = client.get(f"/monitor/accounts/{seeded.attacker}").text
    assert '<dd id="strike-score">26.0 (throttle)</dd>' in account

def test_who_may_see_and_act(stack: tuple[WebStack, Seeded]) -> None:
    web, seeded = stack
    red = web.login("red-teamer")
    assert red.get("/monitor").status_code == 403
    assert red.get("/monitor/incidents").status_code == 403
    viewer = web.login("viewer")
    assert viewer.get("/monitor/incidents").status_code == 200
    assert viewer.get("/monitor/accounts").status_code == 403
    token = web.csrf(viewer, "/monitor/incidents")
    refused = viewer.post(f"/monitor/incidents/{seeded.incident}/acknowledge",
                          data={"reason": "mine", "csrf_token": token})
    assert refused.status_code == 403


def test_hostile_prompts_are_shown_inert(stack: tuple[WebStack, Seeded]) -> None:
    web, seeded = stack
    client = web.login("triager")
    for path in (f"/monitor/incidents/{seeded.incident}", f"/monitor/accounts/{seeded.attacker}"):
        html = client.get(path).text
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_acknowledge_then_resolve_with_reasons(stack: tuple[WebStack, Seeded]) -> None:
    web, seeded = stack
    client = web.login("triager")
    path = f"/monitor/incidents/{seeded.incident}"
    token = web.csrf(client, path)
    missing = client.post(f"{path}/acknowledge", data={"reason": "", "csrf_token": token})
    assert missing.status_code == 400
    assert "a reason is required" in missing.text
    assert client.post(f"{path}/acknowledge", data={"reason": "no token"}).status_code == 403
    done = client.post(f"{path}/acknowledge", data={"reason": "checking mallory",
                                                    "csrf_token": token})
    assert done.status_code == 303
    resolved = client.post(f"{path}/resolve", data={"reason": "mallory suspended",
                                                    "csrf_token": token})
    assert resolved.status_code == 303
    assert "resolved by triager: mallory suspended" in client.get(path).text
    assert seeded.incident not in client.get("/monitor/incidents").text
    assert seeded.incident in client.get("/monitor/incidents?status=resolved").text
    audited = [(e["type"], e["by"]) for e in AuditLog(web.ctx.sessions).events()
               if e["type"].startswith("incident.")]
    assert audited == [("incident.acknowledged", "triager"), ("incident.resolved", "triager")]


def test_reinstate_a_suspended_account(stack: tuple[WebStack, Seeded]) -> None:
    web, seeded = stack
    client = web.login("triager")
    path = f"/monitor/accounts/{seeded.suspended}"
    page = client.get(path).text
    assert "strike score 30 reached 24" in page  # the suspension and its reason
    token = web.csrf(client, path)
    short = client.post(f"{path}/reinstate", data={"reason": "", "csrf_token": token})
    assert short.status_code == 400
    assert "a reason is required" in short.text
    done = client.post(f"{path}/reinstate", data={"reason": "false positives, talked to sam",
                                                  "csrf_token": token})
    assert done.status_code == 303
    assert not web.ctx.accounts.account(seeded.suspended).suspended
    again = client.post(f"{path}/reinstate", data={"reason": "again", "csrf_token": token})
    assert again.status_code == 400
    assert "not suspended" in again.text
    timeline = client.get(f"/monitor/data/accounts/{seeded.suspended}").json()
    assert sum(timeline["strikes"]["datasets"][1]["data"]) > 0
    history = [e for e in AuditLog(web.ctx.sessions).events()
               if e["type"] == "account.reinstated"]
    assert history[-1]["by"] == "triager"
    assert client.get("/monitor/accounts/acct_nope").status_code == 404

