"""How sure a verdict's agreement is when its rows come in groups.

GPTFuzz's responses come a few dozen to a question (the validation split holds 18 questions),
and one hard question moves the agreement far more than its share of rows suggests: rows of
the same question are not independent. So the interval resamples whole groups (questions;
for DICES, conversations), not rows. Two settings whose agreements lie inside each other's
interval were not told apart by that split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Bootstrap draws; the interval's ends move by about 0.001 between seeds at this count.
DRAWS = 2000


def group_interval(groups: Sequence[str], hits: Sequence[bool], *, level: float = 0.95,
                   draws: int = DRAWS, seed: int = 0) -> tuple[float, float]:
    """The bootstrap interval (percentile, ``level``) of the share of ``hits``, drawing whole
    ``groups`` with replacement; ValueError when the two lengths differ or there are no rows."""
    if len(groups) != len(hits):
        raise ValueError(f"{len(groups)} groups for {len(hits)} hits")
    if not hits:
        raise ValueError("no rows to draw from")
    names = sorted(set(groups))
    index = {name: i for i, name in enumerate(names)}
    at = [index[g] for g in groups]
    rows = np.bincount(at, minlength=len(names)).astype(np.float64)
    right = np.bincount(at, weights=np.asarray(hits, np.float64), minlength=len(names))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(names), size=(draws, len(names)))
    shares = right[picks].sum(1) / rows[picks].sum(1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(shares, [tail, 100 - tail])
    return round(float(low), 4), round(float(high), 4)
