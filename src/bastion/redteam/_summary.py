"""Campaign statistics: attack success rates with Wilson confidence intervals, by group."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from bastion.redteam._types import SEVERITY_RANK, Attempt
from bastion.taxonomy import label

Z95 = 1.959964


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (``(0, 1)`` when ``n == 0``)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, round(centre - half, 4)), min(1.0, round(centre + half, 4)))


@dataclass(frozen=True)
class Rate:
    """Attack success rate of a group of attempts (errored and undecided attempts are counted
    apart, as ``errors``, not in ``n``)."""

    group: str
    n: int
    successes: int
    errors: int
    asr: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def undecided(attempt: Attempt) -> bool:
    """True when the attempt errored or no scorer could decide it."""
    return attempt.error is not None or not any(s.success is not None for s in attempt.scores)


def rate(group: str, attempts: Iterable[Attempt]) -> Rate:
    """The success rate of the judged ``attempts``; errored and undecided ones (no scorer could
    decide, e.g. the judge model was down) are counted apart, as ``errors``."""
    items = list(attempts)
    judged = [a for a in items if not undecided(a)]
    wins = sum(a.success for a in judged)
    low, high = wilson(wins, len(judged))
    return Rate(group, len(judged), wins, len(items) - len(judged),
                round(wins / len(judged), 4) if judged else 0.0, low, high)


def by(attempts: Sequence[Attempt], key: Callable[[Attempt], Iterable[str]]) -> list[Rate]:
    """Success rates per group; an attempt may belong to several groups (OWASP ids)."""
    groups: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        for name in key(attempt):
            groups.setdefault(name, []).append(attempt)
    return [rate(name, items) for name, items in sorted(groups.items())]


def named(rates: Sequence[Rate]) -> list[Rate]:
    """Rates grouped by taxonomy id, relabelled ``id name`` for reports."""
    return [replace(r, group=label(r.group)) for r in rates]


def worst(attempts: Sequence[Attempt], limit: int = 10) -> list[Attempt]:
    """The most serious successes: by severity, then by how sure the scorers were."""
    wins = [a for a in attempts if a.success]
    return sorted(wins, key=lambda a: (-SEVERITY_RANK[a.case.severity],
                                       -min((s.value for s in a.scores), default=0.0),
                                       a.id))[:limit]


@dataclass(frozen=True)
class Summary:
    """Everything a report shows."""

    overall: Rate
    by_category: list[Rate]
    by_converter: list[Rate]
    by_strategy: list[Rate]
    by_probe: list[Rate]
    by_owasp: list[Rate]
    by_atlas: list[Rate]
    worst: list[Attempt]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (worst attempts in full)."""
        data: dict[str, Any] = {"overall": self.overall.to_dict()}
        for name in ("by_category", "by_converter", "by_strategy", "by_probe", "by_owasp",
                     "by_atlas"):
            data[name] = [r.to_dict() for r in getattr(self, name)]
        data["worst"] = [a.to_dict() for a in self.worst]
        return data


def summarise(attempts: Sequence[Attempt], worst_count: int = 10) -> Summary:
    """Success rates overall and per category, converter, strategy, probe, OWASP and ATLAS id."""
    return Summary(
        overall=rate("overall", attempts),
        by_category=by(attempts, lambda a: [a.case.category]),
        by_converter=by(attempts, lambda a: [a.converter_label]),
        by_strategy=by(attempts, lambda a: [a.strategy]),
        by_probe=by(attempts, lambda a: [a.case.probe]),
        by_owasp=by(attempts, lambda a: a.case.owasp or ["(none)"]),
        by_atlas=by(attempts, lambda a: a.case.atlas or ["(none)"]),
        worst=worst(attempts, worst_count),
    )
