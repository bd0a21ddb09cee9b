"""``bastion redteam run``'s flags for the attacker's and judge's TLS check and deadline:
``--attacker-verify`` / ``--judge-verify`` and ``--attacker-timeout`` / ``--judge-timeout``
reach the campaign as its settings of those names do in a campaign file, a flag overriding the
file; a bad value is refused before any request, naming the flag; and, against real servers on
loopback (the fixtures of test_redteam_target_tls.py and _deadline.py), ``false`` warns once
and the report says so, and a judge trickling its answer is cut at ``--judge-timeout`` (issue
9, real targets: the settings could only be set in a campaign file)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from tests.redteam.test_redteam_cli import Server, server  # noqa: F401 - fixture used by name
from tests.redteam.test_redteam_target_deadline import _ANSWER, _GAP, _trickling
from tests.redteam.test_redteam_target_tls import Pki, _tls_server, pki  # noqa: F401 - fixture used by name
from typer.testing import CliRunner

FOUR = ("attacker_timeout", "attacker_verify", "judge_timeout", "judge_verify")
#: A quick campaign against the in-process vulnerable target: one attempt, rules-tier harm.
QUICK = ("-p", "jailbreak", "--limit", "1", "--harm-tier", "rules", "--retries", "0", "-q")
#: A model URL nothing in QUICK asks (no attacker strategy or converter, no judge scorer).
UNUSED = "http://127.0.0.1:9/v1"


def _run(cli: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["redteam", "run", *args])
    return result.exit_code, " ".join(result.output.split())


def _settings(cli: typer.Typer, log: Path, *args: str) -> dict[str, Any]:
    """The four settings as the campaign's log header keeps them, after a run with ``args``."""
    code, out = _run(cli, *QUICK, "--log", str(log), *args)
    assert code == 0, out
    config = json.loads(log.read_text("utf-8").splitlines()[0])["config"]
    return {key: config[key] for key in FOUR}


def test_each_flag_reaches_the_campaign_and_overrides_the_campaign_file(
        cli: typer.Typer, pki: Pki, tmp_path: Path) -> None:  # noqa: F811
    ca = str(pki.ca)
    campaign = tmp_path / "campaign.yaml"
    # Both models named (never asked: no strategy, converter or scorer here needs them); a
    # setting of a model with no URL is refused (test_redteam_model_urls.py).
    campaign.write_text(f"attacker_url: {UNUSED}\njudge_url: {UNUSED}\n"
                        f"attacker_timeout: 5\njudge_timeout: 5\nattacker_verify: false\n"
                        f"judge_verify: {ca}\n", "utf-8")
    filed = _settings(cli, tmp_path / "file.jsonl", "--config", str(campaign))
    assert filed == {"attacker_timeout": 5.0, "attacker_verify": False,
                     "judge_timeout": 5.0, "judge_verify": ca}
    flagged = _settings(cli, tmp_path / "flags.jsonl", "--config", str(campaign),
                        "--attacker-timeout", "7.5", "--attacker-verify", ca,
                        "--judge-timeout", "1", "--judge-verify", "false")
    assert flagged == {"attacker_timeout": 7.5, "attacker_verify": ca,
                       "judge_timeout": 1.0, "judge_verify": False}


@pytest.mark.parametrize(("typed", "read"), [("false", False), ("OFF", False), ("0", False),
                                             ("true", True), ("yes", True)])
def test_a_verify_flag_reads_yes_and_no_as_a_campaign_file_does(
        cli: typer.Typer, tmp_path: Path, typed: str, read: bool) -> None:
    # Without a campaign file: the flags alone make the settings.
    got = _settings(cli, tmp_path / "run.jsonl", "--judge-verify", typed,
                    "--attacker-verify", typed, "--judge-url", UNUSED, "--attacker-url", UNUSED)
    assert got["judge_verify"] is read
    assert got["attacker_verify"] is read


