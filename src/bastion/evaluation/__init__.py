"""Measuring classifiers: metrics, threshold sweeps, and evaluation runs."""

from bastion.evaluation._metrics import (
    Scores,
    average_precision,
    binary_scores,
    confusion,
    pr_curve,
    sweep,
)

__all__ = ["Scores", "average_precision", "binary_scores", "confusion", "pr_curve", "sweep"]
