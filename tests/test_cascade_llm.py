"""The cascade with the ``llm`` tier as its deep tier, against the scripted model on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from bastion.classify import CascadeClassifier
from bastion.classify._fixed import FixedClassifier
from bastion.policy import Policy, parse_policy
from bastion.testing import Reply, ScriptedChatModel, json_answer, serve_on_loopback

POLICY_TEXT = """\
---
id: violence-mini
version: "1"
title: Violence (mini)
categories:
  - code: VIO
    name: Violence and threats
    action: block
    threshold: 0.5
    keywords:
      VIO-1: ["i will kill you"]
escalate:
  low: 0.3
  high: 0.7
---
# Violence (mini)

## Instructions
You are a content-safety classifier. Decide whether the content threatens a real person.

## Definitions
- **Threat**: a statement of intent to physically harm an identifiable person.

## Criteria
### Violates
- **VIO-1** Threatens to kill or injure a real person.

### Does not violate
- **VIO-S4** Figures of speech with no real intent.

## Examples
- violates VIO-1: "Keep talking and you won't walk home."
- safe VIO-S4: "My boss is going to kill me if this report is late."
"""

# What the fast (``fixed``) tier scores: below, inside and above the escalate band [0.3, 0.7).
FAST_SCORES = {
    "borderline": {"VIO": 0.5},
    "garbled": {"VIO": 0.4},
    "obvious": {"VIO": 0.95},
    "harmless": {"VIO": 0.05},
}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return parse_policy(POLICY_TEXT)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[ScriptedChatModel, str]]:
    model = ScriptedChatModel()
    with serve_on_loopback(model) as url:
        yield model, url


@pytest.fixture
def scripted(server: tuple[ScriptedChatModel, str]) -> ScriptedChatModel:
    model = server[0]
    model.clear()
    model.script("borderline", Reply(json_answer(
        True, "VIO", ("VIO-1",), 0.9, 'It says "you will regret it", a threat.')))
    model.script("garbled", Reply(mode="garbage"))
    return model


@pytest.fixture
def cascade(server: tuple[ScriptedChatModel, str]) -> Iterator[CascadeClassifier]:
    clf = CascadeClassifier(model="fixed", deep="llm", deep_options={
        "base_url": server[1], "model": "gpt-oss-safeguard-20b", "max_retries": 0,
        "timeout": 2.0,
    })
    # The cascade builds its model tier without options; give the fixed tier its table.
    clf.model = FixedClassifier(scores=FAST_SCORES)
    yield clf
    clf.close()


def test_only_the_uncertain_band_reaches_the_server(
    scripted: ScriptedChatModel, cascade: CascadeClassifier, policy: Policy,
) -> None:
    texts = ["harmless chat", "obvious attack", "borderline: you will regret it",
             "I will kill you"]
    verdicts = cascade.classify(texts, policy)
    [seen] = scripted.requests
    assert seen.body["messages"][1]["content"] == texts[2]
    assert [v.tier for v in verdicts] == ["fixed", "fixed", "llm", "rules"]
    assert [v.kind for v in verdicts] == ["safe", "violation", "violation", "violation"]
    deep = verdicts[2]
    assert deep.rule_ids == ("VIO-1",)
    assert deep.meta["escalated_from"] == {"tier": "fixed", "score": 0.5}
    assert deep.meta["path"] == ["rules", "fixed", "llm"]
    assert texts[2][deep.evidence[0].start:deep.evidence[0].end] == "you will regret it"


def test_a_deep_error_stays_an_error(
    scripted: ScriptedChatModel, cascade: CascadeClassifier, policy: Policy,
) -> None:
    [verdict] = cascade.classify(["garbled words"], policy)
    assert len(scripted.requests) == 1
    assert verdict.kind == "error"
    assert verdict.action == "block"
    assert verdict.tier == "llm"
    assert verdict.error is not None
    assert "no JSON object" in verdict.error
    cascade.classify(["garbled words"], policy)
    assert len(scripted.requests) == 2  # errors are not cached: the next call asks again


def test_cache_hit_avoids_a_second_request(
    scripted: ScriptedChatModel, cascade: CascadeClassifier, policy: Policy,
) -> None:
    text = "borderline: you will regret it"
    first = cascade.classify([text], policy)
    second = cascade.classify([text], policy)
    assert len(scripted.requests) == 1
    assert second == first
    assert cascade.cache.hits == 1


def test_async_cascade_uses_the_deep_tier_and_its_cache(
    scripted: ScriptedChatModel, cascade: CascadeClassifier, policy: Policy,
) -> None:
    texts = ["harmless chat", "borderline: you will regret it"]
    verdicts = anyio.run(cascade.aclassify, texts, policy)
    assert [v.tier for v in verdicts] == ["fixed", "llm"]
    assert len(scripted.requests) == 1
    [again] = cascade.classify([texts[1]], policy)
    assert again.tier == "llm"
    assert len(scripted.requests) == 1
