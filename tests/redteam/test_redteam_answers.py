"""Odd answers from a target end one attempt with an error that says what came back and how to
fix it; they never crash the campaign (session 32's black-box pass, /tmp/s32/h9/catalogue.md)."""

from __future__ import annotations

import datetime
import email.utils
import gzip
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
import httpx
import pytest

from bastion.errors import ConfigError
from bastion.redteam import Campaign, Message, TargetError, make_config
from bastion.redteam._registry import create
from bastion.redteam._session import MAX_REPLY
from bastion.redteam.targets._callable import CallableTarget
from bastion.redteam.targets._http import HttpTarget
from bastion.redteam.targets._openai import OpenAITarget
from bastion.redteam.targets._template import json_path


def _openai(status: int, **answer: Any) -> OpenAITarget:
    return OpenAITarget("http://model.test/v1", transport=httpx.MockTransport(
        lambda request: httpx.Response(status, **answer)))


@pytest.mark.parametrize(("status", "answer", "says"), [
    (200, {"json": {"choices": [{"message": "hi"}]}}, "not a chat completion"),
    (200, {"json": {"choices": ["hi"]}}, "not a chat completion"),
    (200, {"json": [1, 2]}, "not a chat completion"),
    (200, {"json": {"choices": []}}, "not a chat completion"),
    (200, {"text": "<html>login</html>"}, "not JSON"),
    (400, {"json": [1]}, "HTTP 400"),
    (403, {"json": {"error": "denied"}}, "HTTP 403"),
])
def test_an_openai_answer_of_another_shape_is_a_target_error(
        status: int, answer: dict[str, Any], says: str) -> None:
    # A message that was a string, or a 400 whose body was a list, raised AttributeError:
    # the campaign stopped with a traceback.
    with pytest.raises(TargetError) as info:
        anyio.run(_openai(status, **answer).send, [Message("user", "hi")])
    assert says in str(info.value)
    if status == 200:
        assert "'/v1'" in str(info.value), "the message says how to fix it"


def test_tool_calls_of_another_shape_are_skipped() -> None:
    message = {"content": "ok", "tool_calls": ["x", {"function": "f"},
                                               {"function": {"name": "g", "arguments": "{}"}}]}
    reply = anyio.run(_openai(200, json={"choices": [{"message": message}]}).send,
                      [Message("user", "hi")])
    assert reply.text == 'ok\n<tool_call name="g">{}</tool_call>'


def test_a_campaign_against_a_target_giving_odd_answers_finishes_with_errors() -> None:
    config = make_config(target="openai", probes=["injection_direct"], retries=0,
                         harm_tier="rules")
    target = _openai(200, json={"choices": [{"message": "hi"}]})
    attempts = anyio.run(Campaign(config, target=target).run)
    assert attempts
    assert all("not a chat completion" in (a.error or "") for a in attempts)


def _http(handler: Any, **options: Any) -> HttpTarget:
    return HttpTarget("http://app.test/chat", transport=httpx.MockTransport(handler), **options)


def _send(target: HttpTarget) -> str:
    return anyio.run(target.send, [Message("user", "hi")]).text


@pytest.mark.parametrize("body", ['{"prompt": "{prompt}"', '{"prompt": {prompt}}',
                                  '{"q": "{prompt}",}'])
def test_an_http_body_that_is_not_json_once_filled_is_refused_before_any_request(
        body: str) -> None:
    # It was sent broken with every attempt (a lenient server even answered it).
    with pytest.raises(ConfigError, match=r"'body' is not JSON once its slots are filled.*"
                                          r"inside quotes"):
        _http(lambda r: httpx.Response(200, json={"response": "ok"}), body=body)


@pytest.mark.parametrize("body", ['{"history": {messages}, "id": "{session_id}"}',
                                  '{"messages": "{messages}", "sys": "{system}"}',
                                  '[{"q": "{prompt}", "docs": "{context}"}]'])
def test_json_bodies_with_every_slot_form_are_accepted(body: str) -> None:
    _http(lambda r: httpx.Response(200, json={"response": "ok"}), body=body,
          system_prompt="Be kind.")


