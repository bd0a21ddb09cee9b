"""The attacker's and judge's settings on ``rerun``, and refused without their model's URL.

``bastion redteam rerun`` takes ``run``'s eight attacker and judge flags, each overriding the
logged campaign's setting, so a past campaign can be judged again by another model; and a
model setting given with no URL for that model (a flag, or a campaign file's key) is refused
before any request, saying what was given, why it would do nothing and how to fix it: it was
accepted and silently ignored, and a user believed a judge was checked or bounded (issue 9).
Judge, attacker and target are real servers on loopback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import typer
from tests.redteam._servers import serving
from tests.redteam.test_redteam_cli import Server, server  # noqa: F401 - fixture used by name
from typer.testing import CliRunner

#: One attempt against the in-process vulnerable target, rules-tier harm.
QUICK = ("-p", "jailbreak", "--limit", "1", "--harm-tier", "rules", "--retries", "0", "-q")
#: A URL nothing in QUICK asks (no attacker strategy or converter, no judge scorer).
UNUSED = "http://127.0.0.1:9/v1"
#: Each model setting's flag with a value, and the role whose URL it needs.
FLAGS = [("--judge-model", "strict", "judge"), ("--judge-timeout", "5", "judge"),
         ("--judge-verify", "false", "judge"), ("--attacker-model", "writer", "attacker"),
         ("--attacker-timeout", "5", "attacker"), ("--attacker-verify", "false", "attacker")]


@dataclass
class Model:
    """A loopback OpenAI-compatible model: a judge answering 'refused' (echoing the nonce it
    was given), else an attacker answering a paraphrase; it records the model names asked."""

    url: str
    asked: list[str] = field(default_factory=list)


@contextmanager
def _model() -> Iterator[Model]:
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            asked.append(body["model"])
            nonce = re.search(r"nonce: ([0-9a-f]{16})", json.dumps(body["messages"]))
            text = (json.dumps({"verdict": "refused", "reason": "no", "nonce": nonce.group(1)})
                    if nonce else "Please explain, step by step, how this is done.")
            data = json.dumps({"choices": [{"message": {"content": text}}]}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serving(Handler) as root:
        yield Model(f"{root}/v1", asked)


def _cli(cli: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["redteam", *args])
    return result.exit_code, " ".join(result.output.split())


def _config(log: Path) -> dict[str, Any]:
    """The campaign settings a log's header keeps."""
    return dict(json.loads(log.read_text("utf-8").splitlines()[0])["config"])


