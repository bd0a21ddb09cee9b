"""The attacker and judge models' client against real servers on loopback, as the targets' in
test_redteam_target_tls.py and _deadline.py: a judge behind an internal CA is refused by
default and trusted with ``judge_verify: <CA bundle>``, ``judge_verify: false`` warns once and
the report says so, and a judge trickling its answer is cut at ``judge_timeout`` (issue 9, real
targets)."""

from __future__ import annotations

import logging
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import anyio
import pytest
from tests.redteam._servers import serving
from tests.redteam.test_redteam_target_deadline import _ANSWER, _GAP, _trickling
from tests.redteam.test_redteam_target_tls import Pki, _tls_server, pki  # noqa: F401 - fixture used by name

from bastion.errors import ConfigError
from bastion.redteam import Attacker, AttackerError, Campaign, Message, make_config
from bastion.redteam.reports import campaign_facts


def _ask(model: Attacker | None) -> str:
    """``model``'s answer to one message, its connections closed after."""
    assert model is not None

    async def go() -> str:
        try:
            return await model.complete([Message("user", "grade this")])
        finally:
            await model.aclose()

    return anyio.run(go)


def _campaign(**settings: object) -> Campaign:
    return Campaign(make_config(probes=["jailbreak"], **settings))


def test_a_judge_behind_an_internal_ca_is_refused_by_default_saying_which_setting_trusts_it(
        pki: Pki) -> None:  # noqa: F811
    with _tls_server(pki) as served, pytest.raises(AttackerError) as info:
        _ask(_campaign(judge_url=f"{served.url}/v1").judge)
    said = str(info.value)
    assert f"the TLS certificate of {served.url}/v1 was refused" in said
    assert "give the CA's certificate (judge_verify: /path/to/ca.pem)" in said
    assert "-T " not in said, "-T sets the target's options, not the judge's"
    assert served.paths == []


def test_a_ca_bundle_in_judge_verify_and_attacker_verify_is_trusted(pki: Pki) -> None:  # noqa: F811
    with _tls_server(pki) as served:
        campaign = _campaign(judge_url=f"{served.url}/v1", judge_verify=str(pki.ca),
                             attacker_url=f"{served.url}/v1", attacker_verify=str(pki.ca))
        assert _ask(campaign.judge) == "hello over TLS"
        assert _ask(campaign.attacker) == "hello over TLS"
    assert served.paths == ["/v1/chat/completions"] * 2


def test_judge_verify_false_reaches_it_with_one_warning_and_the_report_says_so(
        pki: Pki, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    with _tls_server(pki) as served:
        with caplog.at_level(logging.WARNING, logger="bastion.redteam"):
            campaign = _campaign(judge_url=f"{served.url}/v1", judge_verify=False)
        assert _ask(campaign.judge) == "hello over TLS"
    warned = [r.getMessage() for r in caplog.records if "TLS" in r.getMessage()]
    assert len(warned) == 1, "once per campaign"
    assert f"TLS certificate checks are OFF for {served.url}/v1 (judge setting " in warned[0]
    assert "(judge_verify: /path/to/ca.pem)" in warned[0]  # said as -T verify= before
    assert "-T " not in warned[0]
    facts = campaign_facts(campaign.header(), [])
    assert facts["TLS"] == "NOT CHECKED (judge_verify: false)"
    both = _campaign(judge_url=f"{served.url}/v1", judge_verify=False,
                     target="http", target_options={"url": f"{served.url}/chat",
                                                    "verify": False})
    assert campaign_facts(both.header(), [])["TLS"] == (
        "NOT CHECKED (target option verify: false; judge_verify: false)")
    with pytest.raises(ConfigError, match="no attacker model is configured"):
        _campaign(attacker_verify=False)  # no attacker_url: it would do nothing, so refused


def test_a_missing_ca_bundle_is_a_config_error_naming_the_setting_before_any_request(
        pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.chdir(tmp_path)
    with _tls_server(pki) as served:
        for role in ("attacker", "judge"):
            with pytest.raises(ConfigError) as info:
                _campaign(**{f"{role}_url": f"{served.url}/v1",
                             f"{role}_verify": "missing-ca.pem"})
            said = str(info.value)
            assert (f"{role} setting '{role}_verify' names CA bundle 'missing-ca.pem', which "
                    "does not exist") in said
            assert str(tmp_path) in said, "says where relative paths are read from"
            assert f"({role}_verify: /etc/ssl/internal-ca.pem)" in said
    assert served.paths == []


def test_a_judge_trickling_its_answer_is_cut_at_judge_timeout() -> None:
    # The answer takes len(_ANSWER) * 0.2 s, about 25 s; no single read waits a second.
    assert len(_ANSWER) * _GAP > 20
    with _trickling(_GAP) as url:
        judge = _campaign(judge_url=f"{url}/v1", judge_timeout=1.0).judge
        start = time.perf_counter()
        with pytest.raises(AttackerError) as info:
            _ask(judge)
        took = time.perf_counter() - start
    assert took < 2.5, f"the judge's request took {took:.1f} s against a 1 s timeout"
    assert f"judge model {url}/v1 did not finish its answer within 1 s" in str(info.value)
    assert "'judge_timeout: 300' in the campaign file" in str(info.value)


def test_an_attacker_answer_trickled_within_attacker_timeout_is_read_whole() -> None:
    with _trickling(0.0) as url:
        assert _ask(_campaign(attacker_url=f"{url}/v1", attacker_timeout=5.0).attacker) == "slow"


def test_the_new_settings_keep_a_campaign_fingerprint_so_older_logs_still_resume() -> None:
    urls = {"judge_url": "http://127.0.0.1:9/v1", "attacker_url": "http://127.0.0.1:9/v1"}
    plain = make_config(probes=["jailbreak"], **urls)
    tuned = make_config(probes=["jailbreak"], **urls,
                        judge_timeout=300, judge_verify="ca.pem", attacker_timeout=5,
                        attacker_verify=False)
    assert plain.fingerprint() == tuned.fingerprint()
    assert tuned.public_dump()["judge_verify"] == "ca.pem", "the log header keeps it"


class _Failing(BaseHTTPRequestHandler):
    """A model server that answers every request with HTTP 500."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.mark.parametrize("role", ["attacker", "judge"])
def test_a_failing_model_is_named_by_its_role(role: str) -> None:
    """Every failure of the judge model read 'attacker model ...', sending its user to the
    wrong setting."""
    with serving(_Failing) as url:
        model = Attacker(f"{url}/v1", role=role, timeout=5.0)
        with pytest.raises(AttackerError) as caught:
            _ask(model)
    said = str(caught.value)
    assert said.startswith(f"{role} model {url}/v1 answered HTTP 500"), said
    assert f"{role}_url" in said
