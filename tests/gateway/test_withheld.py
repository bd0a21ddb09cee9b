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

from bastion.gateway._held import Held
from bastion.gateway._split import KEY_END_SHOWN, across, held_from, may_end_key
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


#: Content that begins with the key's rest and goes on long enough to be released piece by
#: piece, then the reasoning that ends with the key's beginning.
BENIGN = ["Tea is a drink made by steeping leaves in hot water. ",
          "Green tea is steeped for two minutes at eighty degrees. ",
          "Black tea takes longer and boiling water. ", "Enjoy it with friends. "]


@pytest.mark.parametrize(("route", "name", "pieces"), [
    ("/chat/completions", "content", 0), ("/chat/completions", "content", 3),
    ("/chat/completions", "note", 3), ("/responses", "content", 0),
    ("/responses", "content", 3)])
def test_a_fields_head_that_may_end_the_key_waits_for_the_other_fields(
        keyed_gw: tuple[RawUpstream, Running], route: str, name: str, pieces: int) -> None:
    """The content carrying the key's rest came before the reasoning that begins it: its
    frames left, checked and benign, before the cut could be seen (left open by 5505aa8).
    Three characters a chunk, a head is held while it may still become the key's end (a
    field with no name, ``note``, keeps no tail back)."""
    raw, gw = keyed_gw
    rest = f"{TOKEN[8:]}, keep it. "
    content, first = [*_pieces(rest, list(range(pieces, len(rest), pieces or len(rest)))),
                      *BENIGN], \
        f"Your token is {TOKEN[:8]}"
    if route == "/responses":
        raw.frames = [*map(_responses_delta, content),
                      {"type": "response.reasoning_text.delta", "item_id": "r1",
                       "output_index": 1, "content_index": 0, "delta": first}]
    else:
        raw.frames = [*(_chunk({name: text}) for text in content),
                      _chunk({"reasoning_content": first})]
    response = _post(gw, route, stream=True)
    frames = sse_frames(response.text)
    shown = "".join(json.loads(f).get("delta", "") if route == "/responses" else
                    json.loads(f)["choices"][0]["delta"].get(name, "")
                    for f in frames[:-1])
    for secret in ("7f3a9c", "vllm-token", "internal", "-vl"):
        assert secret not in shown
        assert secret not in response.text
    assert json.loads(frames[-1])["error"]["code"] == "upstream_malformed"


def test_a_head_waits_only_while_it_may_end_the_key(backend: str) -> None:
    del backend
    assert may_end_key("-vllm-token-7f3a9c, keep it.", TOKEN) is True
    assert may_end_key("-VLLM-Token-7F3A9C", TOKEN) is True
    assert may_end_key("-vl", TOKEN) is None  # may still become it
    assert may_end_key("3a9c and tea", TOKEN) is True
    assert may_end_key(TOKEN[-KEY_END_SHOWN:] + " and tea", TOKEN) is False  # few enough
    assert may_end_key("Certainly", TOKEN) is False  # the key's last character alone
    assert may_end_key("-vllm tea", TOKEN) is False
    assert may_end_key(TOKEN + " whole", TOKEN) is False  # whole: written as withheld
    assert may_end_key("", TOKEN) is False
    assert may_end_key("tea", "") is False


def test_offsets_of_a_held_end_are_the_texts_own_when_lower_case_is_longer(
        backend: str) -> None:
    """'İ'.lower() is two characters: an offset found in the lowered text would release
    the key's first character; and 'İ' or a dotless i begins the key as ``re.IGNORECASE`` (``cut``)
    reads it, so the beginning left before the key was found whole."""
    del backend
    text = "Tea İs here: internal-vl"
    assert held_from(text, TOKEN) == text.index("internal")
    assert held_from("Tea: İNTERNAL-VL", TOKEN) == len("Tea: ")
    assert held_from("Tea: ınternal-vl", TOKEN) == len("Tea: ")  # a dotless i, as the regex
    assert held_from("Tea İs ready", TOKEN) == len("Tea İs ready")
    assert across(["Your token İs İnternal-vl", "lm-token-7f3a9c"], TOKEN)


def _note_frames(held: Held, *pieces: str) -> int:
    """Add ``pieces`` of an unnamed field (which keeps no tail back), check everything, and
    count the frames that may leave."""
    for piece in pieces:
        chunk = _chunk({"note": piece})
        held.add("chat", f"data: {json.dumps(chunk)}\n\n", chunk, CHAT)
    for key in held.buffers:
        held.mark_checked(key, 0)
    return len(list(held.releasable(None)))


def test_a_head_that_may_still_end_the_key_is_held_until_it_cannot(backend: str) -> None:
    del backend
    held = Held(secret=TOKEN)
    assert _note_frames(held, "-vl") == 0  # may become '-vllm-token-7f3a9c'
    assert _note_frames(held, "lm tea") == 2  # cannot any more: both leave
    assert _note_frames(Held(secret=TOKEN), "-vllm-tok", "en-7f3a9c, tea") == 0
    assert _note_frames(Held(), "-vl") == 1  # no upstream key: nothing changes
