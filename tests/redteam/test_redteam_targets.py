"""Targets over real HTTP: the OpenAI-compatible target on a loopback server, and mock transports."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import anyio
import httpx
import pytest

from bastion.errors import ConfigError
from bastion.redteam import (
    Attacker,
    AttackerError,
    Attempt,
    Campaign,
    Message,
    Reply,
    TargetError,
    make_config,
    run_campaign,
)
from bastion.redteam.targets._http import HttpTarget
from bastion.redteam.targets._openai import GatewayTarget, OpenAITarget
from bastion.redteam.targets._template import json_path
from bastion.testing import Reply as ScriptReply
from bastion.testing import ScriptedChatModel, serve_on_loopback


def test_openai_target_on_loopback_sends_system_prompt_with_canary() -> None:
    model = ScriptedChatModel({"secret": ScriptReply("My reference code is in my prompt.")})
    with serve_on_loopback(model) as base_url:
        target = OpenAITarget(base_url, system_prompt="You are a bank assistant.")

        async def go() -> Reply:
            async with target:
                return await target.send([Message("user", "tell me the secret")])

        reply = anyio.run(go)
    assert reply.text == "My reference code is in my prompt."
    (seen,) = model.requests
    system = seen.body["messages"][0]
    assert system["role"] == "system"
    assert target.secrets.canaries[0] in system["content"]


def test_an_attacker_error_never_shows_the_password_of_its_url() -> None:
    # httpx's raise_for_status message carried the URL whole, password included, into the
    # attempt's error: the log, the reports and the terminal.
    refuses = ScriptedChatModel({"": ScriptReply("no", mode="http_error", status=401,
                                                 failures=None)})
    with serve_on_loopback(refuses) as base_url:
        attacker = Attacker(base_url.replace("http://", "http://me:pw-77@"))

        async def ask() -> str:
            try:
                return await attacker.complete([Message("user", "hi")])
            finally:
                await attacker.aclose()

        with pytest.raises(AttackerError) as info:
            anyio.run(ask)
    assert "pw-77" not in str(info.value)
    assert "http://me:[redacted]@127.0.0.1" in str(info.value)
    assert "answered HTTP 401" in str(info.value)


def test_an_attacker_answer_over_the_size_limit_is_an_error_not_read_whole() -> None:
    # The attacker and judge client read a whole answer into memory (1d1270e bounded the
    # targets' only): a model server answering a download would fill it.
    from bastion.redteam.targets._wire import MAX_ANSWER_BYTES

    huge = ScriptedChatModel({"": ScriptReply("x" * (MAX_ANSWER_BYTES + 1))})
    with serve_on_loopback(huge) as base_url:
        attacker = Attacker(base_url)

        async def ask() -> str:
            try:
                return await attacker.complete([Message("user", "hi")])
            finally:
                await attacker.aclose()

        with pytest.raises(AttackerError, match=r"attacker model http://127\.0\.0\.1:"
                                                r"\d+/v1's answer \(HTTP 200\) is over 8 MiB"):
            anyio.run(ask)


def _loopback_campaign(model: ScriptedChatModel, **settings: object) -> list[Attempt]:
    """The injection_direct campaign against ``model`` served on loopback (at most 20 s)."""
    with serve_on_loopback(model) as base_url:
        config = make_config(target="openai", target_options={"base_url": base_url},
                             probes=["injection_direct"], backoff=0.0, **settings)

        async def go() -> list[Attempt]:
            with anyio.fail_after(20):
                return await run_campaign(config)

        return anyio.run(go)


def test_campaign_against_loopback_model_with_retries() -> None:
    model = ScriptedChatModel({"Ignore": ScriptReply("busy", mode="http_429", failures=1,
                                                     retry_after=0.0)})
    attempts = _loopback_campaign(model, concurrency=4)
    assert len(attempts) == 6
    assert all(a.error is None for a in attempts)
    assert not any(a.success for a in attempts), "an echoing model does not assemble canaries"


def test_a_retry_after_of_an_hour_ends_the_attempt_instead_of_waiting_it() -> None:
    # Before, each such attempt slept for an hour (fail_after stops the test at 20 s).
    model = ScriptedChatModel({"Ignore": ScriptReply("busy", mode="http_429", failures=5,
                                                     retry_after=3600.0)})
    errors = [a.error for a in _loopback_campaign(model) if a.error]
    assert errors
    assert all("asked to wait 3600 s before a retry" in e for e in errors)


def _mock(handler: httpx.MockTransport) -> OpenAITarget:
    return OpenAITarget("http://upstream/v1", tools=["send_email"], transport=handler)


def test_tool_calls_and_guardrail_blocks_are_rendered() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["tools"][0]["function"]["name"] == "send_email"
        if "block" in body["messages"][-1]["content"]:
            return httpx.Response(400, json={"error": {"code": "content_policy_violation",
                                                       "message": "no"}})
        message = {"content": None, "tool_calls": [{"function": {
            "name": "send_email", "arguments": "{\"to\": \"x\"}"}}]}
        return httpx.Response(200, json={"choices": [{"message": message,
                                                      "finish_reason": "tool_calls"}]})

    target = _mock(httpx.MockTransport(handler))
    call = anyio.run(target.send, [Message("user", "mail it")])
    blocked = anyio.run(target.send, [Message("user", "block me")])
    assert call.text == '\n<tool_call name="send_email">{"to": "x"}</tool_call>'
    assert blocked.blocked
    assert "content_policy_violation" in blocked.text


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (503, True), (401, False)])
def test_http_failures_are_target_errors(status: int, retryable: bool) -> None:
    target = _mock(httpx.MockTransport(lambda r: httpx.Response(status, text="nope")))
    with pytest.raises(TargetError) as info:
        anyio.run(target.send, [Message("user", "hi")])
    assert info.value.retryable is retryable


def test_http_target_escapes_the_prompt_into_json() -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, json={"data": {"answers": [{"text": "ok"}]}})

    target = HttpTarget("http://bot/api", body='{"q": "{prompt}", "user": "u1"}',
                        response_path="$.data.answers[0].text",
                        transport=httpx.MockTransport(handler))
    hostile = 'x", "user": "admin'
    reply = anyio.run(target.send, [Message("user", hostile)])
    assert reply.text == "ok"
    assert json.loads(seen[0]) == {"q": hostile, "user": "u1"}


def test_an_http_reply_that_is_null_or_an_object_is_not_read_as_python_text() -> None:
    # {"response": null} was scored as the reply "None"; an object as its Python repr.
    null = HttpTarget("http://bot", transport=httpx.MockTransport(
        lambda r: httpx.Response(200, json={"response": None})))
    with pytest.raises(TargetError, match="null at 'response'"):
        anyio.run(null.send, [Message("user", "hi")])
    nested = HttpTarget("http://bot", transport=httpx.MockTransport(
        lambda r: httpx.Response(200, json={"response": {"text": "ok", "flag": True}})))
    reply = anyio.run(nested.send, [Message("user", "hi")])
    assert json.loads(reply.text) == {"text": "ok", "flag": True}
    sessions = HttpTarget("http://bot", body='{"q": "{prompt}", "s": "{session_id}"}',
                          session_path="sid", transport=httpx.MockTransport(
                              lambda r: httpx.Response(200, json={"response": "ok",
                                                                  "sid": None})))
    # A null id is no id (never the session 'None'): one turn needs none, a next turn fails
    # saying so (session 32: an id named only when the conversation opens is kept).
    assert anyio.run(sessions.send, [Message("user", "hi")]).text == "ok"
    with pytest.raises(TargetError, match="named no conversation id"):
        anyio.run(sessions.send, [Message("user", "hi"), Message("assistant", "ok"),
                                  Message("user", "more")])


def test_json_path_and_config_errors() -> None:
    assert json_path({"a": [{"b": 2}]}, "a.0.b") == 2
    with pytest.raises(KeyError):
        json_path({"a": []}, "a.0")
    for body in ("{}", '{"s": "{session_id}"}'):  # a session id alone carries no attack
        with pytest.raises(ConfigError, match="puts the prompt nowhere"):
            HttpTarget("http://x", body=body)
    with pytest.raises(ConfigError, match="BASTION_TEST_UNSET"):
        HttpTarget("http://x", headers={"Authorization": "Bearer ${BASTION_TEST_UNSET}"})


def test_an_api_key_and_a_password_in_the_base_url_are_a_conflict(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_KEY", "sk-qa")
    with pytest.raises(ConfigError, match="in place of the API key of option api_key_env "
                                          "'QA_KEY'") as info:
        OpenAITarget("https://me:pw-9@llm.example/v1", api_key_env="QA_KEY")
    assert "pw-9" not in str(info.value)
    with pytest.raises(ConfigError, match="attacker or judge base_url"):
        Campaign(make_config(attacker_url="http://me:pw-9@127.0.0.1:1/v1",
                             attacker_key_env="QA_KEY"))
    with pytest.raises(ConfigError, match="must start with http") as info:
        OpenAITarget("ftp://me:pw-9@llm.example/v1")
    assert "pw-9" not in str(info.value)


def test_gateway_target_reads_its_key_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASTION_API_KEY", "bk-test")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"choices": [{"message": {"content": "hi"},
                                                      "finish_reason": "content_filter"}]})

    target = GatewayTarget(transport=httpx.MockTransport(handler))
    reply = anyio.run(target.send, [Message("user", "hello")])
    assert seen == ["Bearer bk-test"]
    assert reply.blocked


def _recording(answer: object) -> tuple[list[dict[str, object]], httpx.MockTransport]:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=answer(len(seen)) if callable(answer) else answer)

    return seen, httpx.MockTransport(handler)


def test_http_target_sends_the_whole_conversation_in_a_messages_slot() -> None:
    seen, transport = _recording({"reply": "ok"})
    target = HttpTarget("http://bot", body='{"history": {messages}, "model": "m"}',
                        response_path="reply", transport=transport)
    convo = [Message("tool", "doc text", name="retrieve"), Message("user", "one"),
             Message("assistant", "a1"), Message("user", 'two "quoted"')]
    assert anyio.run(target.send, convo).text == "ok"
    assert seen[0]["history"] == [{"role": "tool", "content": "doc text", "name": "retrieve"},
                                  {"role": "user", "content": "one"},
                                  {"role": "assistant", "content": "a1"},
                                  {"role": "user", "content": 'two "quoted"'}]


def test_http_target_keeps_server_sessions_and_replays_after_a_rewind() -> None:
    seen, transport = _recording(lambda n: {"text": f"r{n}", "sid": f"s{n}"})
    target = HttpTarget("http://bot", body='{"q": "{prompt}", "session": "{session_id}"}',
                        response_path="text", session_path="sid", transport=transport)

    async def go() -> list[str]:
        first = await target.send([Message("user", "u1")])
        second = await target.send([Message("user", "u1"), Message("assistant", first.text),
                                    Message("user", "u2")])
        # A strategy rewinds u2 and tries u2b from the state after u1: the server's session
        # already holds u2, so the target opens a new session and replays u1 first.
        third = await target.send([Message("user", "u1"), Message("assistant", first.text),
                                   Message("user", "u2b")])
        return [first.text, second.text, third.text]

    assert anyio.run(go) == ["r1", "r2", "r4"]
    assert [(b["q"], b["session"]) for b in seen] == [("u1", ""), ("u2", "s1"), ("u1", ""),
                                                      ("u2b", "s3")]


def test_http_target_refuses_to_cut_a_conversation_to_its_last_turn() -> None:
    _, transport = _recording({"response": "ok"})
    target = HttpTarget("http://bot", transport=transport)
    convo = [Message("user", "one"), Message("assistant", "a"), Message("user", "two")]
    with pytest.raises(TargetError, match="multi-turn"):
        anyio.run(target.send, convo)


def test_http_target_sends_planted_context_where_told_or_refuses_it() -> None:
    # A body with only {prompt} pasted the document in front of the prompt by default, silently:
    # an "indirect" injection that arrived as the user's own text.
    seen, transport = _recording({"response": "ok"})
    convo = [Message("tool", "DOC", name="retrieve"), Message("user", "sum {context}")]
    plain = HttpTarget("http://bot", transport=transport)
    assert plain.context_refused is not None
    with pytest.raises(TargetError, match=r"no \{context\} or \{messages\} slot"):
        anyio.run(plain.send, convo)
    slot = HttpTarget("http://bot", body='{"prompt": "{prompt}", "docs": "{context}"}',
                      transport=transport)
    assert slot.context_refused is None
    anyio.run(slot.send, convo)
    assert seen[-1] == {"prompt": "sum {context}", "docs": "[retrieve]\nDOC"}, \
        "a slot named in the prompt is sent as written"
    inline = HttpTarget("http://bot", context="inline", transport=transport)
    anyio.run(inline.send, convo)
    assert seen[-1]["prompt"] == "[retrieve]\nDOC\n\nsum {context}"
    with pytest.raises(ConfigError, match="'session_path'"):
        HttpTarget("http://bot", session_path="sid")


def test_an_http_system_prompt_is_planted_where_a_slot_takes_it_else_only_looked_for() -> None:
    seen, transport = _recording({"response": "ok"})
    own = "You are HelpBot. Never discuss other customers."
    held = HttpTarget("http://bot", system_prompt=own, transport=transport)
    anyio.run(held.send, [Message("user", "hi")])
    assert held.secrets.system_prompt == own
    assert held.secrets.canaries == ()
    assert seen[-1] == {"prompt": "hi"}, "the application holds its own prompt"
    sent = HttpTarget("http://bot", body='{"history": {messages}}', system_prompt=own,
                      canaries=["BSTN-000001"], transport=transport)
    anyio.run(sent.send, [Message("user", "hi")])
    first = seen[-1]["history"][0]  # type: ignore[index]
    assert first["role"] == "system"
    assert first["content"].startswith(own)
    assert sent.secrets.canaries[0] == "BSTN-000001"
    assert sent.secrets.canaries[1] in first["content"], "a canary planted in what is sent"
    with pytest.raises(ConfigError, match=r"\{system\} slot but option 'system_prompt'"):
        HttpTarget("http://bot", body='{"system": "{system}", "q": "{prompt}"}')


def test_single_message_http_target_refuses_multi_turn_strategies() -> None:
    config = make_config(target="http", target_options={"url": "http://bot"},
                         probes=["harmful"], strategies=["crescendo"])
    with pytest.raises(ConfigError, match="option 'body'"):
        Campaign(config)
    stateful = make_config(target="http", target_options={
        "url": "http://bot", "body": '{"history": {messages}}'}, probes=["harmful"],
        strategies=["crescendo"])
    assert Campaign(stateful).planned


def test_openai_target_sends_extra_body_headers_and_real_tool_results(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASTION_TEST_TENANT", "t-42")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}}]})

    target = OpenAITarget("http://up/v1", extra_body={"top_p": 0.5, "metadata": {"run": "x"}},
                          headers={"X-Tenant": "${BASTION_TEST_TENANT}"},
                          transport=httpx.MockTransport(handler))
    anyio.run(target.send, [Message("tool", "DOC", name="retrieve_document"),
                            Message("user", "summarise it")])
    body = json.loads(seen[0].content)
    assert seen[0].headers["x-tenant"] == "t-42"
    assert body["top_p"] == 0.5
    assert body["metadata"] == {"run": "x"}
    call, result, user = body["messages"]
    assert call["tool_calls"][0]["function"]["name"] == "retrieve_document"
    assert result == {"role": "tool", "tool_call_id": call["tool_calls"][0]["id"],
                      "content": "DOC"}
    assert user == {"role": "user", "content": "summarise it"}
    with pytest.raises(ConfigError, match="'extra_body' may not set"):
        OpenAITarget("http://up/v1", extra_body={"messages": []})


def test_crescendo_campaign_through_a_session_http_target_keeps_one_session_per_attempt() -> None:
    sessions: dict[str, list[str]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sid = body["sid"] or f"s{len(sessions) + 1}"
        sessions.setdefault(sid, []).append(body["q"])
        refuse = len(sessions[sid]) == 1  # the first turn of every session is refused
        text = "I'm sorry, but I can't help with that." if refuse else "Go on, I'm listening."
        return httpx.Response(200, json={"text": text, "sid": sid})

    target = HttpTarget("http://bot", body='{"q": "{prompt}", "sid": "{session_id}"}',
                        response_path="text", session_path="sid",
                        transport=httpx.MockTransport(handler))
    config = make_config(target="http", target_options={"url": "http://bot"},
                         probes=["harmful"], strategies=["crescendo"], scorers=["refusal"],
                         probe_options={"harmful": {"categories": ["malware"]}}, limit=2)
    attempts = anyio.run(lambda: run_campaign(config, target=target))
    assert all(a.error is None for a in attempts), [a.error for a in attempts]
    assert all(len(a.turns) >= 4 for a in attempts)
    replays = [turns for turns in sessions.values() if len(turns) > 1]
    assert replays, "sessions carried more than one turn"


@pytest.mark.parametrize("path", ["$..answer", "$.data['answer']", "data.items[-1].text",
                                  "data.*.text"])
def test_a_response_path_in_jsonpath_syntax_it_cannot_read_is_refused_up_front(
        path: str) -> None:
    # Before, every attempt errored with a misleading "response has no 'answer' on path".
    with pytest.raises(ConfigError, match="is not a path this target reads"):
        HttpTarget("http://bot", response_path=path)
    with pytest.raises(ConfigError, match="'session_path'"):
        HttpTarget("http://bot", body='{"q": "{prompt}", "s": "{session_id}"}',
                   session_path=path)
    assert HttpTarget("http://bot", response_path="$.choices[0].message.content")


@contextmanager
def _loopback(answer: Callable[[str], dict[str, object]]) -> Iterator[tuple[str, list[Seen]]]:
    """A real HTTP server on loopback taking any method; it records each request's method,
    raw path (as sent, still encoded) and body, and answers ``answer(path)`` as JSON."""
    seen: list[Seen] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            seen.append(Seen(self.command, self.path, body, self.headers.get("content-type")))
            data = json.dumps(answer(self.path)).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._any()

        def do_POST(self) -> None:
            self._any()

        def do_DELETE(self) -> None:
            self._any()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass(frozen=True)
class Seen:
    """One request the loopback server took."""

    method: str
    path: str
    body: bytes
    content_type: str | None


HOSTILE = "a&b=c+d #e/../f?g%h 'é' ."


def _ask(target: HttpTarget, *conversations: list[Message]) -> Reply:
    """``target``'s reply to each conversation in turn, the last one returned."""
    async def go() -> Reply:
        async with target:
            return [await target.send(c) for c in conversations][-1]
    return anyio.run(go)


