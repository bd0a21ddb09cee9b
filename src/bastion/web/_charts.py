"""Chart specifications for Chart.js, as JSON: one shape for every page that draws charts.

A page puts the spec in a ``<section>`` (``data-charts`` attribute, or JSON fetched from
``data-source``) and ``static/charts.js`` draws each ``<canvas data-chart="name">`` from
``spec[name]``. Every chart on a page should also have its numbers in a table, for screen
readers and for copying.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PALETTE = ("#1f5fbf", "#b3261e", "#8a5a00", "#6b3fa0", "#2e7d32", "#9db7e0")
"""Dataset colours, in order (contrast checked against the page background)."""


def bar_chart(labels: Sequence[str], series: Mapping[str, Sequence[float]], *,
              colours: Sequence[str] = PALETTE, horizontal: bool = False) -> dict[str, Any]:
    """A bar chart: one dataset per ``series`` entry (name -> one value per label)."""
    spec: dict[str, Any] = {
        "type": "bar", "labels": list(labels),
        "datasets": [{"label": name, "data": list(values),
                      "backgroundColor": colours[i % len(colours)]}
                     for i, (name, values) in enumerate(series.items())]}
    if horizontal:
        spec["indexAxis"] = "y"
    return spec


def doughnut_chart(labels: Sequence[str], values: Sequence[float], label: str, *,
                   colours: Sequence[str] = PALETTE) -> dict[str, Any]:
    """A doughnut chart of ``values`` (one per label)."""
    return {"type": "doughnut", "labels": list(labels),
            "datasets": [{"label": label, "data": list(values),
                          "backgroundColor": [colours[i % len(colours)]
                                              for i in range(len(values))]}]}
