"""What only the upstream's side should know never reaches a client inside an answer.

The gateway's upstream key, wherever an answer quotes it, and an address behind the gateway
in the upstream server's own reports (``incomplete_details.reason``, a choice's
``stop_reason``, an extra field), whole or streamed. Error messages were already withheld
(``test_fields``); a black-box pass (issue 8) read both in a Responses answer's
``incomplete_details.reason``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import pytest

from bastion.gateway._split import across
from bastion.testing import serve_app

from .conftest import GatewayFactory, RawUpstream, Running, sse_frames

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

TOKEN = "internal-vllm-token-7f3a9c"  # a test's stand-in upstream key
REPORT = f"backend http://10.0.3.7:8000 (vllm-0.vllm.default.svc) refused token {TOKEN}"
CHAT = {"model": "m", "messages": [{"role": "user", "content": "go"}]}


def _incomplete(reason: str) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "status": "incomplete", "model": "m",
            "output": [{"type": "message", "id": "m1", "role": "assistant", "status":
                        "incomplete", "content": [{"type": "output_text", "text": "Tea is",
                                                   "annotations": []}]}],
            "incomplete_details": {"reason": reason}}


def _chat(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", **message},
         **extra.pop("choice", {})}], **extra}


def _chunk(delta: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk", "model": "m", "choices": [
        {"index": 0, "delta": delta, **extra.pop("choice", {})}], **extra}


#: name -> (route, whole answer, streamed frames, text the client must still get)
CASES: dict[str, tuple[str, dict[str, Any], list[dict[str, Any]], str]] = {
    "responses_incomplete_reason": (
        "/responses", _incomplete(REPORT),
        [{"type": "response.output_text.delta", "item_id": "m1", "output_index": 0,
          "content_index": 0, "delta": "Tea is"},
         {"type": "response.incomplete", "response": _incomplete(REPORT)}], "Tea is"),
    "chat_content_quoting_the_key": (
        "/chat/completions", _chat({"content": f"The token is {TOKEN}, as asked."}),
        [_chunk({"content": f"The token is {TOKEN}, as asked."})], "as asked."),
    "chat_extra_field": (
        "/chat/completions", _chat({"content": "Tea."}, warning=REPORT),
        [_chunk({"content": "Tea."}, warning=REPORT)], "Tea."),
    "chat_stop_reason": (
        "/chat/completions", _chat({"content": "Tea."}, choice={"stop_reason": REPORT}),
        [_chunk({"content": "Tea."}, choice={"stop_reason": REPORT})], "Tea."),
}


@pytest.fixture
def keyed_gw(gateway_factory: GatewayFactory, monkeypatch: pytest.MonkeyPatch
             ) -> Any:
    monkeypatch.setenv("H8_UPSTREAM_KEY", TOKEN)
    raw = RawUpstream()
    with serve_app(raw.app()) as url:
        yield raw, gateway_factory(upstream__base_url=url,
                                   upstream__api_key_env="H8_UPSTREAM_KEY")


def _post(gw: Running, route: str, *, stream: bool) -> httpx.Response:
    body = {"model": "m", "input": "go"} if route == "/responses" else CHAT
    with gw.client(gw.key(f"user{route}{stream}".replace("/", ""))) as client:
        return client.post(route, json={**body, "stream": stream})


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_upstream_key_and_addresses_behind_it_never_reach_the_client(
        keyed_gw: tuple[RawUpstream, Running], case: str, stream: bool) -> None:
    raw, gw = keyed_gw
    route, raw.body, raw.frames, kept = CASES[case]
    response = _post(gw, route, stream=stream)
    assert response.status_code == 200, response.text
    for secret in ("7f3a9c", "10.0.3.7", "default.svc"):
        assert secret not in response.text
    assert "withheld" in response.text
    assert kept in response.text  # the answer itself is served
    if stream:
        assert "[DONE]" in sse_frames(response.text) or route == "/responses"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_models_own_text_may_name_private_addresses(
        keyed_gw: tuple[RawUpstream, Running], stream: bool) -> None:
    """Only the key is taken out of the model's text: an answer about networking names
    localhost and private addresses."""
    raw, gw = keyed_gw
    content = "Run it on http://localhost:8000 or 10.0.0.5; the cluster uses db.default.svc."
    raw.body = _chat({"content": content})
    raw.frames = [_chunk({"content": content})]
    response = _post(gw, "/chat/completions", stream=stream)
    assert response.status_code == 200
    assert "withheld" not in response.text
    if stream:
        assert content in "".join(json.loads(f)["choices"][0]["delta"].get("content", "")
                                  for f in sse_frames(response.text)[:-1] if f.startswith("{"))
    else:
        assert response.json()["choices"][0]["message"]["content"] == content


def test_the_key_as_a_keys_name_is_a_502(keyed_gw: tuple[RawUpstream, Running]) -> None:
    raw, gw = keyed_gw
    raw.body = _chat({"content": "Tea."}, **{TOKEN.replace("-", "_"): 1, TOKEN: 1})
    response = _post(gw, "/chat/completions", stream=False)
    assert response.status_code == 502
    assert "7f3a9c" not in response.text


#: Where an answer quoting the key is cut into streamed chunks: within the key, one
#: character a chunk, and a chunk that ends with the key's first character.
SPLITS = {"halves": [20, 30], "characters": list(range(13, 40)), "first_char": [13, 14]}
SPLIT_TEXT = f"The token is {TOKEN}, as asked. Tea is ready."


def _pieces(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def _responses_delta(text: str) -> dict[str, Any]:
    return {"type": "response.output_text.delta", "item_id": "m1", "output_index": 0,
            "content_index": 0, "delta": text}


@pytest.mark.parametrize("route", ["/chat/completions", "/responses"])
@pytest.mark.parametrize("split", sorted(SPLITS))
def test_the_upstream_key_split_across_chunks_is_withheld_as_a_whole_one_is(
        keyed_gw: tuple[RawUpstream, Running], split: str, route: str) -> None:
    """A key cut across streamed chunks reached the client in pieces: each chunk was scrubbed
    alone (issue 8). The text a client shows is the one a whole answer gives."""
    raw, gw = keyed_gw
    pieces = _pieces(SPLIT_TEXT, SPLITS[split])
    assert "".join(pieces) == SPLIT_TEXT
    assert all(TOKEN not in p for p in pieces)
    if route == "/responses":
        done = _incomplete("")  # the final response, whose text the deltas carried
        done.update(status="completed", incomplete_details=None)
        done["output"][0]["content"][0]["text"] = SPLIT_TEXT
        raw.frames = [*map(_responses_delta, pieces),
                      {"type": "response.completed", "response": done}]
        raw.body = done
    else:
        raw.frames = [_chunk({"content": piece}) for piece in pieces]
        raw.body = _chat({"content": SPLIT_TEXT})
    whole, streamed = (_post(gw, route, stream=s) for s in (False, True))
    assert whole.status_code == streamed.status_code == 200, streamed.text
    if route == "/responses":
        shown = "".join(json.loads(f).get("delta", "") for f in sse_frames(streamed.text)
                        if f.startswith("{"))
        expected = whole.json()["output"][0]["content"][0]["text"]
    else:
        shown = "".join(json.loads(f)["choices"][0]["delta"].get("content", "")
                        for f in sse_frames(streamed.text)[:-1] if f.startswith("{"))
        expected = whole.json()["choices"][0]["message"]["content"]
    assert expected == "The token is [withheld], as asked. Tea is ready."
    assert shown == expected
    for secret in ("7f3a9c", "vllm-token", "internal-"):
        assert secret not in streamed.text


def test_a_split_key_is_withheld_where_nothing_is_masked(
        gateway_factory: GatewayFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under an output policy that redacts nothing, frames otherwise leave as they came."""
    monkeypatch.setenv("H8_UPSTREAM_KEY", TOKEN)
    raw = RawUpstream()
    pieces = _pieces(SPLIT_TEXT, SPLITS["characters"])
    raw.frames = [_chunk({"content": piece}) for piece in pieces]
    with serve_app(raw.app()) as url:
        gw = gateway_factory(upstream__base_url=url, upstream__api_key_env="H8_UPSTREAM_KEY",
                             output_policy="violence")
        response = _post(gw, "/chat/completions", stream=True)
    assert response.status_code == 200
    assert "The token is [withheld], as asked." in "".join(
        json.loads(f)["choices"][0]["delta"].get("content", "")
        for f in sse_frames(response.text)[:-1] if f.startswith("{"))
    assert "7f3a9c" not in response.text


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_key_cut_between_two_fields_withholds_the_answer(
        keyed_gw: tuple[RawUpstream, Running], stream: bool) -> None:
    """Reasoning ending with the key's first half and content beginning with the rest: no
    field holds it whole, a client shows them side by side (a black-box pass, issue 8)."""
    raw, gw = keyed_gw
    first, rest = f"Your token is {TOKEN[:9]}", f"{TOKEN[9:]}, keep it."
    raw.body = _chat({"reasoning_content": first, "content": rest})
    raw.frames = [_chunk({"reasoning_content": first}), _chunk({"content": rest})]
    response = _post(gw, "/chat/completions", stream=stream)
    for secret in ("7f3a9c", "vllm-token", "internal"):
        assert secret not in response.text
    if stream:
        assert json.loads(sse_frames(response.text)[-1])["error"]["code"] == "upstream_malformed"
    else:
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "upstream_malformed"


