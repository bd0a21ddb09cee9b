"""Measuring classifiers: metrics, threshold sweeps, and evaluation runs."""

from bastion.evaluation._data import Row, read_batches, write_rows
from bastion.evaluation._metrics import (
    Scores,
    average_precision,
    binary_scores,
    confusion,
    pr_curve,
    sweep,
)
from bastion.evaluation._plot import plot_pr
from bastion.evaluation._report import EvalReport, evaluate
from bastion.evaluation._run import (
    Outcome,
    RunSettings,
    ScanStats,
    collect_outcomes,
    run_scan,
)

__all__ = [
    "EvalReport",
    "Outcome",
    "Row",
    "RunSettings",
    "ScanStats",
    "Scores",
    "average_precision",
    "binary_scores",
    "collect_outcomes",
    "confusion",
    "evaluate",
    "plot_pr",
    "pr_curve",
    "read_batches",
    "run_scan",
    "sweep",
    "write_rows",
]
