"""A robust baseline for a count or level measured per time bucket.

The level is an exponentially weighted moving average (EWMA); the spread is the median
absolute deviation (MAD) of the recent buckets, scaled to a standard deviation (x 1.4826), so
one wild bucket moves neither much. A value is anomalous when it exceeds
``level + k * max(spread, floor)``; counts also get a Poisson floor (``sqrt(level)``), since a
quiet series has a MAD of zero. An anomalous value enters the baseline clipped to the
threshold, so an attack does not teach the baseline that attacks are normal.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from statistics import median
from typing import Any

MAD_TO_SD = 1.4826


class Baseline:
    """EWMA level and MAD spread of one series.

    Args:
        alpha: EWMA weight of the newest bucket.
        window: how many recent buckets the MAD is taken over.
        k: how many spreads above the level is anomalous.
        floor: the least spread (absolute units of the series).
        poisson: add a ``sqrt(level)`` floor (for counts).
        warmup: buckets to see before anything is anomalous.
    """

    def __init__(self, *, alpha: float, window: int, k: float, floor: float,
                 poisson: bool = False, warmup: int = 3) -> None:
        self.alpha, self.k, self.floor, self.poisson = alpha, k, floor, poisson
        self.warmup = warmup
        self.level: float | None = None
        self.recent: deque[float] = deque(maxlen=window)

    @property
    def ready(self) -> bool:
        """True once ``warmup`` buckets were seen."""
        return len(self.recent) >= self.warmup

    def spread(self) -> float:
        """The spread the threshold uses (MAD as an SD, at least the floors)."""
        values = list(self.recent)
        mad = 0.0
        if values:
            middle = median(values)
            mad = median(abs(v - middle) for v in values) * MAD_TO_SD
        level = self.level or 0.0
        return max(mad, self.floor, math.sqrt(level) if self.poisson else 0.0)

    def threshold(self) -> float:
        """The value above which a bucket is anomalous."""
        return (self.level or 0.0) + self.k * self.spread()

    def update(self, value: float) -> None:
        """Fold a finished bucket in (clipped to the threshold once ready)."""
        if self.ready:
            value = min(value, self.threshold())
        self.level = value if self.level is None else (
            self.alpha * value + (1 - self.alpha) * self.level)
        self.recent.append(value)

    def dump(self) -> dict[str, Any]:
        """The learned part (level and recent buckets) as JSON, for :meth:`load`."""
        return {"level": self.level, "recent": list(self.recent)}

    def load(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`dump` output (the settings stay this instance's own)."""
        level = state.get("level")
        self.level = None if level is None else float(level)
        self.recent.clear()
        self.recent.extend(float(v) for v in state.get("recent") or ())
