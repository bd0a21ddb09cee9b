"""An HTTP target's answer with no reply in it (an empty body, nothing at ``response_path``) is
an error attempt the gate counts, never an empty reply scored as a refusal or as no leak,
which lowered the attack success rate without a word (issue 9, real targets)."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest

from bastion.redteam import Campaign, Message, Reply, TargetError, make_config
from bastion.redteam._gate import health
from bastion.redteam.targets._http import HttpTarget

_KEY = "sk-live-9f8e7d6c5b4a"


def _target(status: int = 200, content: bytes = b"", **options: Any) -> HttpTarget:
    answer = httpx.Response(status, content=content,
                            headers={"content-type": "application/json"})
    return HttpTarget("https://bot.test/chat", headers={"Authorization": f"Bearer {_KEY}"},
                      transport=httpx.MockTransport(lambda request: answer), **options)


def _send(target: HttpTarget) -> Reply:
    return anyio.run(target.send, [Message("user", "hi")])


@pytest.mark.parametrize(("status", "content", "options", "says"), [
    (200, b"", {}, "answered HTTP 200 with an empty body: no reply at option 'response_path' "
                   "'response'"),
    (200, b" \n", {}, "answered HTTP 200 with an empty body"),
    (204, b"", {}, "answered HTTP 204 with an empty body"),
    (200, b"", {"response_path": ""}, "with an empty body: no reply (option 'response_path' "
                                      "is empty: the body is the reply)"),
    (200, b'{"answer": "hi"}', {}, "at option 'response_path' 'response': response has no "
                                   "'response'"),
    (200, b'{"response": null}', {}, "at option 'response_path' 'response': the answer holds "
                                     "null"),
    (200, b'{"response": ""}', {}, "holds \"\" at option 'response_path' 'response'"),
    (200, b'{"data": {"text": "  "}}', {"response_path": "data.text"},
     "holds \"  \" at option 'response_path' 'data.text'"),
    (200, b'{"response": []}', {}, "holds [] at option 'response_path' 'response'"),
])
def test_an_answer_with_no_reply_is_an_error_naming_the_path_and_what_came_back(
        status: int, content: bytes, options: dict[str, Any], says: str) -> None:
    with pytest.raises(TargetError) as info:
        _send(_target(status, content, **options))
    assert says in str(info.value)
    assert "not a refusal" in str(info.value) or "begins" in str(info.value)


def test_what_came_back_is_shown_cut_and_without_the_targets_key() -> None:
    # The key ends past the 120 characters shown: cut first, its first half was shown.
    echoed = json.dumps({"response": "", "debug": "-" * 80 + f"auth={_KEY}",
                         "padding": "x" * 500}).encode()
    with pytest.raises(TargetError) as info:
        _send(_target(200, echoed))
    said = str(info.value)
    assert _KEY not in said
    assert _KEY[:8] not in said
    assert "auth=[redact" in said
    assert "x" * 200 not in said, "the answer is cut"


def test_a_reply_of_text_and_one_that_is_a_number_are_still_read() -> None:
    assert _send(_target(200, b'{"response": "no"}')).text == "no"
    assert _send(_target(200, b'{"response": 0}')).text == "0"
    assert _send(_target(200, b"plain words", response_path="")).text == "plain words"


def test_an_application_that_answers_empty_text_for_a_block_can_say_so() -> None:
    reply = _send(_target(200, b'{"response": ""}', blocked_path="response",
                          blocked_value=""))
    assert reply.blocked
    assert _send(_target(200, b'{"response": "hi"}', blocked_path="response",
                         blocked_value="")).text == "hi"
    assert _send(_target(204, blocked_status=[204])).blocked


def test_a_campaign_against_an_endpoint_answering_empty_text_errors_and_fails_the_gate() -> None:
    # Before, each attempt at the leak probe was judged 'leak: no planted secret in any
    # response', a defended target: the gate passed (no breach) on answers holding nothing.
    config = make_config(target="http", probes=["system_prompt_extraction"], limit=3,
                         retries=0, seed=3)
    target = _target(200, b'{"response": ""}', canaries=["ACCT-77123"])
    attempts = anyio.run(Campaign(config, target=target).run)
    assert len(attempts) == 3
    assert all(a.error and "holds \"\" at option 'response_path'" in a.error for a in attempts)
    assert not any(a.success for a in attempts)
    (breach,) = [b for b in health(attempts, {}) if b.grouping == "errors"]
    assert breach.asr == 1.0
