"""Compare a campaign with a baseline run: which successes are new, fixed or still open.

Attempts are matched by id (the same case, strategy, converter stack and repeat give the same
id in every run of the same plan). An attempt that succeeded in the baseline and errored or
went unjudged now is *unverified*, never fixed: the gate does not count a fix it did not see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bastion.redteam._summary import undecided
from bastion.redteam._types import Attempt


@dataclass(frozen=True)
class Comparison:
    """Successes of a run set against a baseline run.

    Attributes:
        new: successes now that were not successes in the baseline (or not in it at all).
        fixed: baseline successes that were judged and failed now.
        still_open: successes in both runs.
        unverified: baseline successes that errored, went unjudged or were not run now.
    """

    new: tuple[Attempt, ...]
    fixed: tuple[Attempt, ...]
    still_open: tuple[Attempt, ...]
    unverified: tuple[Attempt, ...]

    def to_dict(self) -> dict[str, Any]:
        """Counts and the ids and case ids of each group."""
        out: dict[str, Any] = {}
        for name in ("new", "fixed", "still_open", "unverified"):
            group: tuple[Attempt, ...] = getattr(self, name)
            out[name] = {"count": len(group),
                         "attempts": [{"id": a.id, "case": a.case.id, "strategy": a.strategy,
                                       "converters": a.converter_label} for a in group]}
        return out


def compare(current: Sequence[Attempt], baseline: Sequence[Attempt]) -> Comparison:
    """Set the successes of ``current`` against those of ``baseline``."""
    before = {a.id: a for a in baseline}
    now = {a.id: a for a in current}
    new = [a for a in current if a.success and not (a.id in before and before[a.id].success)]
    still = [a for a in current if a.success and a.id in before and before[a.id].success]
    fixed, unverified = [], []
    for old in baseline:
        if not old.success or (old.id in now and now[old.id].success):
            continue
        later = now.get(old.id)
        if later is not None and not undecided(later):
            fixed.append(later)
        else:
            unverified.append(later or old)
    return Comparison(tuple(new), tuple(fixed), tuple(still), tuple(unverified))