def _bad_values(tmp_path: Path) -> list[tuple[str, str, str]]:
    """(flag, value, what the refusal says) for each kind of bad value."""
    (tmp_path / "not-a-ca.pem").write_text("hello\n", "utf-8")
    return [
        ("--judge-verify", "missing-ca.pem", "--judge-verify names CA bundle 'missing-ca.pem', "
         "which does not exist (paths are read from the folder the campaign runs in, "),
        ("--judge-verify", "missing-ca.pem", "or the path of a PEM file holding your CA's "
         "certificate (--judge-verify /etc/ssl/internal-ca.pem)"),
        ("--attacker-verify", str(tmp_path), f"--attacker-verify names {str(tmp_path)!r}, a "
         "folder; give the PEM file itself"),
        ("--attacker-verify", "not-a-ca.pem", "--attacker-verify names 'not-a-ca.pem', which "
         "holds no CA certificate Python can read"),
        ("--judge-timeout", "0", "--judge-timeout 0: a timeout is the seconds one request to "
         "the model may take in all, so it must be above 0; give e.g. --judge-timeout 60 (the "
         "default), or --judge-timeout 300 for a slow model"),
        ("--attacker-timeout", "-2", "--attacker-timeout -2: a timeout is the seconds"),
        ("--attacker-timeout", "nan", "--attacker-timeout nan: a timeout is the seconds"),
    ]


def test_a_bad_value_is_refused_before_any_request_saying_what_why_and_how_to_fix(
        cli: typer.Typer, server: Server, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    models = server.url.removesuffix("/chat") + "/v1"
    for flag, value, said in _bad_values(tmp_path):
        code, out = _run(cli, *QUICK, "-t", "http", "-T", f"url={server.url}",
                         "--attacker-url", models, "--judge-url", models, "--scorers", "judge",
                         flag, value)
        assert code == 2, (flag, value, out)
        assert out.startswith("error: "), out
        assert said in out, (flag, value, out)
        assert "Traceback" not in out
    assert server.requests == [], "nothing is sent before the flags are settled"


def test_judge_verify_false_reaches_the_judge_warning_once_and_the_report_says_so(
        cli: typer.Typer, pki: Pki, tmp_path: Path,  # noqa: F811
        caplog: pytest.LogCaptureFixture) -> None:
    reports = tmp_path / "reports"
    with _tls_server(pki) as served, caplog.at_level(logging.WARNING, "bastion.redteam"):
        code, out = _run(cli, *QUICK, "--scorers", "judge", "--judge-url", f"{served.url}/v1",
                         "--judge-verify", "false", "-o", str(reports), "-f", "md")
    assert served.paths == ["/v1/chat/completions"], out  # the certificate was not checked
    assert code == 3, out  # its answer is no verdict (not JSON): nothing was judged
    warned = [r.getMessage() for r in caplog.records if "TLS" in r.getMessage()]
    assert len(warned) == 1, warned
    assert f"TLS certificate checks are OFF for {served.url}/v1 (judge setting " in warned[0]
    report = (reports / "redteam.md").read_text("utf-8")
    assert "| TLS | NOT CHECKED (judge\\_verify: false) |" in report  # Markdown escapes _


def test_a_ca_bundle_in_judge_verify_trusts_the_judge(
        cli: typer.Typer, pki: Pki, tmp_path: Path) -> None:  # noqa: F811
    reports = tmp_path / "reports"
    with _tls_server(pki) as served:
        code, out = _run(cli, *QUICK, "--scorers", "judge", "--judge-url", f"{served.url}/v1",
                         "--judge-verify", str(pki.ca), "-o", str(reports), "-f", "md")
    assert served.paths == ["/v1/chat/completions"], out
    assert code == 3, out  # reached; its answer is no verdict
    assert "was refused" not in out
    assert "| TLS |" not in (reports / "redteam.md").read_text("utf-8")


@pytest.mark.parametrize("role", ["judge", "attacker"])
def test_a_model_trickling_its_answer_is_cut_at_the_timeout_flag(
        cli: typer.Typer, role: str) -> None:
    # The answer takes len(_ANSWER) * 0.2 s, about 25 s; no single read waits a second. The
    # attacker is asked by the paraphrase converter, the judge by the judge scorer.
    assert len(_ANSWER) * _GAP > 20
    uses = ["-c", "paraphrase"] if role == "attacker" else ["--scorers", "judge"]
    with _trickling(_GAP) as url:
        start = time.perf_counter()
        code, out = _run(cli, *QUICK, *uses, f"--{role}-url", f"{url}/v1",
                         f"--{role}-timeout", "1")
        took = time.perf_counter() - start
    assert code == 3, out  # nothing judged: the attempt errored or went unjudged
    assert f"{role} model {url}/v1 did not finish its answer within 1 s" in out
    assert 0.9 < took < 2.5, f"the run took {took:.1f} s against a 1 s {role} timeout"