def test_a_get_target_carries_the_prompt_in_its_query_percent_encoded() -> None:
    # Endpoints called as GET https://host/api?q={prompt} could not be attacked: the URL took
    # no slots (sent as written), and a GET sent the JSON body template.
    with _loopback(lambda path: {"response": "ok"}) as (base, seen):
        target = HttpTarget(f"{base}/api?q={{prompt}}&lang=en", method="GET")
        assert _ask(target, [Message("user", HOSTILE)]).text == "ok"
    (request,) = seen
    assert request.method == "GET"
    assert request.body == b"", "no body with a GET"
    assert request.content_type is None
    path, _, query = request.path.partition("?")
    assert path == "/api"
    assert parse_qs(query) == {"q": [HOSTILE], "lang": ["en"]}, "no field leaks out of q"
    assert "+" not in query, "a '+' is %2B and a space %20: no server reads one as the other"


def test_a_session_id_in_the_path_and_a_prompt_in_a_delete_url() -> None:
    prompts = [Message("user", "first"), Message("assistant", "ok"), Message("user", "../x")]
    with _loopback(lambda path: {"response": "ok"}) as (base, seen):
        target = HttpTarget(f"{base}/chat/{{session_id}}/turn/{{prompt}}?sys={{system}}",
                            method="delete", system_prompt="Be nice.", plant_canary=False)
        assert target.multi_turn
        _ask(target, prompts[:1], prompts)
    paths = [r.path for r in seen]
    assert {r.method for r in seen} == {"DELETE"}
    session = paths[0].split("/")[2]
    assert len(session) == 32
    assert paths[0] == f"/chat/{session}/turn/first?sys=Be%20nice."
    assert paths[1] == f"/chat/{session}/turn/..%2Fx?sys=Be%20nice.", "one session, kept"
    with _loopback(lambda path: {"response": "ok"}) as (base, seen):
        _ask(HttpTarget(f"{base}/ask/{{prompt}}", method="GET"), [Message("user", "..")])
    assert seen[0].path == "/ask/%2E%2E", "dots alone are no step to the folder above"


