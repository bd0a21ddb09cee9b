"""Runs over row files: ``scan`` (classify every row, resumably) and ``eval`` (measure it).

Scans write JSONL batch by batch and flush each batch, so an interrupted scan loses at most the
batch in flight and ``resume`` continues where it stopped. CSV and Parquet outputs cannot be
appended safely (a Parquet file is unreadable until its footer is written), so a scan to
``out.parquet`` stages its rows in ``out.parquet.partial.jsonl`` and converts them when done.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.classify import Kind, Verdict, classify
from bastion.classify._api import MAX_TEXT_CHARS
from bastion.classify._verdict import error_verdict
from bastion.errors import InputError
from bastion.evaluation._data import (
    STDIN,
    Row,
    data_format,
    drop_partial_line,
    field_text,
    field_value,
    infer_schema,
    read_batches,
    write_rows,
)
from bastion.policy import Policy

Sink = Callable[[list[dict[str, Any]]], None]
Progress = Callable[[int], None]


@dataclass(frozen=True)
class RunSettings:
    """What to classify and how.

    Attributes:
        source: the input file (``-``: JSONL on stdin).
        id_field: the field copied to the output's ``id`` column; rows without it get their
            row number.
    """

    source: str
    policy: Policy
    tier: str
    text_field: str = "text"
    id_field: str = "id"
    batch_size: int = 256
    keep_text: bool = False


def row_id(row: Row, id_field: str) -> Any:
    """The id a scan records for a row: its id field, else its 1-based row number."""
    return row.data.get(id_field, row.number)


def classify_rows(rows: Sequence[Row], settings: RunSettings) -> list[Verdict]:
    """Classify the text field of a batch of rows.

    Raises:
        InputError: a row has no usable text (naming the row).
    """
    for row in rows:
        problem = row_problem(row, settings)
        if problem is not None:
            raise InputError(problem)
    return classify([r.data[settings.text_field] for r in rows], settings.policy,
                    tier=settings.tier)


def scan_verdicts(rows: Sequence[Row], settings: RunSettings) -> list[Verdict]:
    """Like :func:`classify_rows`, but a row without usable text gets an error verdict.

    One bad row (a broken line, a missing or over-long text) must not stop a scan of millions:
    it is recorded, counted and reported, and the scan goes on.
    """
    problems = [row_problem(r, settings) for r in rows]
    good = [r.data[settings.text_field] for r, p in zip(rows, problems, strict=True) if p is None]
    verdicts = iter(classify(good, settings.policy, tier=settings.tier) if good else [])
    return [next(verdicts) if p is None else error_verdict(settings.policy, settings.tier, p)
            for p in problems]


def row_problem(row: Row, settings: RunSettings) -> str | None:
    """Why a row's text cannot be classified (a message naming the row), or ``None``."""
    if row.problem is not None:
        return row.problem
    try:
        text = field_text(row, settings.text_field, settings.source, option="--text-field")
    except InputError as exc:
        return str(exc)
    if len(text) > MAX_TEXT_CHARS:
        return (f"input {settings.source!r} {row.where}: field {settings.text_field!r} has "
                f"{len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}; split the "
                "document into several rows")
    return None


def output_row(row: Row, verdict: Verdict, settings: RunSettings) -> dict[str, Any]:
    """The scan's output row for one input row."""
    data: dict[str, Any] = {
        "row": row.number, "id": row_id(row, settings.id_field), "kind": verdict.kind,
        "action": verdict.action, "score": verdict.score,
        "categories": [c.code for c in verdict.violated], "rule_ids": list(verdict.rule_ids),
        "category_scores": {c.code: c.score for c in verdict.categories},
        "tier": verdict.tier, "policy_id": verdict.policy.id,
        "policy_version": verdict.policy.version, "policy_hash": verdict.policy.hash,
        "rationale": verdict.rationale, "error": verdict.error,
    }
    if settings.keep_text:
        data["text"] = row.data.get(settings.text_field)
    return data


