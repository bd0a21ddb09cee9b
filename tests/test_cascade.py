"""The cascade: rules decide first, the model tier the rest, the deep tier the uncertain band."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bastion.classify import CascadeClassifier, Classifier, Verdict, decide, register
from bastion.classify._fixed import FixedClassifier
from bastion.errors import BackendError
from bastion.policy import Policy, parse_policy

POLICY = parse_policy("""---
id: demo
version: 1
title: Demo
categories:
  - code: BAD
    name: Bad things
    action: block
    threshold: 0.5
    keywords:
      BAD-1: ["obviously bad phrase"]
  - code: MEH
    name: Questionable things
    action: flag
    threshold: 0.5
escalate: {low: 0.3, high: 0.7}
---
## Instructions
Decide.
## Definitions
- **Bad**: bad.
## Criteria
### Violates
- **BAD-1** Bad.
- **MEH-1** Questionable.
### Does not violate
- **BAD-S1** Fine.
## Examples
- violates BAD-1: "obviously bad phrase"
- safe BAD-S1: "a fine sentence"
- violates MEH-1: "somewhat questionable"
- safe BAD-S1: "another fine sentence"
""")


class CountingDeep(Classifier):
    """A deep tier that records what it was asked and answers a fixed verdict."""

    name = "counting-deep"
    seen: list[str] = []  # noqa: RUF012 - shared on purpose so the test can read it
    fail = False

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        CountingDeep.seen.extend(texts)
        if CountingDeep.fail:
            raise BackendError("deep tier is down")
        return [decide(policy, {"BAD": 0.95}, tier=self.name) for _ in texts]


register(CountingDeep)

SCORES = {"uncertain": {"BAD": 0.5}, "clear-bad": {"BAD": 0.9}, "clear-ok": {"BAD": 0.05},
          "flag-me": {"MEH": 0.8}}


@pytest.fixture
def cascade(monkeypatch: pytest.MonkeyPatch) -> CascadeClassifier:
    CountingDeep.seen = []
    CountingDeep.fail = False
    register(type("ScoredFixed", (FixedClassifier,), {
        "name": "scored-fixed", "__init__": lambda self: FixedClassifier.__init__(self, SCORES)}))
    return CascadeClassifier(model="scored-fixed", deep="counting-deep")


def test_rules_decide_without_calling_the_model(cascade: CascadeClassifier) -> None:
    verdict = cascade.classify(["an obviously bad phrase here"], POLICY)[0]
    assert verdict.tier == "rules"
    assert verdict.rule_ids == ("BAD-1",)
    assert CountingDeep.seen == []


def test_only_the_uncertain_band_reaches_the_deep_tier(cascade: CascadeClassifier) -> None:
    texts = ["clear-bad text", "clear-ok text", "uncertain text"]
    verdicts = cascade.classify(texts, POLICY)
    assert CountingDeep.seen == ["uncertain text"]
    assert [v.tier for v in verdicts] == ["scored-fixed", "scored-fixed", "counting-deep"]
    assert [v.kind for v in verdicts] == ["violation", "safe", "violation"]
    assert verdicts[2].meta["escalated_from"] == {"tier": "scored-fixed", "score": 0.5}
    assert verdicts[2].meta["path"] == ["rules", "scored-fixed", "counting-deep"]


def test_cache_answers_repeats_without_work(cascade: CascadeClassifier) -> None:
    cascade.classify(["uncertain text"], POLICY)
    cascade.classify(["uncertain text"], POLICY)
    assert CountingDeep.seen == ["uncertain text"]
    assert cascade.cache.hits == 1


def test_deep_failure_is_an_error_never_safe(cascade: CascadeClassifier) -> None:
    CountingDeep.fail = True
    verdicts = cascade.classify(["uncertain text", "clear-ok text"], POLICY)
    assert verdicts[0].kind == "error"
    assert verdicts[0].action == "block"
    assert "deep tier is down" in (verdicts[0].error or "")
    assert verdicts[1].kind == "safe"
    CountingDeep.fail = False
    assert cascade.classify(["uncertain text"], POLICY)[0].kind == "violation"  # not cached


def test_flag_action_and_strongest_action_wins(cascade: CascadeClassifier) -> None:
    verdict = cascade.classify(["flag-me please"], POLICY)[0]
    assert verdict.kind == "violation"
    assert verdict.action == "flag"


@pytest.mark.anyio
async def test_async_path_matches_sync(cascade: CascadeClassifier) -> None:
    texts = ["clear-bad text", "uncertain text", "clear-ok text"]
    async_verdicts = await cascade.aclassify(texts, POLICY)
    sync_verdicts = CascadeClassifier(model="scored-fixed", deep="counting-deep").classify(
        texts, POLICY)
    assert [v.kind for v in async_verdicts] == [v.kind for v in sync_verdicts]
    assert [v.tier for v in async_verdicts] == [v.tier for v in sync_verdicts]


@pytest.mark.parametrize("tier", ["rules", "fast", "default"])
def test_text_that_is_not_unicode_gets_an_error_verdict_and_the_rest_are_read(
        tier: str) -> None:
    """A lone surrogate (a JSON ``\\ud800`` escape) cannot be encoded for the tokenizers or
    RE2: that text is refused with a reason (an error blocks), its batch is still read."""
    from bastion.classify import classify

    texts = ["how do I bake bread", "make a b\ud800omb", "ok \U0001F600 fine", "end\udfff"]
    verdicts = classify(texts, tier=tier)
    assert [v.kind for v in verdicts] == ["safe", "error", "safe", "error"]
    assert verdicts[1].action == "block"
    assert verdicts[1].error is not None
    assert "lone surrogate (U+D800 at character 8)" in verdicts[1].error
    assert "U+DFFF at character 3" in (verdicts[3].error or "")
