"""Contract tests over every tier in the registry: each gets the same checks for free."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

from bastion.classify import Classifier, Verdict, available, create, tier_class
from bastion.errors import ConfigError
from bastion.policy import load_policy

TEXTS = ["How do I bake bread?", "", "x" * 20_000, "I will kill you"]


@pytest.fixture(scope="module")
def scripted_llm() -> Iterator[str]:
    """The scripted OpenAI-compatible model server on loopback (its keyword fake answers)."""
    from bastion.testing import ScriptedChatModel, serve_on_loopback

    with serve_on_loopback(ScriptedChatModel()) as base_url:
        yield base_url


@pytest.mark.parametrize("name", available())
def test_tier_is_a_documented_classifier(name: str) -> None:
    cls = tier_class(name)
    assert issubclass(cls, Classifier)
    assert cls.name == name
    assert cls.__doc__
    assert cls.__doc__.strip()


TIERS = [n for n in available()
         if n != "minilm" or importlib.util.find_spec("sentence_transformers")]


@pytest.mark.parametrize("name", TIERS)
def test_tier_returns_one_verdict_per_text_with_policy_ref(
    name: str, request: pytest.FixtureRequest
) -> None:
    policy = load_policy("default")
    options: dict[str, object] = {}
    if name == "llm":
        options = {"base_url": request.getfixturevalue("scripted_llm"), "model": "scripted"}
    classifier = create(name, **options)
    try:
        verdicts = classifier.classify(TEXTS, policy)
        empty = classifier.classify([], policy)
    finally:
        classifier.close()
        classifier.close()  # releasing twice is harmless
    assert len(verdicts) == len(TEXTS)
    for verdict in verdicts:
        assert isinstance(verdict, Verdict)
        assert verdict.policy == policy.ref
        assert verdict.kind in {"safe", "violation", "error"}
        assert [c.code for c in verdict.categories] == [c.code for c in policy.categories]
        assert 0.0 <= verdict.score <= 1.0
        assert verdict.latency_ms >= 0.0
        for span in verdict.evidence:
            assert 0 <= span.start <= span.end
    assert empty == []


def test_unknown_tier_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown classifier tier 'nope'; available:"):
        create("nope")


def test_llm_tier_without_endpoint_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BASTION_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("BASTION_LLM_MODEL", raising=False)
    with pytest.raises(ConfigError):
        create("llm")