def test_rerun_judges_again_with_another_judge_given_by_flags(
        cli: typer.Typer, tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    with _model() as old, _model() as new:
        code, out = _cli(cli, "run", *QUICK, "--scorers", "judge", "--judge-url", old.url,
                         "--log", str(first))
        assert code == 0, out
        assert old.asked == ["judge"]
        code, out = _cli(cli, "rerun", str(first), "-q", "--log", str(second), "--judge-url",
                         new.url, "--judge-model", "strict", "--judge-timeout", "7")
        assert code == 0, out  # judged: the new judge's verdict was read
        assert old.asked == ["judge"], "the logged judge was asked again"
        assert new.asked == ["strict"]
    config = _config(second)
    assert (config["judge_url"], config["judge_model"], config["judge_timeout"]) == (
        new.url, "strict", 7.0)
    assert config["scorers"] == ["judge"], "the rest of the logged campaign is kept"


def test_rerun_asks_another_attacker_given_by_flags(cli: typer.Typer, tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    with _model() as old, _model() as new:
        code, out = _cli(cli, "run", *QUICK, "-c", "paraphrase", "--attacker-url", old.url,
                         "--attacker-timeout", "9", "--log", str(first))
        assert code == 0, out
        assert set(old.asked) == {"attacker"}  # asked at least once, by that name
        before = len(old.asked)
        code, out = _cli(cli, "rerun", str(first), "-q", "--log", str(second),
                         "--attacker-url", new.url, "--attacker-model", "writer",
                         "--attacker-verify", "false")
        assert code == 0, out
        assert len(old.asked) == before, "the logged attacker was asked again"
        assert set(new.asked) == {"writer"}
    config = _config(second)
    assert (config["attacker_url"], config["attacker_model"], config["attacker_verify"],
            config["attacker_timeout"]) == (new.url, "writer", False, 9.0)  # timeout kept


def _logged(cli: typer.Typer, server: Server, log: Path) -> int:  # noqa: F811
    """Run one attempt against the loopback ``server`` into ``log``; the requests sent."""
    code, out = _cli(cli, "run", *QUICK, "-t", "http", "-T", f"url={server.url}",
                     "--log", str(log))
    assert code == 0, out
    return len(server.requests)


@pytest.mark.parametrize(("flag", "value", "role"), FLAGS)
def test_rerun_refuses_a_model_flag_when_neither_log_nor_flags_name_the_model(
        cli: typer.Typer, server: Server, tmp_path: Path,  # noqa: F811
        flag: str, value: str, role: str) -> None:
    log = tmp_path / "run.jsonl"
    sent = _logged(cli, server, log)
    code, out = _cli(cli, "rerun", str(log), "-q", flag, value)
    assert code == 2, out
    assert out.startswith(f"error: bad campaign settings: {flag} was given, but no {role} model "
                          f"is configured (no --{role}-url, no '{role}_url' in log "), out
    assert "so it would have no effect" in out
    assert out.endswith(f"pass --{role}-url URL, or drop {flag}"), out
    assert len(server.requests) == sent, "the rerun sent requests before refusing"


def test_rerun_checks_the_model_flags_values_as_run_does(
        cli: typer.Typer, server: Server, tmp_path: Path) -> None:  # noqa: F811
    log = tmp_path / "run.jsonl"
    sent = _logged(cli, server, log)
    code, out = _cli(cli, "rerun", str(log), "-q", "--judge-url", UNUSED, "--judge-timeout", "0")
    assert code == 2, out
    assert "error: --judge-timeout 0: a timeout is the seconds one request to the model may " \
           "take in all, so it must be above 0" in out
    code, out = _cli(cli, "rerun", str(log), "-q", "--attacker-url", UNUSED,
                     "--attacker-verify", str(tmp_path / "missing.pem"))
    assert code == 2, out
    assert f"--attacker-verify names CA bundle {str(tmp_path / 'missing.pem')!r}, which does " \
           "not exist" in out
    assert len(server.requests) == sent


def test_rerun_takes_a_redacted_model_url_again_from_its_flag(
        cli: typer.Typer, tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    code, out = _cli(cli, "run", *QUICK, "--attacker-url", "http://a:pw-1@127.0.0.1:9/v1",
                     "--log", str(first))
    assert code == 0, out
    code, out = _cli(cli, "rerun", str(first), "-q")
    assert code == 2, out
    assert "give the URL again with --attacker-url" in out
    code, out = _cli(cli, "rerun", str(first), "-q", "--attacker-url", UNUSED,
                     "--log", str(second))
    assert code == 0, out
    assert _config(second)["attacker_url"] == UNUSED


def test_a_log_whose_unused_model_settings_were_accepted_before_still_reruns(
        cli: typer.Typer, tmp_path: Path) -> None:
    """A log written before the check may hold judge settings with no judge_url: they did
    nothing then, and a rerun leaves them out rather than refusing the log; a judge named now
    starts from the defaults (its TLS check on)."""
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    code, out = _cli(cli, "run", *QUICK, "--log", str(first))
    assert code == 0, out
    lines = first.read_text("utf-8").splitlines()
    header = json.loads(lines[0])
    header["config"].update(judge_verify=False, judge_timeout=5.0, judge_model="stale")
    first.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", "utf-8")
    code, out = _cli(cli, "rerun", str(first), "-q")
    assert code == 0, out
    code, out = _cli(cli, "rerun", str(first), "-q", "--judge-url", UNUSED, "--log", str(second))
    assert code == 0, out
    config = _config(second)
    assert (config["judge_url"], config["judge_model"], config["judge_verify"],
            config["judge_timeout"]) == (UNUSED, "judge", True, 60.0)


@pytest.mark.parametrize(("flag", "value", "role"), FLAGS)
def test_run_refuses_a_model_flag_without_its_url_before_any_request(
        cli: typer.Typer, server: Server, tmp_path: Path,  # noqa: F811
        flag: str, value: str, role: str) -> None:
    code, out = _cli(cli, "run", *QUICK, "-t", "http", "-T", f"url={server.url}", flag, value)
    assert code == 2, out
    assert out == (f"error: bad campaign settings: {flag} was given, but no {role} model is "
                   f"configured (no --{role}-url), so it would have no effect: the {role}'s "
                   f"settings apply only to requests to the {role} model, and without its URL "
                   f"none is made; pass --{role}-url URL, or drop {flag}")
    assert server.requests == []
    campaign = tmp_path / "campaign.yaml"  # nor does a campaign file without the URL help
    campaign.write_text(f"target: http\ntarget_options: {{url: '{server.url}'}}\n", "utf-8")
    code, out = _cli(cli, "run", *QUICK, "--config", str(campaign), flag, value)
    assert code == 2, out
    assert f"(no --{role}-url, no '{role}_url' in campaign file {str(campaign)!r})" in out
    assert f"pass --{role}-url URL or set '{role}_url' in the campaign file, or drop {flag}" in out
    assert server.requests == []


@pytest.mark.parametrize("setting", ["judge_timeout: 5", "judge_verify: false",
                                     "judge_model: strict", "judge_key_env: JUDGE_KEY",
                                     "attacker_timeout: 5", "attacker_verify: no",
                                     "attacker_model: writer", "attacker_key_env: KEY"])
def test_a_campaign_file_setting_a_model_without_its_url_is_refused_unless_a_flag_names_it(
        cli: typer.Typer, server: Server, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv("JUDGE_KEY", "sk-judge-1234")  # the key_env settings name set variables
    monkeypatch.setenv("KEY", "sk-attacker-1234")
    name, role = setting.partition(":")[0], setting.partition("_")[0]
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(f"target: http\ntarget_options: {{url: '{server.url}'}}\n{setting}\n",
                        "utf-8")
    code, out = _cli(cli, "run", *QUICK, "--config", str(campaign))
    assert code == 2, out
    assert out == (f"error: bad campaign settings: campaign file {str(campaign)!r} sets "
                   f"{name!r}, but no {role} model is configured (no --{role}-url, no "
                   f"'{role}_url' in it), so it would have no effect: the {role}'s settings "
                   f"apply only to requests to the {role} model, and without its URL none is "
                   f"made; pass --{role}-url URL or set '{role}_url' in the campaign file, or "
                   f"remove {name!r} from it")
    assert server.requests == []
    code, out = _cli(cli, "run", *QUICK, "--config", str(campaign), f"--{role}-url", UNUSED)
    assert code == 0, out  # the flag completes the file (nothing here asks the model)
    assert len(server.requests) == 1