def test_a_key_spelled_over_logprobs_tokens_or_three_fields_withholds_the_answer(
        keyed_gw: tuple[RawUpstream, Running]) -> None:
    """The tokens of ``logprobs`` spell an answer a client can join; a key cut over three
    fields has no two that hold it (a black-box pass, issue 8: both reached the client)."""
    raw, gw = keyed_gw
    said = f"Your token is {TOKEN}, keep it."
    tokens = [{"token": said[i:i + 4], "logprob": -0.1, "bytes": None, "top_logprobs": []}
              for i in range(0, len(said), 4)]
    with gw.client(gw.key("spelled")) as client:
        raw.body = _chat({"content": "I cannot say."}, choice={"logprobs": {"content": tokens}})
        spelled = client.post("/chat/completions", json={**CHAT, "logprobs": True})
        raw.body = _chat({"reasoning_content": said[:17], "refusal": said[17:30],
                          "content": said[30:]})
        three = client.post("/chat/completions", json=CHAT)
    for response in (spelled, three):
        assert response.status_code == 502
        assert "7f3a9c" not in response.text
        assert "vllm-token" not in response.text


def test_texts_that_only_touch_the_key_are_no_cut_key(backend: str) -> None:
    del backend  # (the module's parametrisation; no gateway here)
    assert across(["the token is INTERNAL-vllm", "-token-7f3a9c."], TOKEN)
    assert not across(["internal-vllm", "-token-7f3a9d"], TOKEN)
    assert not across(["the internal", "network"], TOKEN)
    assert not across(["internal-vllm-token-7f3a9c"], TOKEN)  # whole in one: scrubbed there
    assert not across(["anything", "at all"], "")
    assert across(["Your token is inte", "rnal-vl", "lm-tok", "en-7f3a9c, ok"], TOKEN)
    assert not across(["inte", "rnal-vl", "lm-tok", "en-7f3a9d"], TOKEN)
