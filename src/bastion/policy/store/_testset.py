"""A policy's test set and what running it says: precision / recall / F1 per category.

The rows are the policy's own examples (the draft's and the published version's, so both are
measured on the same rows), the labelled rows attached to it in the store, and for a built-in
policy the test set shipped beside it. The examples are read by the few-shot tiers, so their
figures flatter the policy; attached rows are the measurement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bastion.classify import Classifier, Verdict
from bastion.errors import InputError
from bastion.evaluation import Scores, binary_scores
from bastion.policy import Policy, PolicyRef, builtin_policies, builtin_testset

RowSource = Literal["example", "attached", "shipped"]
MAX_ROWS = 5000


@dataclass(frozen=True)
class LabelledRow:
    """One labelled text: ``label`` 1 violates ``category``, 0 is safe."""

    text: str
    label: int
    category: str | None
    source: RowSource


@dataclass(frozen=True)
class VersionScores:
    """The figures of one policy version on a test set.

    Attributes:
        scores: ``overall`` (any violation vs. safe) and one entry per category with
            positive rows.
        errors: rows the classifier could not decide (counted as violations, as the gateway
            treats them).
    """

    policy: PolicyRef
    number: int | None
    tier: str
    rows: int
    errors: int
    scores: dict[str, Scores]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"version": self.number, "policy_version": self.policy.version,
                "policy_hash": self.policy.hash, "tier": self.tier, "rows": self.rows,
                "errors": self.errors,
                "scores": {code: s.to_dict() for code, s in self.scores.items()}}


@dataclass(frozen=True)
class Comparison:
    """A draft and the published version measured on the same rows, side by side."""

    draft: VersionScores
    published: VersionScores | None
    sources: dict[str, int]

    def codes(self) -> list[str]:
        """``overall``, then every category either version has figures for."""
        seen = list(self.draft.scores)
        if self.published is not None:
            seen += [c for c in self.published.scores if c not in seen]
        return ["overall", *sorted(c for c in seen if c != "overall")]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: rows by source, then each side's scores by category."""
        return {"sources": self.sources, "draft": self.draft.to_dict(),
                "published": None if self.published is None else self.published.to_dict()}


def parse_rows(text: str, *, source: RowSource = "attached",
               name: str = "<test set>") -> list[LabelledRow]:
    """Labelled rows from JSONL text: one ``{"text", "label", "category"}`` object a line.

    ``name`` is where the text came from, for messages (``name:line: problem``).

    Raises:
        InputError: a line is not such an object (the message names the line).
    """
    rows: list[LabelledRow] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(_row(json.loads(line), source))
        except RecursionError as exc:  # JSON nested thousands deep: no row, and no crash
            raise InputError(f"{name}:{number}: JSON nested too deeply to read; each line "
                             'must be a flat JSON object such as {"text": "...", "label": 1, '
                             '"category": "VIO"}') from exc
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{name}:{number}: {exc}; each line must be a JSON object "
                             'such as {"text": "...", "label": 1, "category": "VIO"}') from exc
    if len(rows) > MAX_ROWS:
        raise InputError(f"the test set has {len(rows)} rows; the limit is {MAX_ROWS}; keep "
                         "the rows that tell versions apart")
    return rows


def _row(data: dict[str, object], source: RowSource) -> LabelledRow:
    text, label, category = data["text"], int(str(data["label"])), data.get("category")
    if label not in (0, 1) or not isinstance(text, str):
        raise ValueError("'label' must be 0 or 1 and 'text' a string")
    return LabelledRow(text, label, None if category is None else str(category), source)


def example_rows(policy: Policy) -> list[LabelledRow]:
    """A policy's own examples as labelled rows."""
    return [LabelledRow(e.text, int(e.violates), e.category if e.violates else None, "example")
            for e in policy.examples]


def shipped_rows(policy_id: str) -> list[LabelledRow]:
    """The test set shipped beside a built-in policy (none for other ids)."""
    if policy_id not in builtin_policies():
        return []
    path = builtin_testset(policy_id)
    return [] if path is None else read_rows(path, source="shipped")


def read_rows(path: Path, *, source: RowSource = "attached") -> list[LabelledRow]:
    """Labelled rows from a JSONL file (see :func:`parse_rows`)."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read test set {str(path)!r}: {exc}; check the path and that "
                         "it is UTF-8 JSONL") from exc
    return parse_rows(text, source=source, name=str(path))


def unique(rows: Iterable[LabelledRow]) -> list[LabelledRow]:
    """Rows with repeated texts dropped (the first one stays)."""
    seen: set[str] = set()
    out: list[LabelledRow] = []
    for row in rows:
        if row.text not in seen:
            seen.add(row.text)
            out.append(row)
    return out


def category_scores(policy: Policy, rows: Sequence[LabelledRow],
                    verdicts: Sequence[Verdict]) -> dict[str, Scores]:
    """``overall`` and per-category precision / recall / F1 of verdicts on labelled rows.

    A category is scored when it has at least one positive row; its prediction is that
    category's own decision, so a text blocked for the wrong category counts as a miss.
    """
    labels = [row.label for row in rows]
    out = {"overall": binary_scores(labels, [int(v.kind != "safe") for v in verdicts],
                                    [v.score for v in verdicts])}
    for index, category in enumerate(policy.categories):
        truth = [int(r.label == 1 and r.category == category.code) for r in rows]
        if not any(truth):
            continue
        predicted = [int(v.categories[index].violated) if v.categories else 0 for v in verdicts]
        scores = [v.categories[index].score if v.categories else 0.0 for v in verdicts]
        out[category.code] = binary_scores(truth, predicted, scores,
                                           threshold=category.threshold)
    return out


def run_testset(policy: Policy, rows: Sequence[LabelledRow], classifier: Classifier, *,
                tier: str, number: int | None = None) -> VersionScores:
    """Classify every row with ``policy`` and score the verdicts."""
    verdicts = classifier.classify([r.text for r in rows], policy)
    return VersionScores(policy.ref, number, tier, len(rows), sum(v.is_error for v in verdicts),
                      category_scores(policy, rows, verdicts))
