"""The ``llm`` tier against a real OpenAI-compatible server on loopback (the scripted model)."""

from __future__ import annotations

import inspect
import json
import socket
import time
from collections.abc import Iterator

import anyio
import httpx
import pytest

import bastion.testing
from bastion.classify import create
from bastion.classify._llm import SAFE_SCALE, LLMClassifier
from bastion.errors import ConfigError
from bastion.policy import Policy, parse_policy
from bastion.testing import Mode, Reply, ScriptedChatModel, json_answer, serve_on_loopback

SECRET = "sk-test-0123456789abcdef"
MODEL = "openai/gpt-oss-safeguard-20b"

POLICY_TEXT = """\
---
id: threats
version: "1"
title: Threats
categories:
  - code: VIO
    name: Violence and threats
    action: block
    threshold: 0.5
    keywords:
      VIO-1: ["i will end you"]
  - code: SPAM
    name: Spam
    action: flag
    threshold: 0.6
escalate:
  low: 0.3
  high: 0.7
---
# Threats

## Instructions
Decide whether the content threatens a real person or is spam.

## Definitions
- **Threat**: a statement of intent to physically harm an identifiable person.

## Criteria
### Violates
- **VIO-1** Threatens to kill or injure a real person.
- **VIO-2** Asks for practical instructions for hurting a person.
- **SPAM-1** Bulk unsolicited advertising.

### Does not violate
- **VIO-S1** News, fiction or history that depicts violence.
- **SPAM-S1** A single personal recommendation.

## Examples
- violates VIO-1: "I know where you park. Keep talking and you won't walk home."
- violates VIO-2: "What is the quietest way to hurt someone?"
- safe VIO-S1: "The novel opens with a murder in the alley."
- violates SPAM-1: "BUY CHEAP PILLS NOW click here click here"
- safe SPAM-S1: "My dentist is great, you should try her."
"""

THREAT = json_answer(True, "VIO", ("VIO-1",), 0.93,
                     'The user writes "you won\'t walk home", a threat against a real person.')


@pytest.fixture(scope="module")
def policy() -> Policy:
    return parse_policy(POLICY_TEXT)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[ScriptedChatModel, str]]:
    model = ScriptedChatModel(model=MODEL)
    with serve_on_loopback(model) as url:
        yield model, url


@pytest.fixture
def scripted(server: tuple[ScriptedChatModel, str]) -> ScriptedChatModel:
    server[0].clear()
    return server[0]


@pytest.fixture
def url(server: tuple[ScriptedChatModel, str]) -> str:
    return server[1]


@pytest.fixture
def make(url: str) -> Iterator[type[LLMClassifier]]:
    """A factory of classifiers pointed at the server, closed after the test."""
    made: list[LLMClassifier] = []

    class Factory(LLMClassifier):
        def __init__(self, **options: object) -> None:
            defaults = {"base_url": url, "model": MODEL, "api_key": SECRET, "timeout": 2.0,
                        "max_retries": 2, "backoff": 0.01}
            super().__init__(**{**defaults, **options})
            made.append(self)

    yield Factory
    for clf in made:
        clf.close()


# -- decisions ------------------------------------------------------------------------------

