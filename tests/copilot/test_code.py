"""Code-vulnerability help: real scanners, deduplicated and ranked findings, context,
explanations and patches."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bastion.copilot import Bandit, CodeReport, RawFinding, Semgrep, scan_code
from bastion.copilot._code import dedupe
from bastion.copilot._patches import patch
from bastion.errors import InputError

PAIRS = Path(__file__).resolve().parents[2] / "bench" / "data" / "code_pairs"
SEMGREP = os.environ.get("BASTION_SEMGREP") or shutil.which("semgrep")
needs_semgrep = pytest.mark.skipif(
    SEMGREP is None, reason="semgrep is not installed (it needs its own environment: set "
    "BASTION_SEMGREP to its executable); the Bandit tests still run")

APP = '''import subprocess

import requests
import yaml


def fetch(url):
    return requests.get(url, verify=False)


def load(path):
    with open(path) as handle:
        return yaml.load(handle, Loader=yaml.Loader)


def run(cmd):
    return subprocess.call(cmd, shell=True)
'''


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "app.py").write_text(APP)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("x = eval(input())\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "lib.py").write_text("import pickle\npickle.loads(b'')\n")
    return tmp_path


def test_bandit_scan_is_ranked_explained_and_patched(tmp_path: Path) -> None:
    report = scan_code(_repo(tmp_path), scanners=[Bandit()])
    assert report.scanners == ("bandit",)
    assert report.files == 2  # .venv skipped, tests/ scanned
    paths = {f.path for f in report.findings}
    assert paths == {"pkg/app.py", "tests/test_x.py"}
    scores = [f.score for f in report.findings]
    assert scores == sorted(scores, reverse=True)
    by_cwe = {f.cwe: f for f in report.findings}
    assert {78, 295, 502, 95} <= set(by_cwe)
    tls = by_cwe[295]
    assert tls.line == 8
    assert ">    8      return requests.get(url, verify=False)" in tls.context
    assert "Certificate validation disabled" in tls.explanation.text
    assert tls.patch is not None
    assert "+    return requests.get(url, verify=True)" in tls.patch
    yaml_fix = by_cwe[502].patch
    assert yaml_fix is not None
    assert "+        return yaml.safe_load(handle)" in yaml_fix
    assert by_cwe[78].patch is None  # no safe one-line rewrite: the advice says what to do
    assert "argument list" in by_cwe[78].explanation.text
    low = scan_code(tmp_path, scanners=[Bandit()], min_score=2.0)
    assert all(f.score >= 2.0 for f in low.findings)
    assert len(low.findings) < len(report.findings)


@needs_semgrep
def test_semgrep_runs_offline_with_local_rules_and_merges_with_bandit(tmp_path: Path) -> None:
    report = scan_code(_repo(tmp_path), scanners=[Bandit(), Semgrep(SEMGREP)])
    assert report.scanners == ("bandit", "semgrep")
    tls = next(f for f in report.findings if f.cwe == 295)
    assert tls.tools == ("bandit", "semgrep")  # one finding, both scanners
    assert tls.score > 3.0
    assert sum(1 for f in report.findings if f.cwe == 295) == 1


def test_missing_semgrep_is_skipped_with_a_reason(tmp_path: Path) -> None:
    report = scan_code(_repo(tmp_path), scanners=[Bandit(), Semgrep(str(tmp_path / "nope"))])
    assert report.scanners == ("bandit",)
    assert "BASTION_SEMGREP" in dict(report.skipped)["semgrep"]


def test_dedupe_merges_near_hits_on_one_weakness() -> None:
    a = RawFinding("bandit", "B501", 295, "high", "high", "x.py", 10, 10, "m")
    b = RawFinding("semgrep", "tls", 295, "high", "high", "x.py", 11, 11, "m")
    c = RawFinding("semgrep", "sql", 89, "high", "high", "x.py", 10, 10, "m")
    d = RawFinding("bandit", "B501", 295, "high", "high", "x.py", 30, 30, "m")
    assert sorted(len(g) for g in dedupe([a, b, c, d])) == [1, 1, 2]


def test_patches_are_only_offered_where_the_rewrite_is_safe() -> None:
    source = "import hashlib\n\nh = hashlib.md5(data).hexdigest()\n"
    diff = patch(source, "h.py", 3, 3, 328)
    assert diff is not None
    assert "+h = hashlib.sha256(data).hexdigest()" in diff
    assert patch(source, "h.py", 3, 3, 89) is None
    assert patch(source, "h.py", 1, 1, 328) is None  # the rewrite does not apply to line 1


def test_bad_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        scan_code(tmp_path / "missing")


def test_every_pair_has_both_files_and_the_split_covers_them() -> None:
    import json

    folders = sorted(p.name for p in PAIRS.iterdir() if p.is_dir())
    split = json.loads((PAIRS / "split.json").read_text())
    assert sorted(n for part in split.values() for n in part) == folders
    assert len(folders) >= 30
    assert len({f[:6] for f in folders}) >= 8
    for folder in folders:
        assert (PAIRS / folder / "vulnerable.py").is_file()
        assert (PAIRS / folder / "fixed.py").is_file()


def test_bandit_flags_more_vulnerable_than_fixed_pairs() -> None:
    report: CodeReport = scan_code(PAIRS, scanners=[Bandit()], min_score=1.4)
    flagged = {f.path.split("/")[0] + "/" + f.path.split("/")[1] for f in report.findings}
    vulnerable = sum(1 for f in flagged if f.endswith("vulnerable.py"))
    fixed = sum(1 for f in flagged if f.endswith("fixed.py"))
    assert vulnerable >= 3 * max(fixed, 1)  # the bench measures it; this guards the trend
