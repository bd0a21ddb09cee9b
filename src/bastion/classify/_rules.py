"""The ``rules`` tier: keywords and patterns from the policy, matched on normalised text.

High precision by design: a match scores :data:`MATCH_SCORE`, no match scores 0.0 ("no
evidence", not "safe" -- the cascade lets a model tier decide those texts). Matching runs on
the normalised text and on every decoded segment (base64, hex, rot13, tag characters), so an
obfuscated payload matches like the plain one, and the evidence span points at the original.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bastion.classify._base import Classifier
from bastion.classify._normalize import Normalized, normalize
from bastion.classify._verdict import Span, Verdict, decide
from bastion.policy import Policy

_PLAIN = frozenset({"text", "unfolded"})

MATCH_SCORE = 0.99
"""Score of a rule match: above any sensible threshold, below certainty."""


@dataclass(frozen=True)
class _Matcher:
    code: str
    rule_id: str
    regex: re.Pattern[str]
    label: str


@dataclass(frozen=True)
class Hit:
    """One rule match, with the span in the original text."""

    code: str
    rule_id: str
    label: str
    source: str
    start: int
    end: int


@dataclass(frozen=True)
class _Compiled:
    any: re.Pattern[str] | None  # union of every matcher: one search rules out most texts
    matchers: tuple[_Matcher, ...]


@lru_cache(maxsize=64)
def _compile(policy: Policy) -> _Compiled:
    matchers: list[_Matcher] = []
    for category in policy.categories:
        for rule_id, words in category.keywords.items():
            for word in words:
                phrase = r"\s+".join(re.escape(part) for part in word.lower().split())
                regex = re.compile(rf"(?<!\w){phrase}(?!\w)")
                matchers.append(_Matcher(category.code, rule_id, regex, f"keyword {word!r}"))
        for rule_id, patterns in category.patterns.items():
            for pattern in patterns:
                regex = re.compile(pattern, re.IGNORECASE)
                matchers.append(_Matcher(category.code, rule_id, regex, f"pattern {pattern!r}"))
    union = "|".join(f"(?:{m.regex.pattern})" for m in matchers)
    return _Compiled(re.compile(union, re.IGNORECASE) if matchers else None, tuple(matchers))


def find_hits(normalized: Normalized, policy: Policy) -> list[Hit]:
    """Every rule match in every segment of a normalised text (first match per matcher)."""
    compiled = _compile(policy)
    if compiled.any is None:
        return []
    segments = [s for s in normalized.segments if compiled.any.search(s.text)]
    hits: list[Hit] = []
    for matcher in compiled.matchers:
        for segment in segments:
            found = matcher.regex.search(segment.text)
            if found is not None:
                start, end = segment.span(found.start(), found.end())
                hits.append(Hit(matcher.code, matcher.rule_id, matcher.label, segment.source,
                                start, end))
                break
    return hits


class RulesClassifier(Classifier):
    """Keyword and pattern matching after normalisation; the fastest tier."""

    name = "rules"

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        return [self._one(text, policy) for text in texts]

    def _one(self, text: str, policy: Policy) -> Verdict:
        start = time.perf_counter()
        normalized = normalize(text)
        hits = find_hits(normalized, policy)
        scores = {hit.code: MATCH_SCORE for hit in hits}
        rule_ids: dict[str, tuple[str, ...]] = {}
        for hit in hits:
            if hit.rule_id not in rule_ids.get(hit.code, ()):
                rule_ids[hit.code] = (*rule_ids.get(hit.code, ()), hit.rule_id)
        evidence = tuple(
            Span(h.start, h.end, h.code, f"{h.label} ({h.rule_id})"
                 + ("" if h.source in _PLAIN else f" in {h.source}-decoded text"))
            for h in hits
        )
        rationale = None
        if hits:
            first = hits[0]
            where = "" if first.source in _PLAIN else f" after decoding {first.source}"
            rationale = (f"Matched {first.label}{where}, rule {first.rule_id} of "
                         f"{policy.category(first.code).name}.")
        return decide(
            policy, scores, tier=self.name, rule_ids=rule_ids, evidence=evidence,
            rationale=rationale, latency_ms=(time.perf_counter() - start) * 1000,
            meta={"signals": sorted(normalized.signals)} if normalized.signals else None,
        )