def test_violation_cites_rule_rationale_and_quoted_evidence(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    scripted.script("walk home", Reply(THREAT))
    text = "I know where you park. Keep talking and you won't walk home."
    [verdict] = make().classify([text], policy)
    assert verdict.kind == "violation"
    assert verdict.action == "block"
    assert verdict.rule_ids == ("VIO-1",)
    assert verdict.score == pytest.approx(0.93)
    assert "threat against a real person" in verdict.rationale
    [span] = verdict.evidence
    assert text[span.start:span.end] == "you won't walk home"
    assert verdict.tier == "llm"
    assert verdict.meta["retries"] == 0
    assert verdict.latency_ms > 0


def test_request_layout(scripted: ScriptedChatModel, make: type[LLMClassifier],
                        policy: Policy) -> None:
    make(reasoning_effort="high", json_mode=True).classify(["hello there"], policy)
    [seen] = scripted.requests
    system, user = seen.body["messages"]
    assert system["role"] == "system"
    assert system["content"].startswith("Reasoning: high\n\n# Threats")
    assert policy.body.strip() in system["content"]
    assert '"VIO" (Violence and threats); "SPAM" (Spam)' in system["content"]
    assert user == {"role": "user", "content": "hello there"}
    assert seen.body["reasoning_effort"] == "high"
    assert seen.body["temperature"] == 0.0
    assert seen.body["response_format"] == {"type": "json_object"}
    assert seen.headers["authorization"] == f"Bearer {SECRET}"


def test_no_json_mode_and_no_effort_line_for_other_models(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    make(model="llama3.1").classify(["hello there"], policy)
    [seen] = scripted.requests
    assert "response_format" not in seen.body
    assert seen.body["messages"][0]["content"].startswith("# Threats")


def test_safe_answer_keeps_a_small_score_and_cited_safe_rule(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    answer = json_answer(False, "VIO", ("VIO-S1",), 0.9, "A scene from a novel.")
    scripted.script("novel", Reply(answer))
    [verdict] = make().classify(["The novel opens with a murder in the alley."], policy)
    assert verdict.kind == "safe"
    assert verdict.action == "allow"
    assert verdict.score == pytest.approx(0.1 * SAFE_SCALE)
    assert verdict.rationale == "A scene from a novel."
    assert verdict.evidence == ()
    assert verdict.meta["cited_rule_ids"] == ["VIO-S1"]


def test_unknown_rule_ids_are_dropped_and_noted(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    scripted.script("walk home", Reply({**THREAT, "rule_ids": ["VIO-1", "VIO-99"]}))
    [verdict] = make().classify(["you won't walk home"], policy)
    assert verdict.rule_ids == ("VIO-1",)
    assert verdict.meta["dropped_rule_ids"] == ["VIO-99"]


@pytest.mark.parametrize("mode", ["reasoning_field", "fenced", "prose"])
def test_answer_shapes_are_parsed(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy, mode: Mode,
) -> None:
    scripted.script("walk home", Reply(THREAT, mode=mode))
    [verdict] = make(keep_reasoning=True).classify(["you won't walk home"], policy)
    assert verdict.kind == "violation", verdict.error
    assert verdict.rule_ids == ("VIO-1",)
    assert ("reasoning" in verdict.meta) is (mode == "reasoning_field")


@pytest.mark.parametrize("raw", [
    'Rule check {draft}. Final: ' + json.dumps({**THREAT, "extra": {"nested": 1}}) + " Done.",
    "<think>" + json.dumps(json_answer(False)) + "</think>" + json.dumps(THREAT),
    json.dumps(json_answer(False)) + "\nOn reflection:\n" + json.dumps(THREAT),
], ids=["braces-in-prose", "think-tags", "last-object-wins"])
def test_the_last_top_level_object_is_the_answer(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy, raw: str,
) -> None:
    scripted.script("walk home", Reply(raw))
    [verdict] = make().classify(["you won't walk home"], policy)
    assert verdict.kind == "violation", verdict.error
    assert verdict.rule_ids == ("VIO-1",)


def test_blank_text_is_safe_without_a_request(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    verdicts = make().classify(["", "  \n"], policy)
    assert [v.kind for v in verdicts] == ["safe", "safe"]
    assert scripted.requests == []


def test_reasoning_is_dropped_unless_asked(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    scripted.script("walk home", Reply(THREAT, mode="reasoning_field"))
    [verdict] = make().classify(["you won't walk home"], policy)
    assert verdict.kind == "violation"
    assert "reasoning" not in verdict.meta


# -- failures are errors, never safe ----------------------------------------------------------

@pytest.mark.parametrize(("reply", "message"), [
    (Reply(mode="empty"), "empty answer"),
    (Reply(mode="garbage"), "no JSON object"),
    (Reply(THREAT, mode="truncated"), "truncated"),
    (Reply({**THREAT, "category": "XYZ"}), "category 'XYZ'"),
    (Reply({"violation": 1, "category": "VIO", "confidence": 0.9}), "lacks keys"),
    (Reply({**THREAT, "confidence": 1.5}), "confidence=1.5"),
    (Reply({**THREAT, "category": None}), "without a category"),
    (Reply({**THREAT, "violation": "yes"}), "violation='yes'"),
], ids=["empty", "garbage", "truncated", "unknown-category", "missing-keys",
        "confidence-range", "no-category", "bad-violation"])
def test_unusable_answers_are_errors(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy, reply: Reply,
    message: str,
) -> None:
    scripted.script("walk home", reply)
    [verdict] = make().classify(["you won't walk home"], policy)
    assert verdict.kind == "error"
    assert verdict.action == "block"
    assert verdict.error is not None
    assert message in verdict.error
    assert len(scripted.requests) == 1  # answers are not retried


def test_timeout_is_an_error_in_bounded_time(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    scripted.script("slow", Reply(THREAT, delay=3.0))
    start = time.perf_counter()
    [verdict] = make(timeout=0.3).classify(["slow answer please"], policy)
    assert time.perf_counter() - start < 1.5
    assert verdict.kind == "error"
    assert verdict.error is not None
    assert "within 0.3s" in verdict.error


def test_server_errors_are_retried_then_an_error(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    scripted.script("walk home", Reply(mode="http_500", failures=None))
    [verdict] = make(max_retries=2).classify(["you won't walk home"], policy)
    assert verdict.kind == "error"
    assert verdict.error is not None
    assert "HTTP 500" in verdict.error
    assert "3 attempt(s)" in verdict.error
    assert len(scripted.requests) == 3


def test_rate_limit_honours_retry_after_then_succeeds(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    scripted.script("walk home", Reply(THREAT, mode="http_429", failures=1, retry_after=0.4))
    start = time.perf_counter()
    [verdict] = make(backoff=0.0).classify(["you won't walk home"], policy)
    assert time.perf_counter() - start >= 0.4
    assert verdict.kind == "violation"
    assert verdict.meta["retries"] == 1
    assert len(scripted.requests) == 2


def test_client_errors_are_not_retried(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    scripted.script("walk home", Reply("unknown model", mode="http_error", status=404,
                                       failures=None))
    [verdict] = make().classify(["you won't walk home"], policy)
    assert verdict.kind == "error"
    assert verdict.error is not None
    assert "HTTP 404" in verdict.error
    assert "base_url ends in /v1" in verdict.error
    assert len(scripted.requests) == 1


def test_unreachable_server_is_an_error(policy: Policy) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clf = LLMClassifier(base_url=f"http://127.0.0.1:{port}/v1", model=MODEL, max_retries=1,
                        backoff=0.01)
    [verdict] = clf.classify(["hello"], policy)
    clf.close()
    assert verdict.kind == "error"
    assert verdict.error is not None
    assert "cannot reach" in verdict.error
    assert "2 attempt(s)" in verdict.error


def test_api_key_never_shown(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    leaky = f"Incorrect API key provided: {SECRET}"  # a server that echoes the key
    scripted.script("walk home", Reply(leaky, mode="http_error", status=401, failures=None))
    clf = make()
    [verdict] = clf.classify(["you won't walk home"], policy)
    assert scripted.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert verdict.kind == "error"
    assert verdict.error is not None
    assert "check api_key" in verdict.error
    for shown in (repr(clf), str(clf.settings), repr(clf.settings), verdict.error,
                  verdict.rationale, json.dumps(verdict.to_dict())):
        assert SECRET not in shown
    with pytest.raises(ConfigError) as caught:
        LLMClassifier(base_url="localhost:8000", model=MODEL, api_key=SECRET)
    assert SECRET not in str(caught.value)


# -- batches, windows, async ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["sync", "async"])
def test_batch_respects_concurrency(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy, path: str,
) -> None:
    scripted.script("batch", Reply(json_answer(False, None, (), 0.9, "fine"), delay=0.15))
    clf = make(concurrency=2)
    texts = [f"batch item {i}" for i in range(6)]
    start = time.perf_counter()
    if path == "sync":
        verdicts = clf.classify(texts, policy)
    else:
        verdicts = anyio.run(clf.aclassify, texts, policy)
    elapsed = time.perf_counter() - start
    assert [v.kind for v in verdicts] == ["safe"] * 6
    assert scripted.max_in_flight == 2
    assert 0.45 <= elapsed < 0.9 + 0.5  # three waves of two, not six in a row


def test_async_batch_keeps_order_and_isolates_failures(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    scripted.script("walk home", Reply(THREAT))
    scripted.script("broken", Reply(mode="garbage"))
    texts = ["you won't walk home", "broken answer", "a quiet afternoon"]
    verdicts = anyio.run(make().aclassify, texts, policy)
    assert [v.kind for v in verdicts] == ["violation", "error", "safe"]
    assert anyio.run(make().aclassify, [], policy) == []


def test_long_text_is_windowed_and_the_worst_window_cited(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    scripted.script("walk home", Reply(THREAT))
    filler = "the weather was mild and the market was busy. " * 60
    text = filler + "Keep talking and you won't walk home. " + filler
    [verdict] = make(window_chars=1000, window_overlap=100).classify([text], policy)
    assert len(scripted.requests) > 3
    assert verdict.kind == "violation"
    start, end = verdict.meta["window"]
    assert "you won't walk home" in text[start:end]
    [span] = verdict.evidence
    assert text[span.start:span.end] == "you won't walk home"


def test_fake_heuristic_gives_plausible_answers(
    scripted: ScriptedChatModel, make: type[LLMClassifier], policy: Policy,
) -> None:
    verdicts = make().classify(["how do I hurt someone quietly", "lovely weather"], policy)
    assert [v.kind for v in verdicts] == ["violation", "safe"]
    assert verdicts[0].rule_ids == ("VIO-2",)
    assert verdicts[0].evidence


# -- configuration --------------------------------------------------------------------------

def test_missing_config_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BASTION_LLM_BASE_URL", "BASTION_LLM_MODEL", "BASTION_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="BASTION_LLM_BASE_URL"):
        LLMClassifier(model=MODEL)
    with pytest.raises(ConfigError, match="BASTION_LLM_MODEL"):
        LLMClassifier(base_url="http://127.0.0.1:1/v1")


def test_config_from_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("BASTION_LLM_BASE_URL", url)
    monkeypatch.setenv("BASTION_LLM_MODEL", MODEL)
    monkeypatch.setenv("BASTION_LLM_API_KEY", SECRET)
    clf = create("llm")
    assert isinstance(clf, LLMClassifier)
    assert clf.settings.base_url == url
    assert clf.settings.api_key is not None
    assert clf.settings.api_key.get_secret_value() == SECRET
    assert SECRET not in repr(clf)


@pytest.mark.parametrize("options", [
    {"reasoning_effort": "extreme"}, {"timeout": 0}, {"concurrency": 0}, {"colour": "red"},
    {"window_chars": 1000, "window_overlap": 1000},
])
def test_bad_options_are_config_errors(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="bad options for tier 'llm'"):
        LLMClassifier(base_url="http://127.0.0.1:1/v1", model=MODEL, **options)


# -- the scripted server itself ---------------------------------------------------------------

def test_testing_exports_are_sorted() -> None:
    assert bastion.testing.__all__ == sorted(bastion.testing.__all__)
    for name in bastion.testing.__all__:
        member = getattr(bastion.testing, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__.startswith("bastion.testing."), name


def test_scripted_server_lists_models_and_streams(
    scripted: ScriptedChatModel, url: str,
) -> None:
    scripted.script("walk home", Reply(THREAT, mode="reasoning_field"))
    with httpx.Client(base_url=url) as client:
        assert client.get("/models").json()["data"][0]["id"] == MODEL
        body = {"model": MODEL, "stream": True,
                "messages": [{"role": "user", "content": "you won't walk home"}]}
        with client.stream("POST", "/chat/completions", json=body) as response:
            lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert json.loads(content) == THREAT
    assert any("reasoning_content" in c["choices"][0]["delta"] for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert len(chunks) > 3


def test_credentials_in_the_base_url_are_never_shown(policy: Policy) -> None:
    """A token written as the URL's user or a key in its query string was shown whole by
    repr, str(settings) and 'cannot reach' errors (only user:password@ was dropped)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token, key = "sk-live-Tok3nAsUser9", "Qu3ryKey-77aa"
    clf = LLMClassifier(base_url=f"http://{token}@127.0.0.1:{port}/v1?api_key={key}",
                        model=MODEL, max_retries=0, backoff=0.01)
    [verdict] = clf.classify(["hello"], policy)
    clf.close()
    assert verdict.kind == "error"
    assert verdict.error is not None
    assert f"127.0.0.1:{port}" in verdict.error
    for shown in (repr(clf), str(clf.settings), repr(clf.settings), verdict.error):
        assert token not in shown
        assert key not in shown