def test_an_http_url_without_a_scheme_is_refused_before_any_request() -> None:
    with pytest.raises(ConfigError, match="must start with http:// or https://"):
        HttpTarget("127.0.0.1:8207/chat")


def test_an_http_timeout_says_so_and_names_the_option() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("", request=request)

    with pytest.raises(TargetError) as info:
        _send(_http(slow, timeout=1.5))
    # It read 'cannot reach http://app.test/chat: ' (a timeout's text is empty).
    assert "did not answer within 1.5 s" in str(info.value)
    assert "-T timeout=" in str(info.value)
    assert info.value.retryable


def test_an_http_answer_that_is_not_json_says_so_and_how_to_read_plain_text() -> None:
    with pytest.raises(TargetError) as info:
        _send(_http(lambda r: httpx.Response(200, text="<html>Sign in</html>")))
    assert "is not JSON" in str(info.value)
    assert "<html>Sign in" in str(info.value)
    assert "-T response_path=" in str(info.value)


def test_a_json_answer_in_another_encoding_is_read_not_refused() -> None:
    answer = httpx.Response(200, content=b'{"response": "caf\xe9 ok"}',
                            headers={"content-type": "application/json"})
    assert _send(_http(lambda r: answer)) == "caf\ufffd ok"


def test_a_wrong_response_path_names_what_is_there() -> None:
    with pytest.raises(TargetError) as info:
        _send(_http(lambda r: httpx.Response(200, json={"response": "ok", "id": 3}),
                    response_path="data.text"))
    assert "there it has keys ['id', 'response']" in str(info.value)


def test_a_huge_reply_is_kept_cut_with_how_much_was_left_out(tmp_path: Path) -> None:
    # A 50 MB answer put 50 MB per attempt into the log (100 MB for two attempts).
    huge = "A" * 3_000_000
    target = _http(lambda r: httpx.Response(200, json={"response": huge}))
    config = make_config(target="http", probes=["consumption"], scorers=["consumption"],
                         retries=0, limit=1)
    log = tmp_path / "run.jsonl"
    (attempt,) = anyio.run(Campaign(config, target=target).run, log)
    (turn,) = attempt.turns
    assert turn.response.startswith("A" * MAX_REPLY)
    assert turn.response.endswith("[... 2,900,000 more characters not kept]")
    assert log.stat().st_size < 2 * MAX_REPLY
    assert attempt.success, "still unbounded output for the consumption scorer"


@pytest.mark.parametrize(("body", "near"), [
    ('{"prompt": "{prompt}", "sid": "{sesion_id}"}', "{session_id}"),
    ('{"prompt": "{prompt}", "docs": "{contxt}"}', "{context}"),
    ('{"prompt": "{prompt}", "user": "{user}"}', None),
])
def test_a_slot_the_http_target_does_not_fill_is_refused_naming_the_near_one(
        body: str, near: str | None) -> None:
    # '{sesion_id}' was sent to the server as written, every request.
    with pytest.raises(ConfigError, match="does not fill") as info:
        _http(lambda r: httpx.Response(200, json={"response": "ok"}), body=body)
    assert (f"did you mean {near}?" in str(info.value)) if near else "did you mean" not in \
        str(info.value)