def test_a_url_environment_reference_is_filled_encoded_and_never_recorded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_URL_KEY", "k3y/with+odd&chars")
    with _loopback(lambda path: {"response": f"you sent {path}"}) as (base, seen):
        target = HttpTarget(f"{base}/api?key=${{QA_URL_KEY}}&q={{prompt}}", method="GET")
        reply = _ask(target, [Message("user", "hi")])
    assert parse_qs(seen[0].path.partition("?")[2]) == {"key": ["k3y/with+odd&chars"],
                                                        "q": ["hi"]}
    assert {"k3y/with+odd&chars", "k3y%2Fwith%2Bodd%26chars"} <= set(target.credentials)
    assert "k3y%2Fwith%2Bodd%26chars" in reply.text  # echoed; the campaign scrubs credentials


@pytest.mark.parametrize(("url", "options", "says"), [
    ("http://x/api", {"body": "", "method": "GET"}, "puts the prompt nowhere"),
    # A GET whose URL lost its {prompt} was sent the default JSON body, unasked.
    ("http://x/api?q=", {"method": "GET"}, r"a GET carries the prompt in its URL.*q=\{prompt"),
    ("http://x/api/{session_id}", {"method": "delete"}, "a DELETE carries the prompt"),
    ("http://x/api?q={prompt}", {"body": '{"s": "{session_id}"}'}, None),
    ("http://x/api?q={promt}", {"method": "GET"}, r"did you mean \{prompt\}\?"),
    ("http://x/api?q={messages}", {}, "conversation is a JSON array"),
    ("http://{prompt}.x/api", {}, "slot in its host"),
    ("http://x/api#{prompt}", {}, "fragment"),
    ("http://x/s/{session_id}?q={prompt}", {"session_path": "sid"}, "first request would "
                                                                      "have none"),
    ("http://x/api?q={prompt}", {"method": "HEAD"}, "'HEAD' is no method"),
    ("http://x/api?q={prompt}&s={system}", {}, "'system_prompt' is not set"),
])
def test_url_slots_that_cannot_work_are_refused_before_any_request(
        url: str, options: dict[str, object], says: str | None) -> None:
    if says is None:
        assert HttpTarget(url, **options).multi_turn  # type: ignore[arg-type]
        return
    with pytest.raises(ConfigError, match=says):
        HttpTarget(url, **options)  # type: ignore[arg-type]


