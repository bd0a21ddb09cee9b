"""The gate fails closed: errors, missing evidence and typos never let a campaign pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bastion.cli._redteam import register
from bastion.errors import ConfigError
from bastion.redteam import Attempt, Case, Score, check, load_thresholds, summarise


def _attempt(n: int, *, error: str | None = None, success: bool = False,
             category: str = "malware") -> Attempt:
    case = Case(f"c/{n}", "harmful", "p", category, (), (), "g")
    scores = () if error else (Score("refusal", 0.0, success, "r"),)
    return Attempt(f"a{n}", case, "single", (), n, scores=scores, success=success, error=error)


def test_errors_above_the_limit_fail_even_at_zero_asr() -> None:
    attempts = [_attempt(1), _attempt(2, error="target down")]
    breaches = check(summarise(attempts), {"overall": 0.0}, attempts)
    assert [b.grouping for b in breaches] == ["errors"]
    assert "error rate 50.0%" in breaches[0].render()
    assert check(summarise(attempts), {"overall": 0.0, "max_error_rate": 0.5}, attempts) == []


def test_undecided_attempts_count_as_errors() -> None:
    undecided = Attempt("u", _attempt(3).case, "single", (), 3,
                        scores=(Score("leak", 0.0, None, "nothing to leak"),))
    breaches = check(summarise([undecided]), {"overall": 0.0}, [undecided])
    assert {b.grouping for b in breaches} == {"errors", "judged"}


def test_too_few_judged_attempts_fail() -> None:
    attempts = [_attempt(i) for i in range(3)]
    breaches = check(summarise(attempts), {"min_judged": 5}, attempts)
    assert [b.grouping for b in breaches] == ["judged"]
    assert "only 3 judged" in breaches[0].render()
    assert check(summarise([]), {}, []) != [], "an empty campaign never passes"


def test_unknown_keys_and_groups_are_errors(tmp_path: Path) -> None:
    file = tmp_path / "limits.yaml"
    attempts = [_attempt(1)]
    file.write_text("overall: 0.1\ncategory: {malwre: 0.0}\n")
    with pytest.raises(ConfigError, match="'malwre' names no category"):
        check(summarise(attempts), load_thresholds(file), attempts)
    file.write_text("max_errors: 0.1\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_thresholds(file)
    file.write_text("min_judged: 0.5\n")
    with pytest.raises(ConfigError, match="whole number"):
        check(summarise(attempts), load_thresholds(file), attempts)
    file.write_text("probe: [harmful]\n")
    with pytest.raises(ConfigError, match="must map"):
        load_thresholds(file)
    file.write_bytes(b"overall: 0.1 # \xff\n")  # not UTF-8: was a traceback
    with pytest.raises(ConfigError, match="cannot read threshold file"):
        load_thresholds(file)


@pytest.mark.parametrize(("written", "said"), [
    ("'5%'", "write a percentage as a fraction (5% is 0.05)"),
    ("'five%'", "(five% is a number such as 0.05)"),
    ("5", "for 5% write 0.05"),
])
def test_a_rate_written_as_a_percentage_says_how_to_write_it(
        tmp_path: Path, written: str, said: str) -> None:
    """Found in a black-box pass (issue 9): 'overall: 5%' was refused as no rate between 0
    and 1, without saying what to write instead."""
    file = tmp_path / "limits.yaml"
    file.write_text(f"overall: {written}\n")
    attempts = [_attempt(1)]
    with pytest.raises(ConfigError) as caught:
        check(summarise(attempts), load_thresholds(file), attempts)
    assert said in str(caught.value)


def test_gate_command_fails_when_the_target_was_down(tmp_path: Path) -> None:
    app = _gate_app()
    runner = CliRunner()
    log = tmp_path / "down.jsonl"
    result = runner.invoke(app, ["redteam", "run", "--target", "http", "-T",
                                 "url=http://127.0.0.1:9/chat", "--probes", "injection_direct",
                                 "--retries", "0", "--log", str(log), "-q", "--json"])
    assert log.exists(), result.output
    gate = runner.invoke(app, ["redteam", "gate", str(log), "--max-asr", "0.0"])
    assert gate.exit_code == 1, gate.output
    assert "error rate 100.0%" in gate.output
    lenient = runner.invoke(app, ["redteam", "gate", str(log), "--max-asr", "0.0",
                                  "--max-error-rate", "1.0"])
    assert lenient.exit_code == 1, "no judged attempt is still no pass"
    assert "judged attempts" in lenient.output


def _gate_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:
        """Keeps 'redteam' a sub-group."""

    return app


def test_errors_retried_on_resume_no_longer_count(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    header = {"type": "campaign", "version": 1, "attempts": 2}
    lines = [header, *({"type": "attempt", "attempt": a.to_dict()} for a in (
        _attempt(1, error="target down"), _attempt(2), _attempt(1)))]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    runner = CliRunner()
    gate = runner.invoke(_gate_app(), ["redteam", "gate", str(log), "--max-asr", "0.0"])
    assert gate.exit_code == 0, gate.output
    assert "gate passed: 2 attempts" in gate.output


def test_a_half_finished_campaign_does_not_pass(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    lines = [{"type": "campaign", "version": 1, "attempts": 10},
             {"type": "attempt", "attempt": _attempt(1).to_dict()}]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    runner = CliRunner()
    gate = runner.invoke(_gate_app(), ["redteam", "gate", str(log), "--max-asr", "1.0"])
    assert gate.exit_code == 1, gate.output
    assert "9 planned attempts are not in the log" in " ".join(gate.output.split())
    lenient = runner.invoke(_gate_app(), ["redteam", "gate", str(log), "--max-asr", "1.0",
                                          "--max-error-rate", "0.9"])
    assert lenient.exit_code == 0, lenient.output


def test_undecided_attempts_are_not_counted_as_judged(tmp_path: Path) -> None:
    # The judge model was down for one attempt: it is no evidence of a refusal, so it must
    # not lower the success rate or be reported as judged.
    down = Attempt("u", _attempt(3).case, "single", (), 3, reason="no scorer could decide: "
                   "judge failed: down", scores=(Score("judge", 0.0, None, "judge failed"),))
    attempts = [down, _attempt(1, success=True)]
    overall = summarise(attempts).overall
    assert (overall.n, overall.errors, overall.asr) == (1, 1, 1.0)
    log = tmp_path / "run.jsonl"
    lines = [{"type": "campaign", "version": 1, "attempts": 2},
             *({"type": "attempt", "attempt": a.to_dict()} for a in attempts)]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = CliRunner().invoke(_gate_app(), ["redteam", "report", str(log), "-o",
                                              str(tmp_path), "-f", "md"])
    assert report.exit_code == 0, report.output
    assert "1 of 2 attempts could not be judged (no scorer could decide: judge failed: down)" \
        in " ".join(report.output.split())
    assert "1 attempts judged, 1 errors" in (tmp_path / "redteam.md").read_text()
