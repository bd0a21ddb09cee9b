"""``bastion eval``: metrics checked against numbers worked out by hand on a tiny labelled file.

The ``test-scripted`` tier scores texts by substring (the ``fixed`` test double), so every
score in ``tests/data/eval.jsonl`` is known:

    row  text has      score     label  category  verdict (TOX >= 0.5, SPM >= 0.7)
    e1   toad          TOX 0.9   1      TOX       violation   TP
    e2   pills         SPM 0.8   1      spam      violation   TP
    e3   meh           TOX 0.4   1      TOX       safe        FN
    e4   borderline    SPM 0.6   1      spam      safe        FN
    e5   toad          TOX 0.9   0      TOX       violation   FP
    e6   -             0         0      -         safe        TN
    e7   -             0         0      spam      safe        TN
    e8   meh           TOX 0.4   0      -         safe        TN
    e9   -             0         0      -         safe        TN
    e10  pills         SPM 0.8   0      spam      violation   FP

Precision 2/4, recall 2/4, FPR 2/6. Average precision, by distinct score from the top:
0.9 -> P 1/2 at R 1/4; 0.8 -> P 2/4 at R 2/4; 0.6 -> P 3/5 at R 3/4; 0.4 -> P 4/7 at R 1;
so AP = (0.5 + 0.5 + 0.6 + 4/7) / 4 = 0.5429.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bastion.classify import register
from bastion.classify._fixed import FixedClassifier
from bastion.cli.main import app

DATA = Path(__file__).parent / "data"
POLICY = str(DATA / "policy.md")
EVAL = str(DATA / "eval.jsonl")
runner = CliRunner(env={"COLUMNS": "1000"})  # no wrapping of long messages
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@register
class ScriptedTier(FixedClassifier):
    """Known scores for the eval fixture; a batch holding 'EXPLODE' fails like a dead backend."""

    name = "test-scripted"

    def __init__(self) -> None:
        super().__init__(scores={"toad": {"TOX": 0.9}, "pills": {"SPM": 0.8},
                                 "meh": {"TOX": 0.4}, "borderline": {"SPM": 0.6}},
                         fail_on="EXPLODE")


def evaluate(*args: str) -> Result:
    return runner.invoke(app, ["eval", "--policy", POLICY, *args])


def evaluate_json(*args: str) -> dict[str, Any]:
    result = evaluate(*args, "--json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_json_report_matches_hand_computed_metrics() -> None:
    report = evaluate_json(EVAL, "--tier", "test-scripted", "--batch-size", "3")
    assert report["n"] == 10
    assert report["positives"] == 4
    assert (report["precision"], report["recall"], report["f1"]) == (0.5, 0.5, 0.5)
    assert report["fpr"] == 0.3333
    assert report["auprc"] == 0.5429
    assert report["threshold"] == 0.5  # the policy's lowest category threshold
    assert report["threshold_source"] == "policy"
    assert report["category_thresholds"] == {"TOX": 0.5, "SPM": 0.7}
    assert report["confusion"] == {"tp": 2, "fp": 2, "fn": 2, "tn": 4}
    assert report["errors"] == 0
    assert report["tier"] == "test-scripted"
    assert report["policy"]["id"] == "scan-test"
    assert len(report["policy"]["hash"]) == 64


def test_sweep_thresholds_the_verdict_score() -> None:
    sweep = {row["threshold"]: row for row in evaluate_json(
        EVAL, "--tier", "test-scripted")["sweep"]}
    assert sorted(sweep) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    # >= 0.4: e1 e2 e3 e4 flagged and e5 e8 e10 too -> P 4/7, R 1, FPR 3/6
    assert (sweep[0.4]["precision"], sweep[0.4]["recall"], sweep[0.4]["fpr"]) == (
        0.5714, 1.0, 0.5)
    # >= 0.9: e1 and e5 -> P 1/2, R 1/4
    assert (sweep[0.9]["precision"], sweep[0.9]["recall"]) == (0.5, 0.25)


def test_threshold_option_replaces_the_policy_decision() -> None:
    report = evaluate_json(EVAL, "--tier", "test-scripted", "--threshold", "0.6")
    # score >= 0.6: e1 e2 e4 (unsafe), e5 e10 (safe)
    assert report["threshold"] == 0.6
    assert report["threshold_source"] == "option"
    assert report["confusion"] == {"tp": 3, "fp": 2, "fn": 1, "tn": 4}
    assert (report["precision"], report["recall"], report["f1"]) == (0.6, 0.75, 0.6667)


def test_per_category_figures() -> None:
    report = evaluate_json(EVAL, "--tier", "test-scripted")
    codes = {c["code"]: c for c in report["per_category"]}
    # TOX violated on e1 (unsafe) and e5 (safe); rows named TOX: e1 e3 e5, unsafe e1 e3.
    assert codes["TOX"] == {"code": "TOX", "name": "Toxicity", "threshold": 0.5,
                            "predicted": 2, "precision": 0.5, "rows": 3, "positives": 2,
                            "recall": 0.5}
    # 'spam' maps to SPM by the category's name; rows e2 e4 e7 e10, unsafe e2 e4.
    assert codes["SPM"]["rows"] == 4
    assert (codes["SPM"]["predicted"], codes["SPM"]["recall"]) == (2, 0.5)
    sources = {s["category"]: s for s in report["per_source_category"]}
    assert sources["spam"] == {"category": "spam", "code": "SPM", "n": 4, "positives": 2,
                               "recall": 0.5, "fpr": 0.5, "errors": 0}
    assert sources["TOX"]["fpr"] == 1.0  # its only safe row, e5, was flagged


def test_errors_count_as_unsafe_predictions(tmp_path: Path) -> None:
    path = tmp_path / "errors.jsonl"
    rows = [("toad", 1), ("EXPLODE now", 0), ("EXPLODE again", 1), ("calm", 0)]
    path.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows),
                    encoding="utf-8")
    report = evaluate_json(str(path), "--tier", "test-scripted", "--batch-size", "1")
    assert report["errors"] == 2
    assert report["confusion"] == {"tp": 2, "fp": 1, "fn": 0, "tn": 1}
    text = evaluate(str(path), "--tier", "test-scripted", "--batch-size", "1")
    assert "counted as unsafe" in text.stdout


@pytest.mark.parametrize(("row", "message"), [
    ({"text": "a", "label": "maybe"}, "row 1 (line 1): label 'maybe' is not one of"),
    ({"text": "a", "label": 2}, "label 2 is not one of"),
    ({"text": "a", "y": 1}, "no field 'label'; fields present: ['text', 'y']"),
])
def test_bad_labels_exit_2(tmp_path: Path, row: dict[str, Any], message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    result = evaluate(str(path), "--tier", "rules")
    assert result.exit_code == 2
    assert message in result.stderr


def test_label_field_option(tmp_path: Path) -> None:
    path = tmp_path / "y.jsonl"
    path.write_text('{"body": "Buy cheap pills today", "y": 1}\n{"body": "hi", "y": 0}\n',
                    encoding="utf-8")
    report = evaluate_json(str(path), "--tier", "rules", "--text-field", "body",
                           "--label-field", "y")
    assert (report["precision"], report["recall"], report["auprc"]) == (1.0, 1.0, 1.0)


def test_table_shows_metrics_and_escapes_hostile_categories(tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    hostile = "\x1b[31mred [bold]loud[/bold] \u202eevil"
    path.write_text(json.dumps({"text": "toad", "label": 1, "category": hostile}) + "\n"
                    + json.dumps({"text": "calm", "label": 0, "category": "spam"}) + "\n",
                    encoding="utf-8")
    result = evaluate(str(path), "--tier", "test-scripted")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert "\u202e" not in result.stdout
    assert "[bold]loud[/bold]" in result.stdout
    assert "\\u001b[31mred" in result.stdout
    assert "\\u202eevil" in result.stdout
    for word in ("precision", "recall", "auprc", "threshold sweep", "per policy category"):
        assert word in result.stdout


def test_plot_writes_a_png(tmp_path: Path) -> None:
    image = tmp_path / "pr.png"
    result = evaluate(EVAL, "--tier", "test-scripted", "--plot", str(image))
    assert result.exit_code == 0, result.output
    assert image.read_bytes().startswith(PNG_SIGNATURE)
    assert image.stat().st_size > 5000


def test_plot_without_matplotlib_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    result = evaluate(EVAL, "--tier", "test-scripted", "--plot", str(tmp_path / "pr.png"))
    assert result.exit_code == 2
    assert "pip install 'bastion-ai[plot]'" in result.stderr
    assert not (tmp_path / "pr.png").exists()


def test_bastion_eval_in_a_real_process(tmp_path: Path) -> None:
    beside = Path(sys.executable).with_name("bastion")
    executable = str(beside) if beside.exists() else shutil.which("bastion")
    assert executable, "the 'bastion' console script is not installed; run pip install -e ."
    image = tmp_path / "pr.png"
    done = subprocess.run(
        [executable, "eval", EVAL, "--policy", POLICY, "--tier", "rules", "--json",
         "--plot", str(image)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "1000"},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # rules match e1 (TOX-1) and e2 (SPM-1) only, both unsafe, at score 0.99:
    # P 1, R 2/4; AP = 0.5 * 1 + 0.5 * 4/10 = 0.7
    assert (report["precision"], report["recall"], report["auprc"]) == (1.0, 0.5, 0.7)
    assert report["tier"] == "rules"
    assert image.read_bytes().startswith(PNG_SIGNATURE)
