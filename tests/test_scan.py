"""``bastion scan`` and the row readers: formats, resumable output, errors a user can act on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from bastion.classify import Verdict, register
from bastion.classify._fixed import FixedClassifier
from bastion.classify._rules import RulesClassifier
from bastion.cli.main import app
from bastion.evaluation import read_batches, write_rows
from bastion.evaluation._data import drop_partial_line
from bastion.policy import Policy

DATA = Path(__file__).parent / "data"
POLICY = str(DATA / "policy.md")
SCAN = DATA / "scan.jsonl"
IDS = [f"s{i}" for i in range(1, 12)]
runner = CliRunner(env={"COLUMNS": "1000"})  # no wrapping of long messages


@register
class InterruptingTier(RulesClassifier):
    """The rules tier, but Ctrl-C arrives once, after ``batches_left`` batches."""

    name = "test-interrupting"
    batches_left: ClassVar[int | None] = None

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        cls = type(self)
        if cls.batches_left is not None:
            if cls.batches_left == 0:
                cls.batches_left = None
                raise KeyboardInterrupt
            cls.batches_left -= 1
        return super()._classify(texts, policy)


@register
class FailingTier(FixedClassifier):
    """A backend that fails on every batch holding the word 'toad'."""

    name = "test-failing"

    def __init__(self) -> None:
        super().__init__(fail_on="toad")


def scan(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, ["scan", "--policy", POLICY, *args], input=input)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run_bastion(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "1000"}
    return subprocess.run([bastion_executable(), *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env)


def bastion_executable() -> str:
    beside = Path(sys.executable).with_name("bastion")
    found = str(beside) if beside.exists() else shutil.which("bastion")
    assert found, "the 'bastion' console script is not installed; run pip install -e ."
    return found


def test_scan_writes_one_verdict_row_per_input_row(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = scan(str(SCAN), "-o", str(out), "--tier", "rules", "--batch-size", "4")
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == IDS
    assert [r["row"] for r in rows] == list(range(1, 12))
    by_id = {r["id"]: r for r in rows}
    assert by_id["s2"]["categories"] == ["TOX"]
    assert by_id["s2"]["action"] == "block"
    assert by_id["s3"]["categories"] == ["SPM"]
    assert by_id["s3"]["rule_ids"] == ["SPM-1"]
    assert sorted(by_id["s6"]["categories"]) == ["SPM", "TOX"]
    assert by_id["s4"]["kind"] == "safe"
    assert by_id["s4"]["score"] == 0.0
    assert {(r["policy_id"], r["policy_version"], r["tier"]) for r in rows} == {
        ("scan-test", "1", "rules")}
    assert len(rows[0]["policy_hash"]) == 64
    assert "text" not in rows[0]
    assert "rows classified" in result.stderr
    assert "11" in result.stderr
    assert "TOX" in result.stderr
    assert "errors" in result.stderr


def test_keep_text_and_stdin_to_stdout() -> None:
    lines = SCAN.read_text(encoding="utf-8")
    result = scan("-", "--tier", "rules", "--keep-text", "--quiet", input=lines)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == IDS
    assert rows[1]["text"] == "Step aside, you absolute toad."
    assert result.stderr == ""


def test_resume_after_interruption_gives_exactly_one_row_per_input(tmp_path: Path) -> None:
    clean, out = tmp_path / "clean.jsonl", tmp_path / "out.jsonl"
    assert scan(str(SCAN), "-o", str(clean), "--tier", "test-interrupting").exit_code == 0
    InterruptingTier.batches_left = 2
    first = scan(str(SCAN), "-o", str(out), "--tier", "test-interrupting", "--batch-size", "2")
    assert first.exit_code == 130
    assert "--resume" in first.stderr
    assert [r["id"] for r in read_jsonl(out)] == IDS[:4]
    with out.open("a", encoding="utf-8") as torn:  # killed in the middle of a write
        torn.write('{"row": 5, "id": "s5", "ki')
    second = scan(str(SCAN), "-o", str(out), "--tier", "test-interrupting", "--batch-size", "3",
                  "--resume")
    assert second.exit_code == 0, second.output
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == IDS
    assert rows == read_jsonl(clean)
    assert "already in the output" in second.stderr


@pytest.mark.parametrize(("content", "kept"), [
    (b'{"a": 1}\n{"a": 2}\n', b'{"a": 1}\n{"a": 2}\n'),
    (b'{"a": 1}\n{"a": 2}\n{"a"', b'{"a": 1}\n{"a": 2}\n'),
    (b'{"a": 1', b""),
    (b"", b""),
])
def test_drop_partial_line_cuts_only_a_torn_last_line(
    tmp_path: Path, content: bytes, kept: bytes
) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(content)
    assert drop_partial_line(path) == len(content) - len(kept)
    assert path.read_bytes() == kept


def test_resume_of_a_finished_scan_adds_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert scan(str(SCAN), "-o", str(out), "--tier", "rules").exit_code == 0
    before = out.read_bytes()
    again = scan(str(SCAN), "-o", str(out), "--tier", "rules", "--resume")
    assert again.exit_code == 0, again.output
    assert out.read_bytes() == before


def test_parquet_output_is_staged_and_resumable(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    InterruptingTier.batches_left = 1
    first = scan(str(SCAN), "-o", str(out), "--tier", "test-interrupting", "--batch-size", "5")
    assert first.exit_code == 130
    staging = tmp_path / "out.parquet.partial.jsonl"
    assert not out.exists()
    assert len(read_jsonl(staging)) == 5
    second = scan(str(SCAN), "-o", str(out), "--tier", "test-interrupting", "--resume")
    assert second.exit_code == 0, second.output
    assert not staging.exists()
    table = pq.read_table(out).to_pylist()
    assert [r["id"] for r in table] == IDS
    assert sorted(table[5]["categories"]) == ["SPM", "TOX"]


def test_resume_refuses_an_output_of_another_input(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert scan(str(SCAN), "-o", str(out), "--tier", "rules").exit_code == 0
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps({"id": f"x{i}", "text": "hi"}) + "\n"
                             for i in range(20)), encoding="utf-8")
    result = scan(str(other), "-o", str(out), "--tier", "rules", "--resume")
    assert result.exit_code == 2
    assert "cannot resume" in result.stderr
    assert "'s11'" in result.stderr
    assert "'x10'" in result.stderr
    assert len(read_jsonl(out)) == 11


def test_resume_of_a_finished_parquet_output_keeps_it(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    assert scan(str(SCAN), "-o", str(out), "--tier", "rules").exit_code == 0
    before = out.read_bytes()
    again = scan(str(SCAN), "-o", str(out), "--tier", "rules", "--resume")
    assert again.exit_code == 0, again.output
    assert out.read_bytes() == before
    assert not (tmp_path / "out.parquet.partial.jsonl").exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["--policy", "hate"], "written with policy 'scan-test'"),
    (["--keep-text"], "written without --keep-text"),
])
def test_resume_refuses_other_options(tmp_path: Path, extra: list[str], message: str) -> None:
    out = tmp_path / "out.jsonl"
    InterruptingTier.batches_left = 1
    assert scan(str(SCAN), "-o", str(out), "--tier", "test-interrupting", "--batch-size",
                "2").exit_code == 130
    result = scan(str(SCAN), "-o", str(out), "--tier", "test-interrupting", "--resume", *extra)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(read_jsonl(out)) == 2


def test_output_may_not_be_the_input(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    shutil.copy(SCAN, source)
    result = scan(str(source), "-o", str(source), "--tier", "rules", "--overwrite")
    assert result.exit_code == 2
    assert "is the input file" in result.stderr
    assert source.read_bytes() == SCAN.read_bytes()


def test_existing_output_needs_resume_or_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("keep me\n", encoding="utf-8")
    refused = scan(str(SCAN), "-o", str(out), "--tier", "rules")
    assert refused.exit_code == 2
    assert "--overwrite" in refused.stderr
    assert out.read_text(encoding="utf-8") == "keep me\n"
    assert scan(str(SCAN), "-o", str(out), "--tier", "rules", "--overwrite").exit_code == 0
    assert len(read_jsonl(out)) == 11


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_rows_round_trip_through_every_format(tmp_path: Path, suffix: str) -> None:
    rows = [{"id": "a", "text": 'comma, "quote"\nnewline', "n": 1},
            {"id": "b", "text": "ünïcode \u202e", "n": 2}]
    path = tmp_path / f"rows{suffix}"
    assert write_rows(path, [rows[:1], rows[1:]]) == 2
    back = [r.data for batch in read_batches(path, batch_size=1) for r in batch]
    if suffix == ".csv":  # CSV has no types: numbers come back as text
        rows = [{**r, "n": str(r["n"])} for r in rows]
    assert back == rows


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_scan_reads_csv_and_parquet_like_jsonl(tmp_path: Path, suffix: str) -> None:
    source = tmp_path / f"scan{suffix}"
    write_rows(source, ([r.data for r in b] for b in read_batches(SCAN, batch_size=3)))
    jsonl_out, other_out = tmp_path / "a.jsonl", tmp_path / f"b{suffix}"
    assert scan(str(SCAN), "-o", str(jsonl_out), "--tier", "rules").exit_code == 0
    result = scan(str(source), "-o", str(other_out), "--tier", "rules", "--batch-size", "4")
    assert result.exit_code == 0, result.output
    expected = read_jsonl(jsonl_out)
    got = [r.data for batch in read_batches(other_out) for r in batch]
    assert [r["id"] for r in got] == IDS
    assert [r["kind"] for r in got] == [r["kind"] for r in expected]
    if suffix == ".parquet":
        assert got == expected


def test_csv_rows_span_lines_and_errors_name_the_line() -> None:
    rows = [r for batch in read_batches(DATA / "scan.csv") for r in batch]
    assert [(r.number, r.line) for r in rows] == [(1, 2), (2, 3), (3, 5)]
    assert "absolute toad" in rows[1].data["text"]
    result = scan(str(DATA / "scan.csv"), "--tier", "rules", "--text-field", "body")
    assert result.exit_code == 2
    assert "row 1 (line 2): no field 'body'" in result.stderr


def test_missing_text_field_exits_2_and_names_the_field(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = scan(str(SCAN), "-o", str(out), "--tier", "rules", "--text-field", "body")
    assert result.exit_code == 2
    assert "no field 'body'" in result.stderr
    assert "row 1 (line 1)" in result.stderr
    assert "['id', 'text']" in result.stderr
    assert "--text-field" in result.stderr
    assert not out.exists()  # a failed start leaves nothing that would need --overwrite


@pytest.mark.parametrize("content", ["\n  \n", ""])
def test_an_empty_input_exits_2(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    result = scan(str(path), "--tier", "rules")
    assert result.exit_code == 2
    assert "has no rows" in result.stderr


@pytest.mark.parametrize(("content", "bad_row", "message"), [
    ('{"text": "fine"}\n\n{"text": "ok"\n', 2, "line 3 column 1"),  # 13 or 14 by Python version
    ('{"text": "fine"}\n["a list"]\n', 2, "line 2: expected a JSON object"),
    ('{"text": 42}\n{"text": "fine"}\n', 1, "row 1 (line 1): field 'text' is int, not text"),
    ('{"text": "fine"}\n{"id": 7}\n', 2, "row 2 (line 2): no field 'text'"),
    ('{"text": "fine"}\n{"text": "' + "x" * 1_000_001 + '"}\n', 2,
     "row 2 (line 2): field 'text' has 1,000,001 characters; the limit is 1,000,000"),
])
def test_a_bad_row_becomes_an_error_row_and_the_scan_goes_on(
    tmp_path: Path, content: str, bad_row: int, message: str
) -> None:
    path, out = tmp_path / "bad.jsonl", tmp_path / "out.jsonl"
    path.write_text(content, encoding="utf-8")
    result = scan(str(path), "-o", str(out), "--tier", "rules")
    assert result.exit_code == 3
    assert message in result.stderr
    rows = read_jsonl(out)
    assert [r["row"] for r in rows] == [1, 2]
    assert [r["row"] for r in rows if r["kind"] == "error"] == [bad_row]
    assert message in rows[bad_row - 1]["error"]
    resumed = scan(str(path), "-o", str(out), "--tier", "rules", "--resume")
    assert resumed.exit_code == 0
    assert len(read_jsonl(out)) == 2


def test_bad_file_names_and_bytes_are_reported(tmp_path: Path) -> None:
    assert "not found" in scan(str(tmp_path / "nope.jsonl"), "--tier", "rules").stderr
    assert "unknown format '.txt'" in scan(str(SCAN), "-o", str(tmp_path / "o.txt")).stderr
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    assert "line 2: not UTF-8" in scan(str(latin), "--tier", "rules").stderr
    fake = tmp_path / "fake.parquet"
    fake.write_text("not parquet", encoding="utf-8")
    assert "not a readable Parquet file" in scan(str(fake), "--tier", "rules").stderr


def test_error_verdicts_exit_3_and_are_counted(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = scan(str(SCAN), "-o", str(out), "--tier", "test-failing", "--batch-size", "1")
    assert result.exit_code == 3
    assert "3 rows got error verdicts" in result.stderr
    rows = read_jsonl(out)
    assert [r["id"] for r in rows if r["kind"] == "error"] == ["s2", "s4", "s6"]
    assert all(r["action"] == "block" and "toad" in r["error"] for r in rows
               if r["kind"] == "error")


def test_hostile_field_names_are_shown_escaped(tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    hostile = {"\x1b[31mred\u202eevil": "x", "[bold]loud[/bold]": 1}
    path.write_text(json.dumps(hostile) + "\n", encoding="utf-8")
    result = scan(str(path), "--tier", "rules")
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr
    assert "\u202e" not in result.stderr
    assert "[bold]loud[/bold]" in result.stderr
    assert "\\x1b[31m" in result.stderr
    assert "\\u202e" in result.stderr


def test_bastion_scan_in_a_real_process(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = run_bastion("scan", str(SCAN), "-o", str(out), "--policy", POLICY, "--tier", "rules",
                       "--batch-size", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "rows classified" in done.stderr
    rows = [r.data for batch in read_batches(out) for r in batch]
    assert [r["id"] for r in rows] == IDS
    assert json.loads(rows[2]["categories"]) == ["SPM"]
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "a"}\n{"text": \n', encoding="utf-8")
    failed = run_bastion("scan", str(broken), "--policy", POLICY, "--tier", "rules")
    assert failed.returncode == 3  # the broken line is an error row; the scan went on
    assert "line 2 column 10: not valid JSON (Expecting value)" in failed.stderr
    assert "Traceback" not in failed.stderr
