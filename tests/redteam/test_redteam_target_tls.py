"""Targets against a real TLS server on loopback whose certificate a throwaway CA signed: the
default check refuses it, ``verify=<CA bundle>`` trusts it, ``verify=false`` reaches it with a
warning that the report repeats (issue 9, real targets)."""

from __future__ import annotations

import json
import logging
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from tests.redteam._servers import send_once, serving

from bastion.errors import ConfigError
from bastion.redteam import Campaign, TargetError, make_config
from bastion.redteam.reports import campaign_facts
from bastion.redteam.targets._http import HttpTarget
from bastion.redteam.targets._openai import OpenAITarget

_ANSWER = {"response": "hello over TLS",
           "choices": [{"message": {"content": "hello over TLS"}, "finish_reason": "stop"}]}


@dataclass
class Pki:
    """A throwaway CA and a server certificate it signed for 127.0.0.1."""

    ca: Path
    cert: Path
    key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Made with the openssl command (the 'cryptography' package is not a dependency)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a throwaway CA for the TLS tests")
    where = tmp_path_factory.mktemp("pki")
    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=Bastion test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=where)
    _openssl("req", *curve, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=where)
    (where / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf",
             cwd=where)
    return Pki(where / "ca.pem", where / "server.pem", where / "server.key")


@dataclass
class Served:
    """The server's address and the paths it was sent."""

    url: str
    paths: list[str] = field(default_factory=list)


@contextmanager
def _tls_server(pki: Pki) -> Iterator[Served]:
    served = Served("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            served.paths.append(self.path)
            body = json.dumps(_ANSWER).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.cert, pki.key)
    with serving(Handler, context) as url:
        served.url = url
        yield served


def _targets(url: str, **options: object) -> list[HttpTarget | OpenAITarget]:
    return [HttpTarget(f"{url}/chat", **options),  # type: ignore[arg-type]
            OpenAITarget(f"{url}/v1", **options)]  # type: ignore[arg-type]


def test_the_default_check_refuses_a_certificate_of_an_internal_ca_saying_how_to_trust_it(
        pki: Pki) -> None:
    with _tls_server(pki) as served:
        for target in _targets(served.url):
            with pytest.raises(TargetError) as info:
                send_once(target)
            said = str(info.value)
            assert f"the TLS certificate of {served.url}" in said
            assert "-T verify=/path/to/ca.pem" in said
            assert not info.value.retryable, "a refused certificate is refused again"
    assert served.paths == []


def test_a_ca_bundle_given_in_verify_is_trusted(pki: Pki) -> None:
    with _tls_server(pki) as served:
        for target in _targets(served.url, verify=str(pki.ca)):
            assert send_once(target).text == "hello over TLS"
    assert served.paths == ["/chat", "/v1/chat/completions"]


def test_the_option_check_takes_a_path_or_yes_no_and_names_anything_else(pki: Pki) -> None:
    # '-T verify=/path' and 'verify: /path' in YAML arrive as text, 'verify: false' as a bool.
    for verify in (str(pki.ca), True):
        Campaign(make_config(target="http", probes=["jailbreak"], target_options={
            "url": "https://127.0.0.1:9/chat", "verify": verify}))
    with pytest.raises(ConfigError, match=r"option 'verify' takes bool \| str, not \[1\]"):
        Campaign(make_config(target="http", probes=["jailbreak"], target_options={
            "url": "https://127.0.0.1:9/chat", "verify": [1]}))


def test_verify_false_reaches_it_with_one_warning_and_the_report_says_so(
        pki: Pki, caplog: pytest.LogCaptureFixture) -> None:
    with _tls_server(pki) as served:
        for target in _targets(served.url, verify=False):
            assert send_once(target).text == "hello over TLS"
        caplog.clear()
        config = make_config(target="http", probes=["jailbreak"],
                             target_options={"url": f"{served.url}/chat", "verify": False})
        with caplog.at_level(logging.WARNING, logger="bastion.redteam"):
            campaign = Campaign(config)
    warned = [r.getMessage() for r in caplog.records if "TLS" in r.getMessage()]
    assert len(warned) == 1, "once per campaign"
    assert f"TLS certificate checks are OFF for {served.url}/chat" in warned[0]
    facts = campaign_facts(campaign.header(), [])
    assert facts["TLS"] == "NOT CHECKED (target option verify: false)"
    checked = Campaign(make_config(target="http", probes=["jailbreak"], target_options={
        "url": f"{served.url}/chat", "verify": str(pki.ca)}))
    assert "TLS" not in campaign_facts(checked.header(), [])


@pytest.mark.parametrize(("given", "says"), [
    ("missing-ca.pem", "names CA bundle 'missing-ca.pem', which does not exist"),
    ("false", "'false' was read as text: write it unquoted"),
    ("", "option 'verify' is empty"),
    (".", "a folder; give the PEM file itself"),
    ("not-a-cert.pem", "holds no CA certificate Python can read"),
])
def test_a_ca_bundle_that_cannot_be_read_is_a_config_error_before_any_request(
        given: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "not-a-cert.pem").write_text("hello")
    for make in (lambda: HttpTarget("https://127.0.0.1:9/chat", verify=given),
                 lambda: OpenAITarget("https://127.0.0.1:9/v1", verify=given)):
        with pytest.raises(ConfigError, match="option 'verify'") as info:
            make()
        assert says in str(info.value)


def test_an_unreadable_ca_bundle_is_a_config_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads any file, so the refusal is simulated where the context reads it.
    def refused(**_: object) -> ssl.SSLContext:
        raise PermissionError(13, "Permission denied")

    (tmp_path / "ca.pem").write_text("x")
    monkeypatch.setattr(ssl, "create_default_context", refused)
    with pytest.raises(ConfigError, match=r"cannot be read \(Permission denied\); make it "
                                          "readable"):
        HttpTarget("https://127.0.0.1:9/chat", verify=str(tmp_path / "ca.pem"))
