"""Every ``policy lint`` error says how to fix it, and the README's broken example lints."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.test_policy import GOOD
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.policy import lint_policy

ROOT = Path(__file__).resolve().parents[1]
# Each message has one of these: an example line, or a clause that tells the author what to do.
FIX = ("e.g.", "; add", "; use", "; fix", "; define", "; move", "; check", "; give",
       "; start", "allowed keys", "Input should be", "must be", "such as", "codes must")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace('      PET-1: ["kick the puppy"]', '      - kick the puppy'),
         "categories.0.keywords: Input should be a valid dictionary; 'keywords' maps each "
         "rule id to the phrases that trigger it, e.g. 'keywords: {VIO-1:"),
        (lambda t: t.replace("    keywords:", "    patterns: '\\bkick\\b'\n    keywords:"),
         "'patterns' maps each rule id to RE2 patterns"),
        (lambda t: t.replace("    threshold: 0.6\n", ""),
         "missing required key 'categories.0.threshold'; 'threshold' is the score from which "
         "the category is violated, a number between 0 and 1, e.g. 'threshold: 0.5'"),
        (lambda t: t.replace("    action: block\n", ""),
         "'action' says what a violation does: one of block, flag, redact, allow"),
        (lambda t: t.replace("    threshold: 0.6", "    threshold: high"),
         "'threshold' is the score"),
        (lambda t: t.replace("    name: Animal cruelty\n", "    name: Animal cruelty\n"
                             "    severity: extreme\n"), "categories.0.severity: Input should"),
        (lambda t: t.replace("version: 2\n", "version: 2\ninclude: violence\n"),
         "'include' lists built-in policy ids or policy files, e.g. 'include: [violence]'"),
        (lambda t: t.replace("version: 2\n", "version: 2\nescalate: [0.3, 0.7]\n"),
         "'escalate' is the uncertainty band"),
        (lambda t: t.replace("categories:\n  - code: PET", "categories:\n  - PET\n  - code: PET"),
         "each entry of 'categories' is a mapping with code, name, action and threshold"),
        (lambda t: t.replace("- **PET-1** Asks", "- **DOG-1** Asks").replace(
            'violates PET-1', 'violates DOG-1').replace('PET-1: ["kick', 'DOG-1: ["kick'),
         "add a category with 'code: DOG' or change the rule id"),
        (lambda t: t.replace("### Violates\n", ""), "move it under one of them"),
        (lambda t: t.replace("## Examples", "## Samples"), "missing section '## Examples'; add it"),
        (lambda t: t.replace("    keywords:", "    values: {PET-1: [CARDS]}\n    keywords:"),
         "categories.0.values.PET-1.0: Input should be 'EMAIL', 'PHONE', 'CARD'"),
        (lambda t: t.replace("    keywords:", "    values: {PET-S1: [CARD]}\n    keywords:"),
         "values of 'PET' name rule 'PET-S1', which has no keywords or patterns to find the "
         "values with; add patterns for it"),
    ],
)
def test_each_error_says_how_to_fix_it(tmp_path: Path, change: object, expected: str) -> None:
    path = tmp_path / "p.md"
    path.write_text(change(GOOD), encoding="utf-8")  # type: ignore[operator]
    errors = [i.message for i in lint_policy(path) if i.severity == "error"]
    assert any(expected in m for m in errors), errors
    for message in errors:
        assert any(marker in message for marker in FIX), message


def test_the_readme_example_of_a_bad_policy_lints_with_fixes() -> None:
    result = CliRunner(env={"COLUMNS": "1000"}).invoke(
        app, ["policy", "lint", str(ROOT / "examples" / "bad-policy.md")])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(lines) == 7
    assert any("'keywords' maps each rule id" in line for line in lines)
    for line in lines:
        assert any(marker in line for marker in FIX), line
