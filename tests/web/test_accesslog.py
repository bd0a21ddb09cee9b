"""No secret in the web app's access log, and what a defender reads there is kept
(``bastion.web._accesslog``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.gateway.test_access_log import served_gets
from tests.web.conftest import AUDIT_KEY

from bastion.monitor import KEY_ENV
from bastion.web._accesslog import scrub_web_path

OPENAI = "sk-proj-" + "Q7x" * 12
GOOGLE = "AIza" + "SyB3" * 8 + "c9d"
GITHUB = "ghp_" + "a1B2" * 9
CLIENT_SECRET = "Ab3dEf6hIj9kLm"  # too short and plain for any detector: its name says it
HEX = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"  # a key of no format any detector knows


@pytest.mark.parametrize(("path", "shown"), [
    # what the app's routes hold stays readable
    ("/findings/123", "/findings/123"),
    ("/policies/prompt_injection/versions/3", "/policies/prompt_injection/versions/3"),
    ("/admin/users/user_0123456789abcdef0123/disable",
     "/admin/users/user_0123456789abcdef0123/disable"),
    ("/network/applications/app_0123456789abcdef", "/network/applications/app_0123456789abcdef"),
    ("/static/vendor/htmx-2.0.11.min.js", "/static/vendor/htmx-2.0.11.min.js"),
    ("/findings?state=open&after=WzEyM10&limit=50", "/findings?state=open&after=WzEyM10&limit=50"),
    ("/login?next=/findings/12", "/login?next=/findings/12"),
    ("/login?next=%2Ffindings%2F12", "/login?next=/findings/12"),
    ("/monitor?window=24h&q=hello+world", "/monitor?window=24h&q=hello+world"),
    # a credential's name masks its value, whatever the value
    ("/set-password?token=Zx9-one-time&next=/", "/set-password?token=***&next=/"),
    (f"/x?access_token={OPENAI}", "/x?access_token=***"),
    (f"/x?apikey={GOOGLE}", "/x?apikey=***"),
    (f"/x?client_secret={CLIENT_SECRET}", "/x?client_secret=***"),
    ("/x?X-Amz-Signature=abc&sessionid=1", "/x?X-Amz-Signature=***&sessionid=***"),
    # a value the detectors flag, or that looks random, under an ordinary name
    (f"/x?q={GITHUB}", "/x?q=***"),
    (f"/x?q={HEX}", "/x?q=***"),
    ("/x?email=jane%40example.com&card=4111111111111111", "/x?email=***&card=***"),
    (f"/x?{OPENAI}", "/x?***"),
    (f"/login?next=/{OPENAI}/x%3Ftoken%3D1", "/login?next=/***/x?…"),
    # in the path: anything the routes do not hold
    (f"/{OPENAI}/x", "/***/x"),
    (f"/findings/{HEX}", "/findings/***"),
    ("/findings/5555.5555.5555.4444", "/findings/***"),
    ("/findings/415-555-2671", "/findings/***"),
    ("/findings/jane%40example.com", "/findings/***"),
    ("/findings/Secret-Passphrase", "/findings/***"),
])
def test_the_log_keeps_ids_and_masks_secrets(path: str, shown: str) -> None:
    assert scrub_web_path(path) == shown


def test_a_long_query_is_cut_at_a_parameter() -> None:
    """The detectors read a bounded part of a query: the line is written on the event loop."""
    shown = scrub_web_path("/x?" + "&".join(f"n{i}=v" for i in range(400)))
    assert shown.endswith("&n19=v&…")
    assert scrub_web_path("/x?a=1&b=" + "c" * 1000) == "/x?a=1&…"


def test_web_run_writes_no_secret_sent_in_the_url_to_its_log(tmp_path: Path) -> None:
    """``bastion web run`` as an operator starts it: keys under any name, under an ordinary
    one, and in the path reach stderr's access log masked; a finding's id stays. All five
    secrets were written in clear before."""
    log = tmp_path / "web.log"
    statuses = served_gets(
        ["-m", "bastion.cli.main", "web", "run", "--db", f"sqlite:///{tmp_path / 'web.db'}"],
        log, "/healthz", [f"/login?access_token={OPENAI}", f"/login?apikey={GOOGLE}",
                          f"/login?client_secret={CLIENT_SECRET}", f"/login?q={GITHUB}",
                          f"/{OPENAI}/x", "/findings/123"], env={KEY_ENV: AUDIT_KEY})
    assert statuses == [200, 200, 200, 200, 404, 303]
    written = log.read_text()
    for secret in (OPENAI, GOOGLE, CLIENT_SECRET, GITHUB):
        assert secret[4:16] not in written
    assert '"GET /login?access_token=*** HTTP/1.1" 200' in written
    assert '"GET /login?q=*** HTTP/1.1" 200' in written
    assert '"GET /***/x HTTP/1.1" 404' in written
    assert '"GET /findings/123 HTTP/1.1" 303' in written