def test_a_form_body_gets_its_content_type_and_url_encoded_values() -> None:
    # The Content-Type given in 'headers' was sent beside Bastion's 'text/plain', which the
    # server read, and a prompt's '&' and '=' were sent raw, cutting the form's fields.
    seen: list[httpx.Request] = []

    def form(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    target = _http(form, body="q={prompt}&lang=en", response_path="",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    prompt = "a & b = c + 100% ?"
    anyio.run(target.send, [Message("user", prompt)])
    (request,) = seen
    assert request.headers.get_list("content-type") == ["application/x-www-form-urlencoded"]
    assert parse_qs(request.content.decode()) == {"q": [prompt], "lang": ["en"]}


@pytest.mark.parametrize(("status", "option"), [
    (401, "'headers'"), (403, "'blocked_status'"), (404, "'url'"), (405, "'method'")])
def test_an_http_status_the_configuration_causes_names_the_option_and_the_body(
        status: int, option: str) -> None:
    # It said only 'http://app.test/chat answered HTTP 404'.
    with pytest.raises(TargetError) as info:
        _send(_http(lambda r: httpx.Response(status, text="no such route: /chat")))
    assert f"answered HTTP {status}: 'no such route: /chat'; check option" in str(info.value)
    assert option in str(info.value)


@pytest.mark.parametrize(("status", "option"), [(401, "api_key_env"), (404, "base_url")])
def test_an_openai_status_the_configuration_causes_names_the_option(
        status: int, option: str) -> None:
    with pytest.raises(TargetError, match=f"; check option {option}"):
        anyio.run(_openai(status, json={"error": {"message": "nope"}}).send,
                  [Message("user", "hi")])


def test_a_server_failure_names_no_option() -> None:
    with pytest.raises(TargetError) as info:
        _send(_http(lambda r: httpx.Response(503, text="busy")))
    assert "check option" not in str(info.value)


def test_an_http_target_passes_on_the_servers_retry_after() -> None:
    # The openai target did; the http target dropped it, so a 429 asking for 30 s was
    # retried after 0.5, 1 and 2 s and the attempt errored.
    with pytest.raises(TargetError) as info:
        _send(_http(lambda r: httpx.Response(429, headers={"retry-after": "30"}, text="slow")))
    assert info.value.retryable
    assert info.value.retry_after == 30.0


def _opens_sessions(name_it_once: bool) -> tuple[list[dict[str, str]], HttpTarget]:
    """A chat API that names a conversation's id only in the answer that opens it (or never)."""
    seen: list[dict[str, str]] = []

    def chat(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if body["sid"] or not name_it_once:
            return httpx.Response(200, json={"reply": f"r{len(seen)}"})
        return httpx.Response(200, json={"reply": f"r{len(seen)}", "conv": {"id": "c1"}})

    return seen, _http(chat, body='{"q": "{prompt}", "sid": "{session_id}"}',
                       response_path="reply", session_path="conv.id")


def _three_turns(target: HttpTarget) -> list[str]:
    async def go() -> list[str]:
        talk: list[Message] = []
        for turn in ("u1", "u2", "u3"):
            reply = await target.send([*talk, Message("user", turn)])
            talk += [Message("user", turn), Message("assistant", reply.text)]
        return [m.content for m in talk if m.role == "assistant"]

    return anyio.run(go)


def test_a_session_id_named_only_when_the_conversation_opens_is_kept() -> None:
    # Every turn after the first failed: "response has no 'conv' on path 'conv.id'".
    seen, target = _opens_sessions(name_it_once=True)
    assert _three_turns(target) == ["r1", "r2", "r3"]
    assert [(b["q"], b["sid"]) for b in seen] == [("u1", ""), ("u2", "c1"), ("u3", "c1")]


def test_a_server_that_never_names_the_session_fails_the_second_turn_saying_so() -> None:
    seen, target = _opens_sessions(name_it_once=False)
    assert anyio.run(target.send, [Message("user", "u1")]).text == "r1", "one turn needs no id"
    with pytest.raises(TargetError, match=r"named no conversation id at option 'session_path' "
                                          r"'conv\.id'"):
        _three_turns(target)
    assert all(b["sid"] == "" for b in seen), "no turn went on in a conversation of its own"


def test_a_streamed_openai_answer_is_refused_up_front() -> None:
    # Every attempt errored: the server answered server-sent events, which are not JSON.
    with pytest.raises(ConfigError, match="'stream': true"):
        OpenAITarget("http://m.test/v1", extra_body={"stream": True, "top_p": 0.9})
    OpenAITarget("http://m.test/v1", extra_body={"stream": False})


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_failure_status_listed_as_blocked_is_refused(status: int) -> None:
    # With blocked_status [500], a target answering 500 to everything scored as refusing
    # every attack and 'bastion redteam gate --max-asr 0' passed.
    with pytest.raises(ConfigError, match="an outage would count as refusals"):
        _http(lambda r: httpx.Response(status), blocked_status=[403, status])
    blocked = _http(lambda r: httpx.Response(451), blocked_status=[403, 451])
    assert anyio.run(blocked.send, [Message("user", "hi")]).blocked


@pytest.mark.parametrize("kind", ["http", "openai"])
def test_an_answer_over_the_size_limit_is_an_error_not_read_whole(kind: str) -> None:
    # A 50 MB answer was read whole into memory (only 100,000 characters were kept).
    from bastion.redteam.targets._wire import MAX_ANSWER_BYTES

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * (MAX_ANSWER_BYTES + 1))

    target = (_http(handler) if kind == "http" else
              OpenAITarget("http://m.test/v1", transport=httpx.MockTransport(handler)))
    with pytest.raises(TargetError, match="is over 8 MiB and was not read further"):
        anyio.run(target.send, [Message("user", "hi")])
    gzipped = _http(lambda r: httpx.Response(200, headers={"Content-Encoding": "gzip"},
                                             content=gzip.compress(b'{"response": "ok"}')))
    assert _send(gzipped) == "ok", "a compressed answer is read decoded, once"


def test_a_method_typo_is_refused_naming_the_near_one() -> None:
    # -T method=PSOT was sent as written and met the server's 501 on every attempt.
    with pytest.raises(ConfigError, match=r"'PSOT' is no method .*did you mean POST\?"):
        _http(lambda r: httpx.Response(200, json={"response": "hi"}), method="PSOT")
    sent: list[str] = []
    put = _http(lambda r: sent.append(r.method) or httpx.Response(200, json={"response": "ok"}),
                method="put")
    assert anyio.run(put.send, [Message("user", "hi")]).text == "ok"
    assert sent == ["PUT"]


@pytest.mark.parametrize(("code", "blocked"), [
    ("content_filter", True), ("content_policy_violation", True), ("guardrail", True),
    ("account_blocked", False), ("ip_blocked", False), ("moderation_service_down", False)])
def test_only_a_guardrails_own_error_code_reads_as_a_block(code: str, blocked: bool) -> None:
    # A 403 'account_blocked' (a key refused) matched 'blocked' as a substring: every attack
    # scored as refused and the gate passed.
    target = _openai(403, json={"error": {"code": code, "type": "permission_error"}})
    if blocked:
        assert anyio.run(target.send, [Message("user", "hi")]).blocked
        return
    with pytest.raises(TargetError, match="HTTP 403"):
        anyio.run(target.send, [Message("user", "hi")])


def test_a_callable_returning_none_is_an_error_and_an_object_its_json() -> None:
    # Session 32: None was scored as the reply 'None', a dict as its Python repr.
    def none(prompt: str) -> None:
        return None

    async def mapping(prompt: str) -> dict[str, object]:
        return {"text": "hi", "ok": True}

    with pytest.raises(TargetError, match="returned None; return the reply text"):
        anyio.run(CallableTarget(none).send, [Message("user", "hi")])
    reply = anyio.run(CallableTarget(mapping).send, [Message("user", "hi")])
    assert json.loads(reply.text) == {"text": "hi", "ok": True}
    assert anyio.run(CallableTarget(lambda p: 42).send, [Message("user", "hi")]).text == "42"


def test_an_empty_answer_cut_at_the_token_limit_is_an_error_not_a_refusal() -> None:
    # A reasoning model spending max_tokens on its reasoning returned content null with
    # finish_reason 'length': scored as a refusal, the attack 'failed' unanswered.
    thinking = {"role": "assistant", "content": None, "reasoning_content": "Let me think..."}
    target = _openai(200, json={"choices": [{"message": thinking, "finish_reason": "length"}]})
    with pytest.raises(TargetError, match=r"token limit before writing any answer.*max_tokens"):
        anyio.run(target.send, [Message("user", "hi")])
    cut = _openai(200, json={"choices": [{"message": {"content": "Sure, step 1"},
                                          "finish_reason": "length"}]})
    assert anyio.run(cut.send, [Message("user", "hi")]).text == "Sure, step 1"
    refused = _openai(200, json={"choices": [{"message": {"content": ""},
                                              "finish_reason": "stop"}]})
    assert anyio.run(refused.send, [Message("user", "hi")]).text == ""


@pytest.mark.parametrize(("status", "answer", "options", "blocked"), [
    (200, {"blocked": True, "reason": "jailbreak"}, {"blocked_path": "blocked"}, True),
    (200, {"blocked": False, "response": "hi"}, {"blocked_path": "blocked"}, False),
    (200, {"response": "hi"}, {"blocked_path": "blocked"}, False),
    (200, {"flagged": "true"}, {"blocked_path": "flagged", "blocked_value": True}, True),
    (200, {"error": {"code": "content_filter"}},
     {"blocked_path": "error.code", "blocked_value": "content_filter"}, True),
    (400, {"error": {"code": "content_filter"}},
     {"blocked_path": "$.error.code", "blocked_value": "content_filter"}, True),
    (200, {"error": {"code": "other"}, "response": "hi"},
     {"blocked_path": "error.code", "blocked_value": "content_filter"}, False),
])
def test_a_json_answer_naming_a_block_reads_as_a_guardrails_refusal(
        status: int, answer: dict[str, Any], options: dict[str, Any], blocked: bool) -> None:
    # A guardrail answering HTTP 200 {"blocked": true} failed every attempt with "response
    # has no 'response'", or, with its message at response_path, was scored as the model's
    # own answer.
    target = _http(lambda r: httpx.Response(status, json=answer), **options)
    reply = anyio.run(target.send, [Message("user", "hi")])
    assert reply.blocked is blocked
    assert reply.text == (f"[blocked: {options['blocked_path']} is "
                          f"{json.dumps(json_path(answer, options['blocked_path']))}]"
                          if blocked else "hi")


def test_a_failure_or_an_unlisted_error_naming_a_block_is_still_an_error() -> None:
    rule = {"blocked_path": "error.code", "blocked_value": "content_filter"}
    for status, says in ((503, "HTTP 503"), (429, "HTTP 429")):  # never an outage as a refusal
        down = _http(lambda r, s=status: httpx.Response(
            s, json={"error": {"code": "content_filter"}}), **rule)
        with pytest.raises(TargetError, match=says):
            anyio.run(down.send, [Message("user", "hi")])
    other = _http(lambda r: httpx.Response(400, json={"error": {"code": "bad_request"}}), **rule)
    with pytest.raises(TargetError, match="HTTP 400"):
        anyio.run(other.send, [Message("user", "hi")])
    text = _http(lambda r: httpx.Response(200, text="plain hi"), response_path="", **rule)
    assert _send(text) == "plain hi", "a plain-text answer says nothing at a JSON path"


@pytest.mark.parametrize(("options", "says"), [
    ({"blocked_value": "content_filter"}, "'blocked_value' 'content_filter' is set but "
                                          "option 'blocked_path' is not"),
    ({"blocked_value": ["a", "b"]}, r"'blocked_value' \['a', 'b'\] is set"),
    ({"blocked_path": "data"}, "every answer would read as blocked"),
    ({"blocked_path": "$..code"}, "'blocked_path' '\\$..code' is not a path"),
])
def test_a_block_rule_that_cannot_work_is_refused_before_any_request(
        options: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        _http(lambda r: httpx.Response(200), response_path="data.answer", **options)
    assert _http(lambda r: httpx.Response(200), response_path="data.answer",
                 blocked_path="data", blocked_value="blocked").blocked.path == "data"


def test_a_guardrail_with_several_markers_is_described_by_a_list_of_values() -> None:
    # blocked_value took one value: a guardrail answering status "blocked", "filtered" or
    # "refused" could not be described (a list was refused by the option check, and a list
    # given from Python matched no answer, so every block read as the model's reply).
    markers = ["blocked", "filtered", "refused"]
    for status in (*markers, "ok"):
        answer = {"status": status, "response": "hi"}
        target = create("targets", "http", url="http://app.test/chat", blocked_path="status",
                        blocked_value=markers,
                        transport=httpx.MockTransport(lambda r, a=answer: httpx.Response(
                            200, json=a)))
        reply = anyio.run(target.send, [Message("user", "hi")])
        assert (reply.blocked, reply.text) == ((True, f'[blocked: status is "{status}"]')
                                               if status in markers else (False, "hi"))
    one = _http(lambda r: httpx.Response(200, json={"status": "filtered"}),
                blocked_path="status", blocked_value="filtered")
    assert anyio.run(one.send, [Message("user", "hi")]).blocked, "one value still works"


@pytest.mark.parametrize("value", [[], {"code": "x"}, [None], [["blocked"]]])
def test_a_blocked_value_no_answer_could_hold_is_refused_naming_what_it_takes(
        value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        create("targets", "http", url="http://app.test/chat", blocked_path="status",
               blocked_value=value)
    message = str(info.value)
    assert "'blocked_value' takes a value" in message
    assert "-T 'blocked_value=[blocked, filtered]'" in message, "says how to write a list"
    assert "valid string" not in message, "not the first branch of a union's complaint"


def test_a_streamed_or_web_page_answer_says_what_to_fix_not_to_read_plain_text() -> None:
    # Both said 'not JSON ... set option response_path empty': for a stream of server-sent
    # events that fix scored the raw 'data: {...}' lines as the reply (and did so silently with
    # response_path already empty); for a login page it scored the page.
    events = "data: {\"delta\": \"I can\"}\n\ndata: {\"delta\": \"not\"}\n\n"
    for response_path in ("response", ""):
        with pytest.raises(TargetError) as info:
            _send(_http(lambda r: httpx.Response(
                200, text=events, headers={"content-type": "text/event-stream"}),
                response_path=response_path))
        assert "a stream of server-sent events" in str(info.value)
        assert '"stream": false' in str(info.value)
        assert "-T response_path=" not in str(info.value)
    with pytest.raises(TargetError) as info:
        _send(_http(lambda r: httpx.Response(200, text=events)))
    assert "a stream of server-sent events" in str(info.value), "known by its 'data:' lines"
    with pytest.raises(TargetError) as info:
        _send(_http(lambda r: httpx.Response(
            200, text="<!doctype html><title>Sign in</title>",
            headers={"content-type": "text/html; charset=utf-8"})))
    assert "is not JSON but a web page" in str(info.value)
    assert "option 'url' is the API" in str(info.value)
    flask = _http(lambda r: httpx.Response(200, text="Hello!",
                                           headers={"content-type": "text/html"}),
                  response_path="")
    assert _send(flask) == "Hello!", "a plain-text API may call its answer text/html"


def test_a_target_not_reached_in_time_is_told_apart_from_a_slow_one() -> None:
    # A connect timeout (a firewall dropping packets, a VPN not up) said 'a slow model needs
    # a larger option timeout': raised to 300, every attempt then waited 300 s to fail.
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("", request=request)

    targets = (lambda handler: _http(handler, timeout=2),
               lambda handler: OpenAITarget("http://model.test/v1", timeout=2,
                                            transport=httpx.MockTransport(handler)))
    for make in targets:
        with pytest.raises(TargetError) as info:
            anyio.run(make(unreachable).send, [Message("user", "hi")])
        assert "could not connect to http://" in str(info.value)
        assert "within 2 s" in str(info.value)
        assert "a larger option 'timeout' will not help" in str(info.value)
        with pytest.raises(TargetError) as info:
            anyio.run(make(slow).send, [Message("user", "hi")])
        assert "did not answer within 2 s" in str(info.value)
        assert "-T timeout=300" in str(info.value)


def test_a_retry_after_given_as_a_date_is_waited_for() -> None:
    # RFC 9110 lets Retry-After be an HTTP date (some gateways send one): it was ignored, so a
    # rate-limited target was retried after the short backoff and every retry met the 429.
    later = email.utils.format_datetime(
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=120), usegmt=True)
    waits = []
    for value in (later, "Wed, 21 Oct 2015 07:28:00 GMT", "7", "soon"):
        busy = _http(lambda r, v=value: httpx.Response(429, headers={"retry-after": v}))
        with pytest.raises(TargetError) as info:
            _send(busy)
        assert info.value.retryable
        waits.append(info.value.retry_after)
    assert waits[0] is not None
    assert 115 < waits[0] <= 120, "the date, as seconds from now"
    assert waits[1:] == [0.0, 7.0, None], "a past date: no wait; a number as before"
