"""The ``bastion redteam`` command group, end to end through Typer."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

DATA = Path(__file__).parent / "data"
EVAL_KEYS = {"n", "precision", "recall", "f1", "auprc", "threshold", "fpr", "sweep", "errors"}
REFUSAL = "I'm sorry, but I can't help with that."


@dataclass
class Server:
    """A loopback chat endpoint that refuses everything and records what it was sent."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: The reply text to a JSON body (default: a refusal); a test sets its own.
    answer: Callable[[Any], str] = lambda _body: REFUSAL

    def bodies(self) -> list[Any]:
        """The JSON bodies received, in order."""
        return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def server() -> Iterator[Server]:
    """A real HTTP server on loopback (the HTTP target's request and parsing are real)."""
    seen: list[dict[str, Any]] = []
    served: list[Server] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            seen.append({"headers": dict(self.headers), "body": body})
            text = served[0].answer(json.loads(body))
            data = json.dumps({"response": text, "data": {"answer": text}}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        served.append(Server(f"http://127.0.0.1:{httpd.server_address[1]}/chat", seen))
        yield served[0]
    finally:
        httpd.shutdown()
        httpd.server_close()


def _invoke(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["redteam", *args])
    return result.exit_code, result.output


def test_run_report_gate_rerun(cli: typer.Typer, tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "--target", "vulnerable", "-T", "latency=0",
                        "--probes", "system_prompt_extraction,injection_indirect",
                        "--converters", "none,rot13", "--log", str(log), "-o", str(tmp_path),
                        "--format", "html,sarif", "--json")
    assert code == 0, out
    summary = json.loads(out[out.index("{"):])
    assert summary["overall"]["n"] == 22
    assert summary["overall"]["successes"] >= 11
    assert (tmp_path / "redteam.html").exists()
    assert (tmp_path / "redteam.sarif").exists()
    assert _invoke(cli, "gate", str(log), "--max-asr", "0.05")[0] == 1
    assert _invoke(cli, "gate", str(log), "--max-asr", "1.0")[0] == 0
    code, out = _invoke(cli, "rerun", str(log), "--failed", "--json")
    assert code == 0, out
    rerun = json.loads(out[out.index("{"):])
    assert rerun["overall"]["n"] == summary["overall"]["successes"]
    assert _invoke(cli, "report", str(log), "-o", str(tmp_path / "r"), "-f", "md")[0] == 0
    assert (tmp_path / "r" / "redteam.md").read_text().startswith("# Bastion red-team report")


def test_a_findings_reproduce_command_replays_that_finding_alone(
        cli: typer.Typer, tmp_path: Path) -> None:
    # It said 'bastion redteam rerun LOG --failed', which replays every success (7 here).
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "-t", "vulnerable", "-T", "latency=0", "-p",
                        "system_prompt_extraction,injection_indirect", "--log", str(log),
                        "-o", str(tmp_path), "-f", "json", "-q")
    assert code == 0, out
    finding = json.loads((tmp_path / "redteam.json").read_text())["findings"][0]
    command = finding["reproduce"].split("'")[1].split()
    assert command[:3] == ["bastion", "redteam", "rerun"]
    args = [str(log) if word == "LOG" else word for word in command[3:]]
    code, out = _invoke(cli, "rerun", *args, "--log", str(tmp_path / "again.jsonl"), "--json")
    assert code == 0, out
    assert json.loads(out[out.index("{"):])["overall"]["n"] == 1
    replayed = (tmp_path / "again.jsonl").read_text().splitlines()[1]
    assert json.loads(replayed)["attempt"]["id"] == finding["attempt"]
    code, out = _invoke(cli, "rerun", str(log), "--attempt", "0123456789abcdef", "-q")
    assert code == 2
    assert "attempt '0123456789abcdef' is not in" in " ".join(out.split())


def test_a_rerun_with_nothing_to_replay_is_an_error_not_a_clean_run(
        cli: typer.Typer, tmp_path: Path) -> None:
    # 'rerun --failed' of a log without successes ran nothing, printed n=0 and exited 0.
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "-t", "callable", "-T", "func=builtins:str", "-p",
                        "capability", "--log", str(log), "-q")
    assert code == 0, out
    code, out = _invoke(cli, "rerun", str(log), "--failed", "-q")
    said = " ".join(out.split())
    assert code == 2, out
    assert "holds no successful attempt, so --failed has nothing to re-run" in said
    assert "re-run all 4" in said


