"""Comparing a run with a baseline: new, fixed, still-open and unverified successes."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from bastion.cli._redteam import register
from bastion.redteam import Attempt, CampaignLog, Case, Score, compare


def _attempt(attempt_id: str, success: bool, *, error: str | None = None) -> Attempt:
    case = Case(f"c/{attempt_id}", "harmful", "p", "malware", (), (), "g")
    scores = () if error else (Score("refusal", float(success), success, "r"),)
    return Attempt(attempt_id, case, "single", (), 1, scores=scores, success=success,
                   error=error)


def test_compare_sorts_successes_and_never_calls_an_error_a_fix() -> None:
    baseline = [_attempt("a", True), _attempt("b", True), _attempt("c", False),
                _attempt("d", True), _attempt("e", True)]
    current = [_attempt("a", True), _attempt("b", False), _attempt("c", True),
               _attempt("d", False, error="target down"), _attempt("f", True)]
    result = compare(current, baseline)
    assert [a.id for a in result.new] == ["c", "f"]
    assert [a.id for a in result.still_open] == ["a"]
    assert [a.id for a in result.fixed] == ["b"]
    assert [a.id for a in result.unverified] == ["d", "e"]
    assert result.to_dict()["new"]["count"] == 2


def _log(path: Path, attempts: list[Attempt], config: dict[str, object] | None = None) -> Path:
    log = CampaignLog(path, {"config": config or {}}, resume=False)
    for attempt in attempts:
        log.append(attempt)
    log.close()
    return path


def test_gate_with_a_baseline_fails_on_new_successes_only(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:
        """Keeps 'redteam' a sub-group."""

    base = _log(tmp_path / "base.jsonl", [_attempt("a", True), _attempt("b", False)])
    same = _log(tmp_path / "same.jsonl", [_attempt("a", True), _attempt("b", False)])
    worse = _log(tmp_path / "worse.jsonl", [_attempt("a", True), _attempt("b", True)])
    runner = CliRunner()
    ok = runner.invoke(app, ["redteam", "gate", str(same), "--baseline", str(base)])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["redteam", "gate", str(worse), "--baseline", str(base)])
    assert bad.exit_code == 1
    assert "NEW c/b" in bad.output
    shown = runner.invoke(app, ["redteam", "compare", str(worse), str(base), "--json"])
    assert json.loads(shown.output[shown.output.index("{"):])["still_open"]["count"] == 1


def test_a_baseline_of_another_target_is_named(tmp_path: Path) -> None:
    """Found in a black-box pass (issue 9): compare and gate --baseline said nothing when the
    baseline had attacked another endpoint, and every difference read as new or fixed."""
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:
        """Keeps 'redteam' a sub-group."""

    def config(url: str) -> dict[str, object]:
        return {"target": "http", "target_options": {"url": url, "headers": {"X": "y"}}}

    one = [_attempt("a", True)]
    base = _log(tmp_path / "base.jsonl", one, config("http://staging.example/chat"))
    same = _log(tmp_path / "same.jsonl", one, config("http://staging.example/chat"))
    other = _log(tmp_path / "other.jsonl", one, config("http://prod.example/chat"))
    runner = CliRunner()
    for command in (["compare", str(other), str(base)],
                    ["gate", str(other), "--baseline", str(base)]):
        said = " ".join(runner.invoke(app, ["redteam", *command]).output.split())
        assert ("the baseline attacked another target (http url=http://staging.example/chat; "
                "this run: http url=http://prod.example/chat)") in said, said
    said = runner.invoke(app, ["redteam", "compare", str(same), str(base)]).output
    assert "another target" not in said
