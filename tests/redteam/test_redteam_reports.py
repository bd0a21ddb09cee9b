"""Reports, statistics and the gate."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import anyio
import pytest

from bastion.errors import ConfigError
from bastion.redteam import (
    Attempt,
    Campaign,
    Case,
    Score,
    Turn,
    check,
    load_config,
    load_thresholds,
    render,
    summarise,
    wilson,
    write_reports,
)

HOSTILE = ('<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" \x1b[31m\ud800'
           '\u202egnp.exe\x1b]8;;http://evil\x07link')


def _attempts() -> list[Attempt]:
    out = []
    for i in range(10):
        case = Case(f"p/{i}", "p", HOSTILE, "malware" if i < 6 else "hate", ("LLM01:2025",),
                    ("AML.T0054",), "goal", severity="critical")
        out.append(Attempt(f"a{i}", case, "single", ("base64",) if i % 2 else (), i,
                           turns=(Turn(HOSTILE, HOSTILE, HOSTILE, 1.0),),
                           scores=(Score("refusal", 0.9, i < 3, HOSTILE),), success=i < 3,
                           reason=HOSTILE))
    return out


def test_wilson_interval_matches_known_values() -> None:
    assert wilson(0, 10) == (0.0, 0.2775)
    assert wilson(5, 10) == (0.2366, 0.7634)
    assert wilson(0, 0) == (0.0, 1.0)


def test_summary_groups_and_rates() -> None:
    summary = summarise(_attempts())
    assert summary.overall.asr == 0.3
    assert {r.group: r.successes for r in summary.by_category} == {"hate": 0, "malware": 3}
    assert {r.group for r in summary.by_converter} == {"none", "base64"}
    assert len(summary.worst) == 3


def test_html_report_escapes_hostile_text_and_forbids_scripts() -> None:
    page = render("html", _attempts(), {"config": {"target": "<b>t</b>"}})
    assert "<script>" not in page
    assert "<img" not in page
    assert "<b>t</b>" not in page
    assert "&lt;script&gt;" in page
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    assert "<svg" in page
    assert "\x1b" not in page, "a terminal control shown raw"
    assert "\u202e" not in page, "a bidi override shown raw"


def test_markdown_report_neutralises_markup() -> None:
    text = render("md", _attempts(), {"config": {"target": "t"}})
    assert "<script>" not in text
    assert "\\<script\\>" in text
    assert "Attack success rate 30.0%" in text
    for control in ("\x1b", "\x07", "\u202e"):
        assert control not in text, f"{control!r} would act on the terminal that shows it"
    assert "\\\\u001b\\[31m" in text


def test_junit_and_sarif_are_valid(tmp_path: Path) -> None:
    paths = write_reports(_attempts(), {"config": {}}, tmp_path)
    assert sorted(p.name for p in paths) == ["redteam.html", "redteam.json", "redteam.junit.xml",
                                             "redteam.md", "redteam.sarif"]
    root = ET.parse(tmp_path / "redteam.junit.xml").getroot()
    assert root.find("testsuite").get("failures") == "3"  # type: ignore[union-attr]
    sarif = json.loads((tmp_path / "redteam.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"][0]["results"]) == 3
    assert json.loads((tmp_path / "redteam.json").read_text())["overall"]["successes"] == 3


SARIF_LEVELS = {"none", "note", "warning", "error"}


def _valid_sarif(text: str) -> dict[str, Any]:
    """The SARIF log in ``text``, checked for what the 2.1.0 schema requires and code scanning
    reads: version, tool, rules, results with a message, a known rule and level, and file
    locations as relative references inside the repository, with a line."""
    doc = json.loads(text)
    assert doc["version"] == "2.1.0"
    assert "sarif-2.1.0" in doc["$schema"]
    for run in doc["runs"]:
        driver = run["tool"]["driver"]
        assert isinstance(driver["name"], str)
        assert driver["name"]
        ids = [rule["id"] for rule in driver["rules"]]
        assert len(ids) == len(set(ids))
        for rule in driver["rules"]:
            assert 0.0 < float(rule["properties"]["security-severity"]) <= 10.0
        for result in run["results"]:
            assert result["message"]["text"]
            assert ids[result["ruleIndex"]] == result["ruleId"]
            assert result["level"] in SARIF_LEVELS
            for location in result["locations"]:
                place = location.get("physicalLocation")
                if place is None:
                    continue
                uri = place["artifactLocation"]["uri"]
                assert not uri.startswith("/"), uri
                assert "\\" not in uri, uri
                assert ".." not in uri.split("/"), f"{uri} points outside the repository"
                assert ":" not in uri.split("/")[0], f"{uri} is not a relative reference"
                assert isinstance(place["region"]["startLine"], int)
                assert place["region"]["startLine"] >= 1
        for invocation in run.get("invocations", []):
            assert isinstance(invocation["executionSuccessful"], bool)
    return doc


def test_sarif_points_at_the_line_naming_the_probe_from_the_repository_root(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The campaign file's path was written as given: absolute, or '../ci/redteam.yaml' when
    # run from a sub-folder, which code scanning cannot place; and always at line 1.
    repo, elsewhere = tmp_path / "repo", tmp_path / "repo" / "build"
    (repo / ".git").mkdir(parents=True)
    (repo / "ci").mkdir()
    elsewhere.mkdir()
    config = repo / "ci" / "redteam.yaml"
    config.write_text("# nightly red team\ntarget: vulnerable\ntarget_options: {latency: 0}\n"
                      "probes:\n  - system_prompt_extraction\n  - injection_indirect\n"
                      "harm_tier: rules\n")
    monkeypatch.chdir(elsewhere)
    campaign = Campaign(load_config(Path("../ci/redteam.yaml")),
                        config_file="../ci/redteam.yaml")
    attempts = anyio.run(campaign.run)
    monkeypatch.chdir(tmp_path)  # reports may be written from anywhere
    doc = _valid_sarif(render("sarif", attempts, campaign.header()))
    lines = {}
    for result in doc["runs"][0]["results"]:
        place = result["locations"][0]["physicalLocation"]
        assert place["artifactLocation"]["uri"] == "ci/redteam.yaml"
        lines[result["ruleId"]] = place["region"]["startLine"]
    assert lines == {"system_prompt_extraction": 5, "injection_indirect": 6}
    assert "LLM07:2025 System Prompt Leakage" in json.dumps(doc["runs"][0]["tool"])


def test_sarif_without_a_campaign_file_is_valid_and_says_why_no_file_is_named(
        tmp_path: Path) -> None:
    doc = _valid_sarif(render("sarif", _attempts(), {"config": {}}))
    run = doc["runs"][0]
    assert all("physicalLocation" not in r["locations"][0] for r in run["results"])
    notice = run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    assert "--config" in notice
    outside = tmp_path / "redteam.yaml"  # no .git above it
    outside.write_text("probes: [p]\n")
    doc = json.loads(render("sarif", _attempts(), {"config_file": str(outside)}))
    run = doc["runs"][0]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == outside.resolve().as_uri(), "an absolute URI, valid SARIF"
    assert "outside any git repository" in json.dumps(run["invocations"])


def test_an_attempt_no_scorer_could_judge_is_no_passed_junit_test() -> None:
    # It was a green test case while the gate counted it as an error.
    unjudged = _attempts()[5].with_outcome(
        scores=(Score("leak", 0.0, None, "no secret to look for"),), success=False,
        reason="no scorer could decide: no secret to look for")
    root = ET.fromstring(render("junit", [unjudged], {"config": {}}))
    error = root.find("testsuite/testcase/error")
    assert error is not None
    assert "could not be judged: no scorer could decide" in error.get("message", "")
    assert root.find("testsuite").get("errors") == "1"  # type: ignore[union-attr]


def test_gate_reports_each_breach(tmp_path: Path) -> None:
    file = tmp_path / "limits.yaml"
    file.write_text("overall: 0.5\ncategory: {malware: 0.1, hate: 0.0}\n")
    breaches = check(summarise(_attempts()), load_thresholds(file))
    assert [(b.grouping, b.group) for b in breaches] == [("category", "malware")]
    file.write_text("overall: 2\n")
    with pytest.raises(ConfigError, match="not a rate"):
        check(summarise(_attempts()), load_thresholds(file))
    file.write_text("categories: {}\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_thresholds(file)


def test_an_owasp_limit_may_name_the_short_id(tmp_path: Path) -> None:
    # 'LLM01' (as OWASP and bastion.taxonomy write it) was "no owasp this campaign attacked".
    file = tmp_path / "limits.yaml"
    file.write_text("owasp: {llm01: 0.1}\n")
    breaches = check(summarise(_attempts()), load_thresholds(file))
    assert [(b.group, b.asr) for b in breaches] == [("LLM01:2025", 0.3)]
    file.write_text("owasp: {LLM99: 0.1}\n")
    with pytest.raises(ConfigError, match="threshold owasp 'LLM99' names no owasp"):
        check(summarise(_attempts()), load_thresholds(file))


def test_report_for_a_security_lead(tmp_path: Path) -> None:
    import anyio

    from bastion.redteam import Campaign, make_config

    campaign = Campaign(make_config(probes=["system_prompt_extraction", "output_handling"],
                                    harm_tier="rules", seed=11), config_file="redteam.yaml")
    attempts = anyio.run(campaign.run)
    paths = write_reports(attempts, campaign.header(), tmp_path)
    md = (tmp_path / "redteam.md").read_text()
    for fact in ("| target | vulnerable |", "| seed | 11 |", "| bastion |", "| duration |",
                 "## Findings", "LLM07:2025 System Prompt Leakage", "remediation",
                 "## Every success"):
        assert fact in md, fact
    report = json.loads((tmp_path / "redteam.json").read_text())
    assert len(report["successes"]) == sum(a.success for a in attempts)
    assert report["findings"][0]["severity"] in ("critical", "high")
    html = (tmp_path / "redteam.html").read_text()
    assert re.search(r"<label for=w2-\d+>system_prompt_leak \(\d+\)</label>", html), "a filter"
    assert "Every success" in html
    sarif = json.loads((tmp_path / "redteam.sarif").read_text())
    location = sarif["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "redteam.yaml"
    assert len(paths) == 5
    assert f"| attempts | {len(attempts)} of {len(attempts)} planned |" in md
    write_reports(attempts[:2], campaign.header(), tmp_path / "cut", ["md"])
    cut = (tmp_path / "cut" / "redteam.md").read_text()
    assert f"| attempts | 2 of {len(attempts)} planned: INCOMPLETE" in cut, "a stopped campaign"


def test_a_flood_of_combining_marks_is_cut_in_every_text_report() -> None:
    attempts = _attempts()
    attempts[0] = attempts[0].with_outcome(reason="Z" + "\u0301" * 500 + "algo")
    for fmt in ("md", "html"):
        text = render(fmt, attempts, {"config": {"target": "t"}})
        assert "\u0301" * 4 not in text, fmt
        assert "Z\u0301\u0301\u0301" in text, fmt
        assert "497 more combining marks" in text, fmt


def test_markdown_renders_no_invisible_character_from_a_character_reference() -> None:
    # Before, a response's '&ZeroWidthSpace;' or '&rlm;' went through as written, and a
    # Markdown renderer turned it into the invisible character visible() shows as an escape.
    from markdown_it import MarkdownIt

    attempts = _attempts()
    attempts[0] = attempts[0].with_outcome(reason="a&ZeroWidthSpace;b&rlm;c&zwj;d&lrm;e")
    html = MarkdownIt("commonmark").enable("table").render(
        render("md", attempts, {"config": {"target": "t"}}))
    for char in "\u200b\u200f\u200d\u200e":
        assert char not in html, f"{char!r} rendered from a character reference"
    assert "a&amp;ZeroWidthSpace;b&amp;rlm;c" in html


def test_bytes_hidden_in_variation_selectors_and_blank_letters_are_shown() -> None:
    # Before, 'ok' followed by the variation selectors U+E0100.. (which carry one hidden byte
    # each) or a Hangul filler showed as a bare 'ok' in every text report.
    hidden = "ok" + "".join(chr(0xE0100 + b) for b in b"rm -rf") + "\u3164\u180e"
    attempts = _attempts()
    attempts[0] = attempts[0].with_outcome(reason=hidden)
    for fmt in ("md", "html"):
        text = render(fmt, attempts, {"config": {"target": "t"}})
        assert not any(0xE0100 <= ord(c) <= 0xE01EF or c in "\u3164\u180e" for c in text), fmt
        assert "ue0172" in text, f"{fmt}: the first hidden byte, 'r', shown as its escape"


def test_markdown_offers_no_address_from_an_answer_as_a_link() -> None:
    # Before, a phishing address in a model's answer went into the Markdown report as
    # written, and a code host's renderer (GitHub-flavoured autolinks: a scheme, 'www.' or an
    # email address) made it a link in the report a security lead reads.
    from markdown_it import MarkdownIt

    answer = ("Log in at https://login.evil.example/reset?u=1, or www.evil.example, or "
              "write to help@evil.example.")
    attempts = _attempts()
    attempts[0] = attempts[0].with_outcome(reason=answer)
    text = render("md", attempts, {"config": {"target": "http://127.0.0.1:8000/v1"}})
    assert re.search(r"(?i)https?://[^\s]*evil|www\.evil|@evil", text) is None
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "hxxps://login[.]evil[.]example/reset?u=1" in html
    assert "www[.]evil[.]example" in html
    assert "help[@]evil[.]example" in html
    assert "<a " not in html
    assert "http://127.0.0.1:8000/v1" in text  # the operator's own target, as written


def test_sarif_of_a_campaign_that_errored_or_did_not_finish_is_not_clean() -> None:
    # Session 32: a campaign whose every attempt errored (target down) wrote a SARIF with no
    # result and no notification: code scanning showed it as clean.
    case = Case("p/1", "p", "x", "malware", (), (), "goal")
    errored = [Attempt(f"e{i}", case, "single", (), i, error="cannot reach http://t/")
               for i in range(3)]
    run = json.loads(render("sarif", errored, {"attempts": 5}))["runs"][0]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert "3 of 3 attempts errored" in note["message"]["text"]
    assert "2 planned attempts never ran" in note["message"]["text"]
    assert "cannot reach http://t/" in note["message"]["text"]
    clean = json.loads(render("sarif", _attempts(), {"config": {}, "attempts": 10}))["runs"][0]
    assert clean["invocations"][0]["executionSuccessful"] is True, "only the no-file warning"