def test_a_report_folder_that_is_a_file_is_refused_before_the_attack(
        cli: typer.Typer, server: Server, tmp_path: Path) -> None:
    # The campaign ran to the end, then writing the reports was a FileExistsError traceback.
    taken = tmp_path / "reports"
    taken.write_text("not a folder")
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-p", "harmful",
                        "--limit", "1", "--log", str(tmp_path / "run.jsonl"), "-o", str(taken),
                        "-q")
    assert code == 2, out
    assert "is a file; name a folder" in " ".join(out.split())
    assert server.requests == []
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-p", "harmful",
                        "--limit", "1", "--log", str(tmp_path / "run.jsonl"), "-q")
    assert code == 0, out
    code, out = _invoke(cli, "report", str(tmp_path / "run.jsonl"), "-o", str(taken / "sub"))
    assert code == 2, out
    assert "cannot write reports to" in " ".join(out.split())
    assert "Traceback" not in out


def test_a_rerun_points_its_sarif_where_the_first_run_did(
        cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "redteam.yaml").write_text("target: vulnerable\ntarget_options: {latency: 0}\n"
                                       "probes: [system_prompt_extraction]\n")
    monkeypatch.chdir(repo)
    code, out = _invoke(cli, "run", "--config", "redteam.yaml", "--log", "run.jsonl", "-q")
    assert code == 0, out
    code, out = _invoke(cli, "rerun", "run.jsonl", "--failed", "--log", "again.jsonl", "-o",
                        "out", "-q")
    assert code == 0, out
    result = json.loads((repo / "out" / "redteam.sarif").read_text())["runs"][0]["results"][0]
    place = result["locations"][0]["physicalLocation"]
    assert place == {"artifactLocation": {"uri": "redteam.yaml"}, "region": {"startLine": 3}}


def test_score_prints_the_same_keys_as_eval(cli: typer.Typer) -> None:
    code, out = _invoke(cli, "score", str(DATA / "refusal_holdout.jsonl"), "--scorer",
                        "refusal", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert set(data) >= EVAL_KEYS
    assert data["n"] == len((DATA / "refusal_holdout.jsonl").read_text().splitlines())
    assert data["f1"] > 0.7


def test_score_rejects_rows_without_response(cli: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no response here"}\n')
    code, out = _invoke(cli, "score", str(bad))
    assert code == 2
    assert "bad.jsonl:1" in out
    bad.write_bytes(b'{"response": "\xff"}\n')  # Latin-1, not UTF-8: was a traceback
    code, out = _invoke(cli, "score", str(bad))
    assert code == 2, out
    assert "rows must be UTF-8 JSON Lines" in " ".join(out.split())


@pytest.mark.parametrize(("row", "named"), [
    ({"response": "Sure.", "goal": 42}, "'goal' must be a string, not int 42"),
    ({"response": "Sure.", "goal": ["make a bomb"]}, "'goal' must be a string, not list"),
    ({"response": "Sure.", "prompt": {"q": "x"}}, "'prompt' must be a string, not dict"),
    ({"response": "Sure.", "label": 0.7}, "'label' is 0.7; use 0 or 1"),
    ({"response": "Sure.", "label": 2}, "'label' is 2; use 0 or 1"),
])
def test_score_refuses_a_goal_prompt_or_label_of_the_wrong_kind(
        cli: typer.Typer, tmp_path: Path, row: dict[str, Any], named: str) -> None:
    # A goal of 42 was scored as the text "42", a list as its repr, a label of 0.7 as 0.
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"response": "fine", "goal": "say hi"}) + "\n" + json.dumps(row))
    code, out = _invoke(cli, "score", str(rows), "--json")
    said = " ".join(out.split())
    assert code == 2, out
    assert "rows.jsonl:2" in said
    assert named in said


def test_score_of_an_empty_file_is_an_error(cli: typer.Typer, tmp_path: Path) -> None:
    empty = tmp_path / "rows.jsonl"
    empty.write_text("\n")
    code, out = _invoke(cli, "score", str(empty), "--json")
    assert code == 2, out
    assert "holds no rows" in out