@dataclass
class ScanStats:
    """Counts of one scan run (rows skipped on resume are not classified again)."""

    rows: int = 0
    skipped: int = 0
    violations: int = 0
    errors: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    first_error: str | None = None

    def add(self, verdicts: Sequence[Verdict]) -> None:
        """Count a batch of verdicts."""
        self.rows += len(verdicts)
        for verdict in verdicts:
            self.errors += verdict.is_error
            if verdict.is_error and self.first_error is None:
                self.first_error = verdict.error
            self.violations += verdict.kind == "violation"
            self.by_category.update(c.code for c in verdict.violated)

    @property
    def rate(self) -> float:
        """Texts classified per second."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class ResumePoint:
    """Where a scan starts.

    Attributes:
        done: rows already in the output.
        last: the last of them (checked against the input before anything is appended).
        finished: the output is a finished CSV or Parquet file that cannot take more rows.
    """

    done: int = 0
    last: dict[str, Any] | None = None
    finished: bool = False


def staging_path(output: Path) -> Path:
    """Where a scan appends its rows: the output itself for JSONL, else a JSONL beside it."""
    return output if data_format(output) == "jsonl" else output.with_name(
        output.name + ".partial.jsonl")


def prepare_output(output: Path, source: str, *, resume: bool, overwrite: bool) -> ResumePoint:
    """Check the output of a scan of ``source`` and find where to resume.

    Raises:
        InputError: the output is the input, its folder is missing, or it exists and neither
            ``resume`` nor ``overwrite`` was asked for.
    """
    staging = staging_path(output)
    if source != STDIN and Path(source).resolve() in {output.resolve(), staging.resolve()}:
        raise InputError(f"output {str(output)!r} is the input file; write to another file")
    if not output.parent.is_dir():
        raise InputError(f"output folder {str(output.parent)!r} does not exist; create it "
                         "first")
    existing = [p for p in dict.fromkeys((output, staging)) if p.exists()]
    if not resume:
        if existing and not overwrite:
            raise InputError(f"output {str(existing[0])!r} already exists; pass --resume to "
                             "continue the scan that wrote it, or --overwrite to start again")
        for path in existing:
            path.unlink()
        return ResumePoint()
    if staging.exists():
        drop_partial_line(staging)
        return _read_point(staging, finished=False)
    if output.exists():
        return _read_point(output, finished=True)
    return ResumePoint()


def _read_point(path: Path, *, finished: bool) -> ResumePoint:
    done, last = 0, None
    for batch in read_batches(path, 4096, allow_empty=True):
        done += len(batch)
        last = batch[-1].data
    if last is not None and str(last.get("row")) != str(done):
        raise InputError(f"output {str(path)!r} has {done} rows but its last row says "
                         f"row={last.get('row')!r}; it is not a scan output this run can "
                         "resume; use --overwrite or another output file")
    return ResumePoint(done, last, finished)


def _pending(batch: list[Row], point: ResumePoint, settings: RunSettings) -> list[Row]:
    """The rows of a batch not yet in the output; checks the row where the output stopped."""
    if point.done and batch[0].number <= point.done <= batch[-1].number:
        _check_resume_row(batch[point.done - batch[0].number], point, settings)
    return [r for r in batch if r.number > point.done]


def _check_resume_row(row: Row, point: ResumePoint, settings: RunSettings) -> None:
    assert point.last is not None
    expected, found = row_id(row, settings.id_field), point.last.get("id")
    if expected != found and str(expected) != str(found):
        raise InputError(f"cannot resume: the output's last row (row {row.number}) has id "
                         f"{found!r} but input {settings.source!r} {row.where} has id "
                         f"{expected!r}; the output belongs to another input or id field; use "
                         "--overwrite or another output file")
    if point.last.get("policy_hash") != settings.policy.hash:
        raise InputError(f"cannot resume: the output was written with policy "
                         f"{point.last.get('policy_id')!r} (hash "
                         f"{str(point.last.get('policy_hash'))[:12]}) but this run uses "
                         f"{settings.policy.id!r} (hash {settings.policy.hash[:12]}); resume "
                         "with the same --policy, or use --overwrite")
    if ("text" in point.last) != settings.keep_text:
        raise InputError("cannot resume: the output was written "
                         f"{'with' if 'text' in point.last else 'without'} --keep-text; "
                         "resume with the same options")


def run_scan(
    settings: RunSettings, sink: Sink, point: ResumePoint, progress: Progress | None = None
) -> ScanStats:
    """Classify every row not yet in the output and hand output rows to ``sink``, batch by batch.

    A row whose text cannot be classified gets an error verdict (:func:`scan_verdicts`).

    Raises:
        InputError: no text field in the first row, a file that cannot be read, or an output
            that does not match the input.
    """
    stats = ScanStats(skipped=point.done)
    started, seen = time.perf_counter(), 0
    for batch in read_batches(settings.source, settings.batch_size, keep_bad_lines=True):
        seen = batch[-1].number
        if batch[0].number == 1 and batch[0].problem is None:
            # The first row without the field means a wrong --text-field, not a bad row.
            field_value(batch[0], settings.text_field, settings.source, option="--text-field")
        todo = _pending(batch, point, settings)
        if todo and point.finished:
            raise InputError(f"output is a finished file with {point.done} rows but input "
                             f"{settings.source!r} has more; CSV and Parquet outputs cannot "
                             "be appended to; use --overwrite or another output file")
        if todo:
            verdicts = scan_verdicts(todo, settings)
            sink([output_row(r, v, settings) for r, v in zip(todo, verdicts, strict=True)])
            stats.add(verdicts)
        if progress is not None:
            progress(len(batch))
    if seen < point.done:
        raise InputError(f"the output already has {point.done} rows but input "
                         f"{settings.source!r} has only {seen}; it belongs to another input")
    stats.seconds = time.perf_counter() - started
    return stats


def finish_output(output: Path) -> None:
    """Convert a staged scan (``out.csv.partial.jsonl``) to its final format, then remove it."""
    staging = staging_path(output)
    if staging == output or not staging.exists():
        return
    schema = infer_schema(_staged(staging))
    write_rows(output, _staged(staging), schema=schema)
    staging.unlink()


def _staged(staging: Path) -> Iterator[list[dict[str, Any]]]:
    for batch in read_batches(staging, 4096, allow_empty=True):
        yield [r.data for r in batch]


# --- evaluation -------------------------------------------------------------------------------

_LABELS = {"1": 1, "0": 0, "true": 1, "false": 0, "unsafe": 1, "safe": 0}


@dataclass(frozen=True)
class Outcome:
    """One labelled row after classification.

    Attributes:
        label: 1 when the row is labelled unsafe.
        category: the row's source category as written in the data, if any.
        scores: scores of the categories that can be violated (action other than ``allow``).
    """

    label: int
    category: str | None
    kind: Kind
    score: float
    violated: frozenset[str]
    scores: dict[str, float]

    @classmethod
    def of(cls, label: int, category: str | None, verdict: Verdict) -> Outcome:
        """The outcome of one verdict."""
        return cls(label, category, verdict.kind, verdict.score,
                   frozenset(c.code for c in verdict.violated),
                   {c.code: c.score for c in verdict.categories if c.action != "allow"})


def parse_label(value: Any, row: Row, source: str) -> int:
    """A label as 0 or 1: accepts 0/1, true/false and "safe"/"unsafe"."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in _LABELS:
        return _LABELS[value.strip().lower()]
    raise InputError(f"input {source!r} {row.where}: label {value!r} is not one of 0/1, "
                     "true/false, safe/unsafe; fix the row or choose another --label-field")


def collect_outcomes(
    settings: RunSettings, label_field: str, category_field: str,
    progress: Progress | None = None,
) -> list[Outcome]:
    """Classify every labelled row of the input."""
    outcomes: list[Outcome] = []
    for batch in read_batches(settings.source, settings.batch_size):
        labels = [parse_label(field_value(r, label_field, settings.source,
                                          option="--label-field"), r, settings.source)
                  for r in batch]
        categories = [r.data.get(category_field) for r in batch]
        verdicts = classify_rows(batch, settings)
        outcomes.extend(Outcome.of(label, None if cat is None else str(cat), verdict)
                        for label, cat, verdict in zip(labels, categories, verdicts, strict=True))
        if progress is not None:
            progress(len(batch))
    return outcomes
