"""The ``fixed`` tier: a test double that returns verdicts decided in advance.

Use it in tests and demos where a real model would be slow or unavailable: map substrings to
category scores, optionally fail on a marker. It is a real plugin, registered like any other.
"""

from __future__ import annotations

from collections.abc import Sequence

from bastion.classify._base import Classifier
from bastion.classify._verdict import Span, Verdict, decide
from bastion.errors import BackendError
from bastion.policy import Policy


class FixedClassifier(Classifier):
    """Scores texts from a table of substrings; no model.

    Args:
        scores: ``{substring: {category_code: score}}``; the first substring found decides.
        fail_on: a substring that makes the whole batch fail as a backend error would.
    """

    name = "fixed"

    def __init__(self, scores: dict[str, dict[str, float]] | None = None,
                 fail_on: str | None = None) -> None:
        self.scores = scores or {}
        self.fail_on = fail_on

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        if self.fail_on is not None and any(self.fail_on in t for t in texts):
            raise BackendError(f"fixed tier told to fail on {self.fail_on!r}")
        return [self._one(text, policy) for text in texts]

    def _one(self, text: str, policy: Policy) -> Verdict:
        for needle, scores in self.scores.items():
            at = text.find(needle)
            if at >= 0:
                evidence = tuple(Span(at, at + len(needle), code) for code in scores)
                return decide(policy, scores, tier=self.name, evidence=evidence)
        return decide(policy, {}, tier=self.name)