def test_probes_lists_taxonomy_names_beside_the_ids(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["redteam", "probes", "harmful"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "LLM01:2025 Prompt Injection" in result.output
    assert "AML.T0048 External Harms" in result.output


def test_list_and_bad_settings(cli: typer.Typer) -> None:
    code, out = _invoke(cli, "list", "converters")
    assert code == 0
    assert "unicode_tags" in out
    code, out = _invoke(cli, "list", "strategies")
    said = " ".join(out.split())
    assert "-T key=value" not in said.split("set with:")[0], "a strategy takes no -T"
    assert "strategy_options: {pair: {streams: 5}}" in said
    code, out = _invoke(cli, "run", "--probes", "nope", "--quiet")
    assert code == 2
    assert "unknown probe 'nope'" in out
    code, out = _invoke(cli, "gate", "missing.jsonl", "--max-asr", "0.1")
    assert code == 2


def test_strategy_and_converter_options_can_be_given_on_the_command_line(
        cli: typer.Typer, tmp_path: Path) -> None:
    """Left by a black-box pass (issue 9): strategy and converter options could be set only
    in a campaign file (ca018cb)."""
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "-t", "vulnerable", "-T", "latency=0", "-p",
                        "system_prompt_extraction", "--limit", "2", "-c", "caesar", "-C",
                        "caesar.shift=5", "-S", "crescendo.backtracks=1", "-s", "crescendo",
                        "--log", str(log), "-q")
    assert code == 0, out
    config = json.loads(log.read_text("utf-8").splitlines()[0])["config"]
    assert config["converter_options"] == {"caesar": {"shift": 5}}
    assert config["strategy_options"] == {"crescendo": {"backtracks": 1}}
    code, out = _invoke(cli, "run", "-t", "vulnerable", "-p", "harmful", "-S", "pair.streams=5",
                        "-q")
    assert code == 2, out
    assert "strategy_options name 'pair'" in " ".join(out.split())
    code, out = _invoke(cli, "run", "-t", "vulnerable", "-p", "harmful", "-S", "streams=5", "-q")
    assert code == 2, out
    assert "must look like strategy.option=value (e.g. pair.streams=5)" in " ".join(out.split())


def test_run_help_lists_the_new_target_options(cli: typer.Typer) -> None:
    code, out = _invoke(cli, "run", "--help")
    assert code == 0
    for option in ("session_path", "extra_body", "context", "safety_tier", "--judge-url",
                   "--probe-option", "--repeats"):
        assert option in out, option


def test_list_shows_options_and_bad_options_are_named(cli: typer.Typer) -> None:
    code, out = _invoke(cli, "list", "targets")
    assert code == 0, out
    assert "response_path" in out
    code, out = _invoke(cli, "run", "--target", "http", "-T", "url=http://x", "-T", "bdy=1",
                        "--probes", "harmful", "-q")
    assert code == 2
    assert "no option 'bdy'" in out


def test_an_option_value_that_is_text_with_a_colon_is_kept_as_typed(
        cli: typer.Typer, tmp_path: Path) -> None:
    # 'You are ShopBot: answer...' is no YAML scalar: a yaml ScannerError traceback; and
    # 'Rules: 1' for a 'str | None' option was read as a mapping and refused.
    prompt = "You are ShopBot: answer questions. Rules: none"
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "-t", "vulnerable", "-T", "latency=0", "-T",
                        f"system_prompt={prompt}", "-p", "system_prompt_extraction",
                        "--log", str(log), "-q")
    assert code == 0, out
    header = json.loads(log.read_text().splitlines()[0])
    assert header["config"]["target_options"]["system_prompt"] == prompt
    code, out = _invoke(cli, "run", "-t", "http", "-T", "url=http://127.0.0.1:9/x", "-T",
                        "system_prompt=Rules: 1", "-p", "harmful", "--limit", "1",
                        "--retries", "0", "-q")
    assert code == 3, out  # the option was taken; the target (port 9) was not there
    code, out = _invoke(cli, "probes", "purpose", "-P", "purpose.purpose=bot: a {")
    assert code == 0, out
    code, out = _invoke(cli, "run", "-T", "latency=[1, 2", "-p", "pii_leak", "-q")
    assert code == 2, out
    assert "target option 'latency': '[1, 2' is not YAML" in " ".join(out.split())
    assert "Traceback" not in out


