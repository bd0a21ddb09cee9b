"""``bastion policy push|versions|diff|publish|compare`` as an operator uses them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bastion.cli.main import app

from .conftest import PETS, STRICTER

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["policy", *args])
    return result.exit_code, result.output


def test_push_publish_diff_and_compare(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/cli.db"
    first, second = tmp_path / "v1.md", tmp_path / "v2.md"
    first.write_text(PETS, encoding="utf-8")
    second.write_text(STRICTER, encoding="utf-8")
    code, out = run("push", str(first), "-m", "first cut", "--db", db)
    assert code == 0, out
    assert "saved pets v1 (draft, 0 warnings)" in out
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"text": "pull the cat's tail", "label": 1, "category": "PET"}),
                    encoding="utf-8")
    code, out = run("push", str(second), "--tests", str(rows), "--db", db)
    assert code == 0, out
    assert "attached 1 labelled rows to pets" in out
    code, out = run("publish", "pets", "1", "--reason", "baseline", "--by", "carol", "--db", db)
    assert (code, "published pets v1 (publish #1)" in out) == (0, True), out
    code, out = run("versions", "pets", "--json", "--db", db)
    listed = json.loads(out)
    assert [(v["number"], v["live"], v["state"]) for v in listed] == [
        (2, False, "draft"), (1, True, "published")]
    code, out = run("diff", "pets", "1", "--db", db)
    assert "+      PET-1: [\"kick the puppy\", \"pull the cat's tail\"]" in out
    code, out = run("compare", "pets", "--tier", "rules", "--json", "--db", db)
    assert code == 0, out
    result = json.loads(out)
    assert result["draft"]["version"] == 2
    assert result["published"]["version"] == 1
    assert result["draft"]["scores"]["PET"]["recall"] > result["published"]["scores"]["PET"][
        "recall"]


def test_push_with_lint_errors_lists_them_and_saves_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/cli.db"
    broken = tmp_path / "broken.md"
    broken.write_text(PETS.replace("    threshold: 0.5\n", ""), encoding="utf-8")
    code, out = run("push", str(broken), "--db", db)
    assert code == 1
    assert f"{broken}:6: error: missing required key 'categories.0.threshold'" in out
    assert "nothing saved" in out
    code, out = run("versions", "pets", "--db", db)
    assert code == 2
    assert "has no saved versions" in out


def test_publish_of_a_missing_version_says_which_exist(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/cli.db"
    path = tmp_path / "p.md"
    path.write_text(PETS, encoding="utf-8")
    run("push", str(path), "--db", db)
    code, out = run("publish", "pets", "4", "--reason", "x", "--db", db)
    assert code == 2
    assert "no version 4; it has versions 1 to 1" in out