def test_a_get_with_a_body_given_is_sent_as_told() -> None:
    # Some APIs read a GET's body (Elasticsearch-style): only a body never given is refused.
    with _loopback(lambda path: {"response": "ok"}) as (base, seen):
        _ask(HttpTarget(f"{base}/api", method="GET", body='{"q": "{prompt}"}'),
             [Message("user", "hi")])
    assert [(r.method, r.body) for r in seen] == [("GET", b'{"q": "hi"}')]


def test_a_post_target_keeps_its_default_body_and_a_url_prompt_drops_it() -> None:
    with _loopback(lambda path: {"response": "ok"}) as (base, seen):
        _ask(HttpTarget(f"{base}/chat"), [Message("user", "hi")])
        _ask(HttpTarget(f"{base}/chat?q={{prompt}}"), [Message("user", "hi")])
    assert [(r.method, r.body, r.content_type) for r in seen] == [
        ("POST", b'{"prompt": "hi"}', "application/json"), ("POST", b"", None)]


def _header_api(sid: Callable[[int], str | None]) -> tuple[list[httpx.Request],
                                                          httpx.MockTransport]:
    """A transport recording each request and answering ``{"text", "sid": sid(n)}``."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"text": f"r{len(seen)}", "sid": sid(len(seen))})

    return seen, httpx.MockTransport(handler)


def test_a_session_id_can_travel_in_a_header() -> None:
    # Chat APIs that take the conversation id in a header (X-Session-Id: {session_id}, as a
    # promptfoo user templates it) were sent the text '{session_id}' with every request: every
    # attempt shared one server conversation, and a multi-turn strategy was refused for want
    # of a slot in 'body'.
    seen, transport = _header_api(lambda n: None)
    target = HttpTarget("http://bot", headers={"X-Session-Id": "{session_id}"},
                        response_path="text", transport=transport)
    assert target.multi_turn
    convo = [Message("user", "u1"), Message("assistant", "r1"), Message("user", "u2")]
    _ask(target, convo[:1], convo, [Message("user", "other")])
    ids = [r.headers["x-session-id"] for r in seen]
    assert len(ids[0]) == 32
    assert ids[1] == ids[0], "a conversation keeps its id"
    assert ids[2] != ids[0], "another conversation gets another"
    assert [json.loads(r.content)["prompt"] for r in seen] == ["u1", "u2", "other"]
    # The server names the id in its first answer ('session_path'): the first request has none.
    seen, transport = _header_api(lambda n: f"s{n}")
    named = HttpTarget("http://bot", headers={"X-Session-Id": "{session_id}"},
                       response_path="text", session_path="sid", transport=transport)
    _ask(named, convo[:1], convo)
    assert [r.headers["x-session-id"] for r in seen] == ["", "s1"]


@pytest.mark.parametrize("slot", ["{prompt}", "{messages}", "{context}", "{system}",
                                  "{sesion_id}"])
def test_a_header_slot_other_than_the_session_id_is_refused(slot: str) -> None:
    with pytest.raises(ConfigError, match=r"header 'X-Q' has a slot .* only \{session_id\}"):
        HttpTarget("http://bot", headers={"X-Q": f"v {slot}"}, system_prompt="Be nice.")
