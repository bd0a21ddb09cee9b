"""One calibrated logistic regression per head, fitted on the train side of the rows that
carry that head's label.

A head is a linear model so the runtime needs numpy alone. It is class-balanced so rare
categories are learnt, then Platt-calibrated on out-of-fold scores with the rows' own weights
(not the class balance), and the calibration is folded into the weights: a probability of 0.5
means "more likely violating than not" for text like the training data, which keeps false
positives on ordinary text rare. Harmful rows of other categories are weak negatives, since
category labels of harmful prompts overlap (a bomb threat is violence and weapons).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bastion.training._sources import HEADS
from bastion.training.static._rows import Row

SEED = 20250101
#: Weight of a harmful row as a negative for a category it was not labelled with; low because
#: category labels of harmful prompts overlap (a bomb threat is violence and weapons).
OTHER_HARM_WEIGHT = 0.3
#: Weight of a category positive that comes only from a keyword match (not from the source's
#: own category): "mentions a scam word" is weak evidence of a fraud request, and the heads
#: should learn intent from categorised and hand-written rows first.
KEYWORD_WEIGHT = 1.0
#: L2 strength (sklearn C) of the per-head logistic regressions, chosen with
#: :data:`._features.SPARSE_SCALE` on dev and external AUPRC (C 8 vs 16: same dev AUPRC,
#: slightly better MaliciousInstruct+Alpaca and deepset figures).
C_VALUE = 8.0
FOLDS = 3
#: Platt calibration weights = a * row weights + b * class-balanced weights.
PLATT_BALANCE = (1.0, 0.0)


@dataclass(frozen=True)
class HeadFit:
    """A fitted, calibrated head: ``p = sigmoid(X @ coef + intercept)`` on the design matrix."""

    name: str
    coef: np.ndarray
    intercept: float


def head_data(rows: Sequence[Row], head: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices, labels and sample weights of the rows that carry a label for ``head``."""
    index = np.array([i for i, r in enumerate(rows) if head in r.labels], dtype=np.int64)
    y = np.array([rows[i].labels[head] for i in index], dtype=np.float64)
    w = np.array([rows[i].weight * head_weight(rows[i], head) for i in index],
                 dtype=np.float64)
    return index, y, w


def head_weight(row: Row, head: str) -> float:
    """Per-head factor on a row's weight: harmful rows of other categories are weak
    negatives, keyword-only category positives are weak positives."""
    if row.harmful and row.labels[head] == 0.0 and head != "hate":
        return OTHER_HARM_WEIGHT
    if row.labels[head] == 1.0 and head in row.extra.get("keyword_only", ()):
        return KEYWORD_WEIGHT
    return 1.0


def balanced(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rescale weights so both classes carry the same total weight."""
    out = w.copy()
    for value in (0.0, 1.0):
        mask = y == value
        out[mask] *= w.sum() / (2.0 * max(w[mask].sum(), 1e-9))
    return out


def fit_head(name: str, x: Any, y: np.ndarray, w: np.ndarray) -> HeadFit:
    """Class-balanced logistic regression, Platt-calibrated on out-of-fold scores.

    The Platt step uses the rows' own weights (not the class balance), so probabilities
    follow the training mix: 0.5 means "more likely violating than not" for text like the
    training data, which keeps false positives on ordinary text rare.
    """
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - a training-only dependency
    from sklearn.model_selection import StratifiedKFold, cross_val_predict  # noqa: PLC0415 - a training-only dependency

    wb = balanced(y, w)
    model = LogisticRegression(C=C_VALUE, max_iter=3000)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    oof = cross_val_predict(model, x, y, cv=folds, method="decision_function",
                            params={"sample_weight": wb})
    platt = LogisticRegression(C=1e6, max_iter=1000)
    platt.fit(oof.reshape(-1, 1), y, sample_weight=w * PLATT_BALANCE[0] + wb * PLATT_BALANCE[1])
    model.fit(x, y, sample_weight=wb)
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    return HeadFit(name, model.coef_[0] * a, float(model.intercept_[0]) * a + b)


def train_heads(rows: Sequence[Row], x: Any) -> list[HeadFit]:
    """Fit every head on the train side of the rows that carry its label."""
    dev = np.array([r.dev for r in rows])
    fits = []
    for head in HEADS:
        start = time.perf_counter()
        index, y, w = head_data(rows, head)
        train = index[~dev[index]]
        keep = ~dev[index]
        fits.append(fit_head(head, x[train], y[keep], w[keep]))
        print(f"  {head:14s} {int(keep.sum())} rows, {int(y[keep].sum())} positive "
              f"({time.perf_counter() - start:.1f}s)")
    return fits
