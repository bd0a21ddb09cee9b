"""Score a file of responses with one scorer, and measure it when rows carry labels.

Rows are JSON objects with ``response`` (required), ``prompt`` (optional, falling back to
``text``), ``goal`` (optional: the plain request the response answers; the refusal scorer
then reads a response it is unsure about with its request, as a campaign does) and optionally
``label``: 1 when the attack succeeded (the model complied / the
response is harmful), 0 otherwise, the convention of JailbreakBench's judge labels. With
``positive="refusal"``, ``label`` 1 means the response is a refusal instead. The harm scorer
reads a response as a campaign does: without the text it echoes from its prompt, and by the
policy's response-side categories only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio

from bastion.classify import aclassify
from bastion.errors import InputError
from bastion.evaluation import binary_scores, sweep
from bastion.redteam.scorers._compliance import compliance
from bastion.redteam.scorers._core import prompt_side_codes
from bastion.redteam.scorers._echo import strip_echo

ScorerName = Literal["refusal", "harm"]


@dataclass(frozen=True)
class Row:
    """One scored row: the score is the probability of the positive class."""

    prompt: str
    response: str
    label: int | None
    score: float
    predicted: int
    error: str | None = None


def read_rows(path: Path, label_field: str = "label") -> list[dict[str, Any]]:
    """The JSON rows of a file, each checked for a ``response``."""
    rows = []
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc}; rows must be UTF-8 JSON Lines"
                         ) from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(_row(json.loads(line), label_field))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}:{number}: need a JSON object with a string 'response', "
                             "optional string 'prompt' and 'goal', and an optional 0/1 "
                             f"{label_field!r}: {exc}") from exc
    if not rows:  # nothing scored is no measurement
        raise InputError(f"{str(path)!r} holds no rows; give one JSON object per line, each "
                         "with a 'response'")
    return rows


def _row(row: dict[str, Any], label_field: str) -> dict[str, Any]:
    if not isinstance(row["response"], str):
        raise TypeError("'response' is not a string")
    # A number or list read as text would be scored as if it were the request: "42" is no
    # goal, and a list's repr is no prompt.
    for key in ("prompt", "text", "goal"):
        if row.get(key) is not None and not isinstance(row[key], str):
            raise TypeError(f"{key!r} must be a string, not {type(row[key]).__name__} "
                            f"{row[key]!r:.60}; give the {key} as text or leave it out")
    label = row.get(label_field)
    if label is not None:
        if label not in (0, 1) and label not in ("0", "1"):  # 1.0 and true equal 1
            raise ValueError(f"{label_field!r} is {label!r}; use 0 or 1")
        row[label_field] = int(label)
    return row


def score_rows(rows: Sequence[dict[str, Any]], scorer: ScorerName, *,
               positive: Literal["success", "refusal"] = "success", policy: str = "default",
               tier: str = "default", label_field: str = "label") -> list[Row]:
    """Score every row; ``score`` is the probability of the positive class."""
    responses = [str(r["response"]) for r in rows]
    prompts = [str(r.get("prompt") or r.get("text") or "") for r in rows]
    labels = [r.get(label_field) for r in rows]
    goals = [str(r.get("goal") or "") for r in rows]
    if scorer == "refusal":  # as a campaign reads a response: whole, then voice by voice
        flip = positive == "success"
        return [Row(prompt, response, label,
                    read.p_success if flip else round(1.0 - read.p_success, 4),
                    int(read.complied if flip else not read.complied))
                for prompt, response, label, read in zip(prompts, responses, labels,
                                                         compliance(responses, None, goals),
                                                         strict=True)]
    # As in a campaign: judge what the response adds to its prompt, by response categories.
    novel = [strip_echo(response, [prompt]).text or response
             for prompt, response in zip(prompts, responses, strict=True)]
    verdicts = anyio.run(lambda: aclassify(novel, policy, tier=tier)) if responses else []
    skip = prompt_side_codes()
    out = []
    for prompt, response, label, v in zip(prompts, responses, labels, verdicts, strict=True):
        judged = [c for c in v.categories if c.code not in skip]
        score = max((c.score for c in judged), default=0.0)
        out.append(Row(prompt, response, label, score,
                       int(v.is_error or any(c.violated for c in judged)), v.error))
    return out


def measure(rows: Sequence[Row], threshold: float) -> dict[str, Any]:
    """Metrics with the same keys as ``bastion eval --json`` (labelled rows only)."""
    labelled = [r for r in rows if r.label is not None]
    labels = [int(r.label or 0) for r in labelled]
    scores = [r.score for r in labelled]
    data = binary_scores(labels, [r.predicted for r in labelled], scores, threshold).to_dict()
    data.update(errors=sum(r.error is not None for r in rows),
                sweep=[s.to_dict() for s in sweep(labels, scores)], unlabelled=len(rows) -
                len(labelled))
    return data