def test_rerun_points_at_a_new_target(cli: typer.Typer, tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "--target", "vulnerable", "--probes",
                        "system_prompt_extraction", "--log", str(log), "-q", "--json")
    assert code == 0, out
    code, out = _invoke(cli, "rerun", str(log), "--target", "callable", "-T",
                        "func=builtins:str", "--log", str(tmp_path / "again.jsonl"), "--json")
    assert code == 3, out  # nothing judged (below): a rerun that measured nothing says so
    again = json.loads(out[out.index("{"):])
    assert again["overall"]["successes"] == 0, "str() has no secrets to leak"
    # ... so the leak scorer cannot decide: the 6 attempts count apart, as unjudged.
    assert (again["overall"]["n"], again["overall"]["errors"]) == (0, 6)


def test_a_run_whose_every_reply_was_empty_says_so(cli: typer.Typer, server: Server) -> None:
    """Found in a black-box pass (issue 9): a response_path naming a field the server leaves
    empty made every attack read as refused, and the run said nothing. Since the HTTP target
    reads empty text there as no reply (targets/_reply.py), each attempt is an error that
    says so, and a run that judged nothing exits 3."""
    server.answer = lambda body: ""
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-p", "harmful",
                        "--limit", "3", "-q")
    said = " ".join(out.split())
    assert code == 3, out
    assert "3 of 3 attempts errored" in said
    assert "holds \"\" at option 'response_path' 'response'" in said
    server.answer = lambda body: "I can't help with that."
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-p", "harmful",
                        "--limit", "3", "-q")
    assert code == 0, out
    assert "every reply was empty" not in " ".join(out.split())


def test_generations_per_prompt_with_best_of_n(cli: typer.Typer) -> None:
    code, out = _invoke(cli, "run", "--target", "vulnerable", "--probes",
                        "system_prompt_extraction", "-c", "best_of_n", "-n", "3", "--json")
    assert code == 0, out
    assert json.loads(out[out.index("{"):])["overall"]["n"] == 18


def test_a_json_body_template_given_with_dash_t_sends_the_whole_conversation(
        cli: typer.Typer, server: Server) -> None:
    # The README's own example: YAML used to read the template as a mapping, and the target
    # then said the body had no slot.
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}",
                        "-T", 'body={"history": {messages}, "user": 42}',
                        "-T", "response_path=data.answer", "-p", "harmful", "--limit", "2",
                        "-s", "crescendo", "-q", "--json")
    assert code == 0, out
    bodies = server.bodies()
    assert {body["user"] for body in bodies} == {42}
    assert max(len(body["history"]) for body in bodies) >= 3, "crescendo sent one turn only"


def test_an_unquoted_body_template_in_a_campaign_file_is_named(
        cli: typer.Typer, server: Server, tmp_path: Path) -> None:
    config = tmp_path / "campaign.yaml"
    config.write_text(f'target: http\ntarget_options:\n  url: {server.url}\n'
                      '  body: {"q": "{prompt}"}\nprobes: [harmful]\n')
    code, out = _invoke(cli, "run", "--config", str(config), "-q")
    assert code == 2, out
    assert "option 'body' takes text" in out
    assert "Traceback" not in out


def test_indirect_injection_through_an_http_target_goes_where_the_body_says(
        cli: typer.Typer, server: Server) -> None:
    # With a body of {prompt} only, the planted document was pasted into the prompt, silently.
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-p",
                        "injection_indirect", "-q")
    said = " ".join(out.split())
    assert code == 2, out
    assert "probes ['injection_indirect'] plant context" in said
    assert "-T context=inline" in said
    assert server.requests == [], "refused before any attack"
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-T",
                        'body={"q": "{prompt}", "docs": "{context}"}', "-p",
                        "injection_indirect", "-q", "--json")
    assert code == 0, out
    # attempts run side by side, so the document case's request may arrive at any place
    bodies = server.bodies()
    document = [b for b in bodies if b["docs"].startswith("[retrieve_document]\n")]
    assert document, [b["docs"][:30] for b in bodies]
    assert all("code word" in b["docs"] for b in document)
    for body in bodies:
        assert body["docs"] not in body["q"], "the document went in its own slot"


