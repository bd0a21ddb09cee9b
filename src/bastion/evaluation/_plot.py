"""The precision-recall curve of an evaluation, drawn with matplotlib (an optional extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bastion.errors import ConfigError, InputError
from bastion.evaluation._metrics import pr_curve
from bastion.evaluation._report import EvalReport


def require_matplotlib() -> tuple[Any, Any]:
    """The matplotlib ``Figure`` and Agg canvas classes, or a ConfigError saying how to install.

    Call it before a long run so a missing extra fails at once, not after the work.
    """
    try:
        # The object-oriented API with the Agg canvas: no pyplot, no global backend switch,
        # no display needed.
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - optional extra
        from matplotlib.figure import Figure  # noqa: PLC0415 - optional extra
    except ImportError as exc:
        raise ConfigError("--plot needs matplotlib, which is not installed; run "
                          "pip install 'bastion-ai[plot]'") from exc
    return Figure, FigureCanvasAgg


def _figure() -> Any:
    figure_class, canvas_class = require_matplotlib()
    figure = figure_class(figsize=(6, 4.5), dpi=100)
    canvas_class(figure)
    return figure


def plot_pr(report: EvalReport, path: str | Path) -> Path:
    """Draw the precision-recall curve of a report, with its operating point, to an image.

    The format follows the suffix (PNG when there is none).

    Raises:
        ConfigError: matplotlib is not installed.
        InputError: the image cannot be written.
    """
    precision, recall, _ = pr_curve(report.labels, report.curve_scores)
    figure = _figure()
    axes = figure.add_subplot()
    axes.step([0.0, *recall], [precision[0] if precision else 1.0, *precision], where="pre",
              label=f"{report.tier} (AUPRC {_fmt(report.scores.auprc)})")
    where = ("the policy's category thresholds" if report.threshold_source == "policy"
             else f"threshold {_fmt(report.scores.threshold)}")
    axes.plot([report.scores.recall], [report.scores.precision], "o",
              label=f"operating point ({where})")
    axes.set(xlabel="recall", ylabel="precision", xlim=(0.0, 1.02), ylim=(0.0, 1.02),
             title=f"policy {report.policy.id} {report.policy.version}, {report.scores.n} rows")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    target = Path(path)
    try:
        figure.savefig(target, format=None if target.suffix else "png")
    except OSError as exc:
        raise InputError(f"cannot write plot {str(target)!r}: {exc.strerror}; check the "
                         "path") from exc
    except ValueError as exc:
        raise InputError(f"cannot write plot {str(target)!r}: {exc}; name it .png") from exc
    return target


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
