"""Figures of the heads on held-out rows, as the runtime would score them.

The dev figures are measured on the exported, quantised heads (not the float fit), so the
card reports what ships. Template-generated benign rows share their templates across the
split, so they are left out of every figure; ``fpr_benign`` counts benign rows only, which is
what over-refusal looks like.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bastion.classify._static import Features, Heads
from bastion.training.static._fit import head_data
from bastion.training.static._rows import Row


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))


def binary_metrics(y: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Precision, recall, F1, FPR at ``threshold`` and AUPRC (average precision)."""
    from sklearn.metrics import average_precision_score  # noqa: PLC0415 - a training-only dependency

    pred = score >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    both = 0 < y.sum() < len(y)
    return {
        "n": len(y), "positives": int(y.sum()), "precision": round(precision, 4),
        "recall": round(recall, 4), "f1": round(f1, 4),
        "fpr": round(fp / (fp + tn), 4) if fp + tn else None,
        "auprc": round(float(average_precision_score(y, score)), 4) if both else None,
    }


def fair_dev(rows: Sequence[Row]) -> np.ndarray:
    """Held-out rows that make a fair test: dev rows not generated from a template."""
    return np.array([r.dev and r.source != "bastion-templates" for r in rows])


def is_benign(rows: Sequence[Row]) -> np.ndarray:
    """Rows labelled negative for every head they carry (and carrying at least one)."""
    return np.array([bool(r.labels) and not any(r.labels.values()) for r in rows])


def dev_metrics(rows: Sequence[Row], features: Features, heads: Heads) -> dict[str, Any]:
    """Figures of the exported (quantised) heads on the dev side, per head.

    ``fpr_benign`` is the false-positive rate on benign dev rows only (what over-refusal
    looks like); ``fpr`` also counts harmful rows of other categories.
    """
    probs = sigmoid(heads.logits(features))
    dev, benign = fair_dev(rows), is_benign(rows)
    out = {}
    for j, head in enumerate(heads.names):
        index, y, _ = head_data(rows, head)
        keep = dev[index]
        metrics = binary_metrics(y[keep], probs[index[keep], j])
        metrics["fpr_benign"] = round(float(np.mean(probs[dev & benign, j] >= 0.5)), 4)
        metrics["train_rows"] = int((~keep).sum())
        metrics["train_positives"] = int(y[~keep].sum())
        out[head] = metrics
        print(f"  {head:14s} {metrics}")
    return out
