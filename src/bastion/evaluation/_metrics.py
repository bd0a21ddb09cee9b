"""Binary classification metrics in plain numpy: precision, recall, F1, AUPRC, sweeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Scores:
    """Metrics of one set of binary predictions.

    ``auprc`` is average precision (the step-wise area under the precision-recall curve, as
    scikit-learn computes it); ``None`` when there are no positives to recall.
    """

    n: int
    positives: int
    precision: float
    recall: float
    f1: float
    fpr: float
    auprc: float | None
    threshold: float | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def _arrays(labels: Sequence[int], scores: Sequence[float]) -> tuple[NDArray[np.int8],
                                                                     NDArray[np.float64]]:
    y = np.asarray(labels, dtype=np.int8)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError(f"{len(y)} labels but {len(s)} scores")
    return y, s


def confusion(labels: Sequence[int], predicted: Sequence[int]) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of binary predictions."""
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    return (int(np.sum(y & p)), int(np.sum(~y & p)), int(np.sum(y & ~p)), int(np.sum(~y & ~p)))


def binary_scores(
    labels: Sequence[int], predicted: Sequence[int], scores: Sequence[float] | None = None,
    threshold: float | None = None,
) -> Scores:
    """Precision, recall, F1 and false-positive rate, plus AUPRC when scores are given."""
    tp, fp, fn, tn = confusion(labels, predicted)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    auprc = average_precision(labels, scores) if scores is not None else None
    return Scores(len(labels), tp + fn, round(precision, 4), round(recall, 4), round(f1, 4),
                  round(fpr, 4), None if auprc is None else round(auprc, 4), threshold)


def average_precision(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """Area under the precision-recall curve as average precision; None without positives."""
    y, s = _arrays(labels, scores)
    total = int(y.sum())
    if total == 0:
        return None
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    precision = tps / (tps + fps)
    recall = tps / total
    steps = np.diff(np.r_[0.0, recall])
    return float(np.sum(steps * precision))


def pr_curve(labels: Sequence[int], scores: Sequence[float]) -> tuple[list[float], list[float],
                                                                      list[float]]:
    """(precision, recall, threshold) points, one per distinct score, highest score first."""
    y, s = _arrays(labels, scores)
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1] if len(s) else np.array([], int)
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    total = max(int(y.sum()), 1)
    precision = (tps / np.maximum(tps + fps, 1)).tolist()
    recall = (tps / total).tolist()
    return precision, recall, s[distinct].tolist()


def sweep(
    labels: Sequence[int], scores: Sequence[float],
    thresholds: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
) -> list[Scores]:
    """Metrics at each threshold (a text is positive when its score >= threshold)."""
    s = np.asarray(scores, dtype=np.float64)
    return [binary_scores(labels, (s >= t).astype(int).tolist(), threshold=t) for t in thresholds]
