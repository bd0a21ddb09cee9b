"""Evaluation reports: precision, recall, AUPRC and per-category figures of classified rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from bastion.evaluation._metrics import Scores, binary_scores, confusion, sweep
from bastion.evaluation._run import Outcome
from bastion.policy import Policy, PolicyRef


@dataclass(frozen=True)
class CodeFigures:
    """Figures of one policy category.

    ``precision``: of the rows where this category was violated, the share labelled unsafe.
    ``recall``: of the unsafe rows whose source category maps to this code, the share where
    this category was violated (``None`` when no rows map to it).
    """

    code: str
    name: str
    threshold: float
    predicted: int
    precision: float | None
    rows: int
    positives: int
    recall: float | None


@dataclass(frozen=True)
class SourceFigures:
    """Figures of one source category, as written in the data.

    ``code`` is the policy category it maps to (same code or name, ignoring case), else None.
    ``recall`` and ``fpr`` use the overall prediction (any category, errors included).
    """

    category: str
    code: str | None
    n: int
    positives: int
    recall: float | None
    fpr: float | None
    errors: int


@dataclass(frozen=True)
class EvalReport:
    """The result of an evaluation; :meth:`to_dict` is what ``bastion eval --json`` prints."""

    scores: Scores
    threshold_source: Literal["policy", "option"]
    category_thresholds: dict[str, float]
    errors: int
    confusion: dict[str, int]
    sweep: list[Scores]
    per_category: list[CodeFigures]
    per_source_category: list[SourceFigures]
    policy: PolicyRef
    tier: str
    labels: tuple[int, ...]
    curve_scores: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (without the per-row labels and scores)."""
        data = self.scores.to_dict()
        data.update(
            threshold_source=self.threshold_source,
            category_thresholds=self.category_thresholds, errors=self.errors,
            confusion=self.confusion, sweep=[s.to_dict() for s in self.sweep],
            per_category=[asdict(c) for c in self.per_category],
            per_source_category=[asdict(s) for s in self.per_source_category],
            policy=asdict(self.policy), tier=self.tier,
        )
        return data


def policy_threshold(policy: Policy) -> float:
    """The single threshold reported for a policy: its lowest category threshold.

    That is the lowest score at which the policy can call a text a violation (``allow``
    categories never do, so they are left out unless every category allows).
    """
    acting = [c.threshold for c in policy.categories if c.action != "allow"]
    return min(acting or [c.threshold for c in policy.categories])


def _flagged(outcome: Outcome, threshold: float | None) -> bool:
    if outcome.kind == "error":
        return True  # fail closed: an error blocks like a violation
    return outcome.kind == "violation" if threshold is None else outcome.score >= threshold


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def code_for(category: str | None, policy: Policy) -> str | None:
    """The policy code a source category names (its code or name, ignoring case), else None."""
    if category is None:
        return None
    wanted = category.strip().casefold()
    return next((c.code for c in policy.categories
                 if wanted in (c.code.casefold(), c.name.casefold())), None)


def _code_figures(outcomes: list[Outcome], policy: Policy,
                  threshold: float | None) -> list[CodeFigures]:
    mapped = [code_for(o.category, policy) for o in outcomes]
    figures = []
    for cat in policy.categories:
        hits = [cat.code in o.violated if threshold is None
                else o.scores.get(cat.code, 0.0) >= threshold for o in outcomes]
        correct = sum(1 for o, hit in zip(outcomes, hits, strict=True) if hit and o.label)
        mine = [(o, hit) for o, hit, m in zip(outcomes, hits, mapped, strict=True)
                if m == cat.code]
        positives = sum(o.label for o, _ in mine)
        found = sum(1 for o, hit in mine if hit and o.label)
        figures.append(CodeFigures(
            cat.code, cat.name, cat.threshold if threshold is None else threshold, sum(hits),
            _ratio(correct, sum(hits)), len(mine), positives, _ratio(found, positives)))
    return figures


def _source_figures(outcomes: list[Outcome], flags: list[bool],
                    policy: Policy) -> list[SourceFigures]:
    groups: dict[str, list[tuple[Outcome, bool]]] = {}
    for outcome, flag in zip(outcomes, flags, strict=True):
        if outcome.category is not None:
            groups.setdefault(outcome.category, []).append((outcome, flag))
    figures = []
    for name, rows in sorted(groups.items()):
        positives = sum(o.label for o, _ in rows)
        caught = sum(1 for o, flag in rows if flag and o.label)
        false_alarms = sum(1 for o, flag in rows if flag and not o.label)
        figures.append(SourceFigures(
            name, code_for(name, policy), len(rows), positives, _ratio(caught, positives),
            _ratio(false_alarms, len(rows) - positives),
            sum(1 for o, _ in rows if o.kind == "error")))
    return figures


def evaluate(outcomes: list[Outcome], policy: Policy, tier: str,
             threshold: float | None = None) -> EvalReport:
    """Metrics of classified rows against their labels.

    Without ``threshold`` a row is predicted unsafe when its verdict is a violation (each
    category at its own policy threshold); with it, when the verdict's score reaches it.
    Error verdicts are predicted unsafe either way (fail closed), and score 1.0 on the
    precision-recall curve and in the sweep so that every figure treats them alike.
    """
    labels = [o.label for o in outcomes]
    curve = [1.0 if o.kind == "error" else o.score for o in outcomes]
    flags = [_flagged(o, threshold) for o in outcomes]
    predicted = [int(f) for f in flags]
    reported = policy_threshold(policy) if threshold is None else threshold
    tp, fp, fn, tn = confusion(labels, predicted)
    return EvalReport(
        scores=binary_scores(labels, predicted, curve, threshold=reported),
        threshold_source="policy" if threshold is None else "option",
        category_thresholds={c.code: c.threshold for c in policy.categories},
        errors=sum(1 for o in outcomes if o.kind == "error"),
        confusion={"tp": tp, "fp": fp, "fn": fn, "tn": tn}, sweep=sweep(labels, curve),
        per_category=_code_figures(outcomes, policy, threshold),
        per_source_category=_source_figures(outcomes, flags, policy),
        policy=policy.ref, tier=tier, labels=tuple(labels), curve_scores=tuple(curve),
    )