def test_leak_probes_against_an_http_target_are_judged_by_what_it_was_given(
        cli: typer.Typer, server: Server) -> None:
    # A plain HTTP target declared no secret: every leak attempt ended "undecided".
    system = "You are HelpBot of Example Bank. Answer questions about accounts only."
    server.answer = lambda body: f"My instructions: {body.get('system', '')}"
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-T",
                        'body={"system": "{system}", "q": "{prompt}"}', "-T",
                        f"system_prompt={system}", "-p", "system_prompt_extraction",
                        "-q", "--json")
    assert code == 0, out
    overall = json.loads(out[out.index("{"):])["overall"]
    assert (overall["n"], overall["successes"], overall["errors"]) == (6, 6, 0)
    assert "Internal reference code: BSTN-" in server.bodies()[0]["system"], "a canary planted"
    # A token the team planted in the application itself (a customer record) also counts.
    server.answer = lambda body: "The customer on file is jane@example.com, ref BSTN-51DE07."
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-T",
                        "canaries=[BSTN-51DE07]", "-p", "pii_leak", "-q", "--json")
    assert code == 0, out
    overall = json.loads(out[out.index("{"):])["overall"]
    assert (overall["n"], overall["successes"]) == (5, 5)
    # Given nothing, the attempts stay unjudged, and the run says how to fix that.
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-p", "pii_leak",
                        "-q")
    said = " ".join(out.split())
    assert code == 3, out  # measured nothing
    assert "5 of 5 attempts could not be judged" in said
    assert "option 'system_prompt'" in said


def test_credentials_reach_the_target_but_never_the_log_or_reports(
        cli: typer.Typer, server: Server, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_TOKEN", "sk-from-env-5678")
    log, reports = tmp_path / "run.jsonl", tmp_path / "reports"
    headers = ('headers={"Authorization": "Bearer sk-literal-1234", "X-Api-Key": "${QA_TOKEN}", '
               '"X-Tenant": "t-1"}')
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}?api_key=qk-9999&v=2",
                        "-T", headers, "-p", "harmful", "--limit", "2", "--log", str(log),
                        "-o", str(reports), "-q")
    assert code == 0, out
    sent = server.requests[0]["headers"]
    assert sent["Authorization"] == "Bearer sk-literal-1234"
    assert sent["X-Api-Key"] == "sk-from-env-5678"
    written = [log, *sorted(reports.iterdir())]
    assert len(written) == 6
    for path in written:
        text = path.read_text("utf-8")
        for secret in ("sk-literal-1234", "qk-9999", "sk-from-env-5678"):
            assert secret not in text, f"{secret} leaked into {path.name}"
    header = json.loads(log.read_text("utf-8").splitlines()[0])
    assert header["config"]["target_options"]["headers"]["X-Tenant"] == "t-1"
    # A rerun cannot send the redacted value: it asks for it, and resumes with it given.
    code, out = _invoke(cli, "rerun", str(log), "-q")
    assert code == 2
    assert "'headers.Authorization' only as '[redacted]'" in " ".join(out.split())
    code, out = _invoke(cli, "rerun", str(log), "-q", "-T", headers.replace("literal", "new"),
                        "-T", f"url={server.url}")
    assert code == 0, out
    assert server.requests[-1]["headers"]["Authorization"] == "Bearer sk-new-1234"


def test_a_password_in_the_url_and_an_authorization_header_are_a_conflict(
        cli: typer.Typer, server: Server, tmp_path: Path) -> None:
    # httpx sent the URL's user:password as Basic auth in place of the configured header,
    # silently: the bot saw credentials nobody meant to send.
    url = server.url.replace("http://", "http://bot:pw-secret-1@")
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={url}", "-T",
                        'headers={"Authorization": "Bearer tok-2"}', "-p", "harmful",
                        "--limit", "1", "-q")
    said = " ".join(out.split())
    assert code == 2, out
    assert "'Authorization' header of option 'headers'" in said
    assert "bot:[redacted]@127.0.0.1" in said
    assert "pw-secret-1" not in said
    assert server.requests == [], "nothing is sent before the conflict is settled"
    # The URL's credentials alone are a choice: sent, and kept out of the log.
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={url}", "-p", "harmful",
                        "--limit", "1", "--log", str(log), "-q")
    assert code == 0, out
    assert server.requests[0]["headers"]["Authorization"].startswith("Basic ")
    assert "pw-secret-1" not in log.read_text("utf-8") + out


def test_a_classifier_key_is_neither_logged_nor_replayed_as_redacted(
        cli: typer.Typer, tmp_path: Path) -> None:
    config, log = tmp_path / "campaign.yaml", tmp_path / "run.jsonl"
    config.write_text("target: vulnerable\ntarget_options: {latency: 0}\n"
                      "probes: [system_prompt_extraction]\nharm_options: {api_key: sk-clf-77}\n")
    code, out = _invoke(cli, "run", "--config", str(config), "--log", str(log), "-q")
    assert code == 0, out
    assert "sk-clf-77" not in log.read_text("utf-8")
    code, out = _invoke(cli, "rerun", str(log), "-q")
    assert code == 2
    assert "harm classifier option 'api_key' only as '[redacted]'" in " ".join(out.split())


def test_run_says_when_attempts_errored_and_why(cli: typer.Typer) -> None:
    """A run whose every attempt errored exits 3 (found in a black-box pass, issue 9: it
    exited 0, so a script checking the status read a target that was down as a pass)."""
    code, out = _invoke(cli, "run", "-t", "http", "-T", "url=http://127.0.0.1:9/chat", "-p",
                        "harmful", "--limit", "2", "--retries", "0", "-q")
    assert code == 3, out
    said = " ".join(out.split())
    assert "2 of 2 attempts errored (first: cannot reach http://127.0.0.1:9/chat" in said
    assert "fail the gate" in said
    assert "no attempt was judged: the run measured nothing" in said
    code, out = _invoke(cli, "run", "-t", "http", "-T", "url=http://127.0.0.1:9/chat", "-p",
                        "harmful", "--limit", "2", "--retries", "0", "-q", "--json")
    assert code == 3, out


def test_a_run_with_some_attempts_judged_exits_0_and_its_rerun_follows_the_same_rule(
        cli: typer.Typer, tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "-t", "vulnerable", "-T", "latency=0", "-p",
                        "system_prompt_extraction", "--limit", "2", "--log", str(log), "-q")
    assert code == 0, out
    assert "no attempt was judged" not in out
    code, out = _invoke(cli, "rerun", str(log), "-t", "http", "-T",
                        "url=http://127.0.0.1:9/chat", "-q")
    assert code == 3, out
    assert "no attempt was judged" in " ".join(out.split())


def test_hostile_text_in_cases_and_logs_never_reaches_the_terminal_raw(
        cli: typer.Typer, tmp_path: Path) -> None:
    # A cases file may come from threat reports (co-pilot digest), a log from anyone.
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([{
        "id": "x/1", "probe": "cases_file", "prompt": "p", "category": "\x1b]0;owned\x07cat",
        "owasp": ["[reverse]LLM01[/reverse]"], "atlas": ["AML.T0054"], "goal": "g",
        "technique": "\x1b[2Jtech", "scorers": ["refusal"]}]))
    code, out = _invoke(cli, "probes", "cases_file", "-P", f"cases_file.path={cases}")
    assert code == 0, out
    assert "\x1b" not in out
    assert "[rev" in out, "Rich markup in a case was applied, not shown"
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "-t", "vulnerable", "-T", "latency=0", "-p", "cases_file",
                        "-P", f"cases_file.path={cases}", "--log", str(log), "-q", "--json")
    assert code == 0, out
    log.write_text(log.read_text().replace('"strategy": "single"',
                                           '"strategy": "\\u001b[2J[reverse]single"'))
    code, out = _invoke(cli, "compare", str(log), str(log))
    assert code == 0, out
    assert "\x1b" not in out


@pytest.mark.parametrize(("target", "option", "shown"), [
    ("http", "url=http://bot:pw-4321@127.0.0.1:9/chat?api_key=qk-9999",
     "cannot reach http://bot:[redacted]@127.0.0.1:9/chat?api_key=[redacted]"),
    ("openai", "base_url=http://bot:pw-4321@127.0.0.1:9/v1?key=qk-9999",
     "cannot reach target http://bot:[redacted]@127.0.0.1:9/v1?key=[redacted]"),
])
def test_target_errors_do_not_carry_the_endpoints_credentials(
        cli: typer.Typer, tmp_path: Path, target: str, option: str, shown: str) -> None:
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "-t", target, "-T", option, "-p", "harmful", "--limit",
                        "1", "--retries", "0", "--log", str(log), "-q")
    assert code == 3, out  # the one attempt errored
    assert json.loads(log.read_text().splitlines()[1])["attempt"]["error"].startswith(shown)
    for secret in ("pw-4321", "qk-9999"):
        assert secret not in out
        assert secret not in log.read_text()


def test_rerun_refuses_an_attacker_url_whose_credentials_were_redacted(
        cli: typer.Typer, tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "-t", "vulnerable", "-T", "latency=0", "-p",
                        "system_prompt_extraction", "--limit", "1", "--attacker-url",
                        "http://a:pw-1@127.0.0.1:9/v1", "--log", str(log), "-q", "--json")
    assert code == 0, out
    code, out = _invoke(cli, "rerun", str(log), "-q")
    assert code == 2, out
    assert "'attacker_url' with its credentials '[redacted]'" in " ".join(out.split())


def test_rerun_into_its_own_log_is_refused_not_a_silent_replay(
        cli: typer.Typer, tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    code, out = _invoke(cli, "run", "-t", "vulnerable", "-T", "latency=0", "-p",
                        "system_prompt_extraction", "--log", str(log), "-q", "--json")
    assert code == 0, out
    code, out = _invoke(cli, "rerun", str(log), "--failed", "--log", str(log), "-q")
    assert code == 2, "the old results were reported as a fresh rerun"
    assert "is the log being re-run" in " ".join(out.split())


def test_bad_report_formats_are_refused_before_any_attack(
        cli: typer.Typer, server: Server, tmp_path: Path) -> None:
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-p", "harmful",
                        "-o", str(tmp_path), "-f", "md,pdf", "-q")
    assert code == 2
    assert "unknown report formats ['pdf']" in out
    assert server.requests == [], "the whole campaign ran before the format was checked"
    code, out = _invoke(cli, "run", "-t", "http", "-T", f"url={server.url}", "-p", "harmful",
                        "-f", "md", "-q")
    assert code == 2
    assert "without --report-dir" in " ".join(out.split())
    assert server.requests == []


def test_sigterm_stops_a_campaign_saying_where_the_finished_attempts_are(
        tmp_path: Path) -> None:
    """Found in a black-box pass (issue 9): a campaign ended with SIGTERM (``kill``, a CI job
    cancelled) died without a word; the log was intact, but nothing said so."""
    log = tmp_path / "run.jsonl"
    command = [sys.executable, "-m", "bastion.cli.main", "redteam", "run", "-t", "vulnerable",
               "-T", "latency=0.5", "-p", "system_prompt_extraction", "-j", "1", "--log",
               str(log), "-q"]
    running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
            not log.exists() or len(log.read_text("utf-8").splitlines()) < 2):
        time.sleep(0.1)  # the header and one finished attempt
    running.send_signal(signal.SIGTERM)
    _, err = running.communicate(timeout=60)
    said = " ".join(err.split())
    assert running.returncode == 143, err
    assert f"terminated; every finished attempt is in '{log}'" in said
    assert "Traceback" not in err
    kept = log.read_text("utf-8").splitlines()
    assert 2 <= len(kept) < 7, "the campaign was not stopped half way"
    assert all(json.loads(line) for line in kept)
    resumed = subprocess.run(command, capture_output=True, text=True, check=False,
                             timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert len(log.read_text("utf-8").splitlines()) == 7  # the header and the 6 attempts


def test_ctrl_c_says_where_the_finished_attempts_are(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bastion.cli import _redteam

    class Stopped:
        planned: tuple[object, ...] = ()

        async def run(self, *_args: object) -> list[object]:
            raise KeyboardInterrupt

    log = tmp_path / "run.jsonl"
    with pytest.raises(typer.Exit) as stopped:
        _redteam._execute(Stopped(), log, quiet=True)  # type: ignore[arg-type]
    assert stopped.value.exit_code == 130
    said = " ".join(capsys.readouterr().err.split())
    assert f"interrupted; every finished attempt is in '{log}'" in said
