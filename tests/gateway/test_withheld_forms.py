"""The gateway's upstream key in forms a client reads as the key, withheld as the key is.

A black-box pass (issue 8) read the key in whole answers that held it upper-cased with a
dotted capital I, with a dotless i, or behind a JSON escape (the checks compared the answer's
raw text, with ``str.casefold``); spelled by the best alternatives of each ``logprobs`` step;
escaped inside a tool call's arguments (JSON a client decodes); and in an upstream 400's
message with a dotted capital I. Streamed, each was withheld already, or is tested here too.
And a stream whose fields interleave and spell the key in the order their pieces came: a
client printing every delta showed the key whole, though no field held it.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

import httpx
import pytest

from bastion.testing import serve_app

from .conftest import GatewayFactory, RawUpstream, Running, sse_frames

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

TOKEN = "internal-vllm-token-7f3a9c"  # a test's stand-in upstream key
CHAT = {"model": "m", "messages": [{"role": "user", "content": "go"}]}
ESCAPED = "\\u0069nternal-vllm-token-7f3a9c"  # the key, once the JSON is parsed


@pytest.fixture
def keyed_gw(gateway_factory: GatewayFactory, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("H8_UPSTREAM_KEY", TOKEN)
    raw = RawUpstream()
    with serve_app(raw.app()) as url:
        yield raw, gateway_factory(upstream__base_url=url,
                                   upstream__api_key_env="H8_UPSTREAM_KEY")


def _chat(message: dict[str, Any], **choice: Any) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", **message},
         **choice}]}


def _post(gw: Running, name: str, **extra: Any) -> httpx.Response:
    with gw.client(gw.key(name)) as client:
        return client.post("/chat/completions", json={**CHAT, **extra})


def _no_key(text: str) -> bool:
    """Whether ``text`` (a client's reading) names no part of the key, in any case form."""
    folded = text.replace("\u0130", "i").replace("\u0131", "i").lower()
    return "7f3a9c" not in folded and "vllm-token" not in folded and "internal" not in folded


#: name -> the answer's JSON text, whose content quotes the key in a form a client reads as it
FORMS = {
    "upper_dotted_capital_i": json.dumps(_chat(
        {"content": f"It is {TOKEN.upper().replace('I', chr(0x130))}. Tea."})),
    "dotless_i": json.dumps(_chat({"content": f"It is {TOKEN.replace('i', chr(0x131))}. Tea."})),
    "json_escape": json.dumps(_chat({"content": "It is KEY. Tea."})).replace("KEY", ESCAPED),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_key_in_a_form_a_client_reads_as_it_is_withheld_in_a_whole_answer(
        keyed_gw: tuple[RawUpstream, Running], form: str) -> None:
    raw, gw = keyed_gw
    raw.text = FORMS[form]
    response = _post(gw, f"form-{form}")
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "It is [withheld]. Tea."


def test_a_key_with_a_dotted_capital_i_cut_over_chunks_is_withheld(
        keyed_gw: tuple[RawUpstream, Running]) -> None:
    """Its beginning was not held back (``str.lower`` reads 'İ' as two characters, neither
    'i'), and left before the regex found the whole key: in a field that keeps no tail
    back (``note``), checked when the upstream stalls."""
    raw, gw = keyed_gw
    said = f"It is \u0130{TOKEN[1:]}. Tea is ready now."
    raw.frames = [{"choices": [{"index": 0, "delta": {"note": part}}]}
                  for part in (said[:16], said[16:])]
    raw.frame_delay = 0.5  # over the gateway's max_hold_s (0.2)
    response = _post(gw, "cut-dotted", stream=True)
    shown = "".join(json.loads(f)["choices"][0]["delta"].get("note", "")
                    for f in sse_frames(response.text)[:-1] if f.startswith("{"))
    assert shown == "It is [withheld]. Tea is ready now.", response.text


def _alternatives() -> dict[str, Any]:
    said = f"Your token is {TOKEN}, keep it."
    return {"content": [{"token": "Tea ", "logprob": -0.1, "bytes": None, "top_logprobs": [
        {"token": said[i:i + 4], "logprob": -1.0, "bytes": None}]}
        for i in range(0, len(said), 4)]}


#: name -> a whole answer whose strings hold no key, but a client's reading of them does
SPELLED = {
    "logprobs_alternatives": _chat({"content": "Tea " * 9}, logprobs=_alternatives()),
    "escaped_in_tool_arguments": _chat({"content": None, "tool_calls": [
        {"id": "call_0", "type": "function", "function": {
            "name": "lookup", "arguments": '{"token": "' + ESCAPED + '"}'}}]}),
}


@pytest.mark.parametrize("case", sorted(SPELLED))
def test_a_key_a_client_reads_over_several_strings_withholds_the_answer(
        keyed_gw: tuple[RawUpstream, Running], case: str) -> None:
    raw, gw = keyed_gw
    raw.body = SPELLED[case]
    response = _post(gw, f"spelled-{case}", logprobs=True, top_logprobs=1)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "upstream_malformed"
    assert _no_key(response.text)


def test_an_upstream_400_quoting_the_key_with_a_dotted_capital_i_is_withheld(
        keyed_gw: tuple[RawUpstream, Running]) -> None:
    raw, gw = keyed_gw
    raw.status = 400
    raw.body = {"error": {"message": f"bad token \u0130{TOKEN[1:]}", "type": "invalid"}}
    response = _post(gw, "error-dotted")
    assert response.status_code == 400
    assert "withheld" in response.json()["error"]["message"]
    assert _no_key(json.loads(response.text)["error"]["message"])


BENIGN = ["Tea is a drink made by steeping leaves in hot water. ",
          "Green tea is steeped for two minutes at eighty degrees. ", "Enjoy it. "]


def _delta(name: str, text: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {name: text}}]}


#: name -> streamed deltas whose fields interleave and spell the key in the order they came
INTERLEAVED = {
    "content_reasoning_content": [
        _delta("content", "Your token is internal"),
        _delta("reasoning_content", "-vllm-token-7f3a9c"),
        *(_delta("content", " " + text) for text in BENIGN)],
    "reasoning_content_reasoning": [
        _delta("reasoning_content", "Your token is internal-vllm"),
        _delta("content", "-token-7f3a9c, keep it."),
        *(_delta("reasoning_content", " " + text) for text in BENIGN)],
    "content_and_unnamed_field_alternating": [
        *(_delta("content" if n % 2 else "note", TOKEN[n * 4:n * 4 + 4]) for n in range(7)),
        *(_delta("content", text) for text in BENIGN)],
}


@pytest.mark.parametrize("case", sorted(INTERLEAVED))
def test_a_key_spelled_across_interleaving_fields_stops_the_stream(
        keyed_gw: tuple[RawUpstream, Running], case: str) -> None:
    """A client printing every delta shows the key whole though no field holds it (a
    black-box pass, issue 8: the whole key reached it); and the key's beginning left first,
    released once its own field went on."""
    raw, gw = keyed_gw
    raw.frames = INTERLEAVED[case]
    response = _post(gw, f"interleaved-{case}", stream=True)
    frames = sse_frames(response.text)
    shown = "".join(value for f in frames[:-1] for value in
                    json.loads(f)["choices"][0]["delta"].values() if isinstance(value, str))
    for part in ("internal", "vllm", "7f3a9c"):
        assert part not in shown, shown
    assert json.loads(frames[-1])["error"]["code"] == "upstream_malformed"


def test_a_key_cut_over_one_fields_chunks_is_written_out_though_fields_interleave(
        keyed_gw: tuple[RawUpstream, Running]) -> None:
    """The arrival reading holds that key too, but a field does: it leaves as the
    placeholder, and the stream goes on (only a key no field holds stops it)."""
    raw, gw = keyed_gw
    raw.frames = [_delta("content", "The token is internal-vl"), _delta("note", "x"),
                  _delta("content", "lm-token-7f3a9c, as asked. "), _delta("note", "y"),
                  *(_delta("content", text) for text in BENIGN)]
    response = _post(gw, "interleaved-one-field", stream=True)
    frames = sse_frames(response.text)
    assert frames[-1] == "[DONE]", response.text
    shown = "".join(json.loads(f)["choices"][0]["delta"].get("content", "")
                    for f in frames[:-1] if f.startswith("{"))
    assert shown.startswith("The token is [withheld], as asked. Tea is"), shown


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


#: name -> the answer's content: the key in an encoding a client decodes
ENCODED = {
    "base64": f"Here it is: {_b64(TOKEN)} and that is all.",
    "base64_of_a_header": f"Header: {_b64('Authorization: Bearer ' + TOKEN)}",
    "double_base64": f"Twice: {_b64(_b64(TOKEN))}",
    "hex": f"In hex: {TOKEN.encode().hex()}",
    "url_escapes": "Link: https://x.example/?k=" + "".join(f"%{b:02X}" for b in TOKEN.encode()),
}


@pytest.mark.parametrize("form", sorted(ENCODED))
def test_the_key_encoded_in_a_whole_answer_is_withheld(
        keyed_gw: tuple[RawUpstream, Running], form: str) -> None:
    """No regex over the text as sent finds the key base64-encoded, in hex or URL-escaped,
    and a client who decodes the answer reads it: the answer is withheld (a 502)."""
    raw, gw = keyed_gw
    raw.text = json.dumps(_chat({"content": ENCODED[form]}))
    response = _post(gw, f"encoded-{form}")
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "upstream_malformed"
    assert _no_key(urllib.parse.unquote(response.text))
    assert ENCODED[form].split()[-1] not in response.text


def test_other_encoded_text_in_a_whole_answer_passes(
        keyed_gw: tuple[RawUpstream, Running]) -> None:
    raw, gw = keyed_gw
    content = (f"Decoded, {_b64('the tea is ready at five')} says the tea is ready; "
               f"{b'internal-vllm'.hex()} is half a name, and %41%42 two letters.")
    raw.text = json.dumps(_chat({"content": content}))
    response = _post(gw, "encoded-benign")
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == content


def _streamed(text: str, size: int = 6) -> list[dict[str, Any]]:
    """``text`` as content deltas of ``size`` characters, then the benign sentences."""
    pieces = [text[i:i + size] for i in range(0, len(text), size)]
    return [_delta("content", piece) for piece in [*pieces, " ", *BENIGN]]


@pytest.fixture(params=["windows", "whole"])
def held_gw(request: pytest.FixtureRequest, gateway_factory: GatewayFactory,
            monkeypatch: pytest.MonkeyPatch) -> Any:
    """``keyed_gw``, releasing checked windows, or (``whole``) holding every streamed answer
    whole to its end, as a policy may."""
    monkeypatch.setenv("H8_UPSTREAM_KEY", TOKEN)
    held = {"stream__policies": "{default: {whole_answer: true}}"} \
        if request.param == "whole" else {}
    raw = RawUpstream()
    with serve_app(raw.app()) as url:
        yield raw, gateway_factory(upstream__base_url=url,
                                   upstream__api_key_env="H8_UPSTREAM_KEY", **held)


@pytest.mark.parametrize("form", sorted(ENCODED))
def test_the_key_encoded_in_a_stream_stops_it_before_any_of_it_leaves(
        held_gw: tuple[RawUpstream, Running], form: str) -> None:
    """Streamed a few characters a chunk, the encoded key left piece by piece (only whole
    answers were read decoded, issue 8): an encoded run is held whole until a plain word
    ends it, and read decoded before it may leave; the key in it stops the stream, and none
    of the run was sent. An answer held whole is read so at its end."""
    raw, gw = held_gw
    raw.frames = _streamed(ENCODED[form])
    response = _post(gw, f"encoded-stream-{form}", stream=True)
    frames = sse_frames(response.text)
    assert frames[-1] != "[DONE]", response.text
    assert json.loads(frames[-1])["error"]["code"] == "upstream_malformed", response.text
    shown = "".join(json.loads(f)["choices"][0]["delta"].get("content", "")
                    for f in frames[:-1] if f.startswith("{"))
    run = ENCODED[form].split()[-1]
    assert run[:8] not in shown, shown
    assert run[-8:] not in shown, shown
    assert _no_key(urllib.parse.unquote(response.text))


def test_other_encoded_text_in_a_stream_passes(held_gw: tuple[RawUpstream, Running]) -> None:
    raw, gw = held_gw
    content = (f"Decoded, {_b64('the tea is ready at five')} says the tea is ready; "
               f"{b'internal-vllm'.hex()} is half a name, and %41%42 two letters.")
    raw.frames = _streamed(content)
    response = _post(gw, "encoded-stream-benign", stream=True)
    frames = sse_frames(response.text)
    assert frames[-1] == "[DONE]", response.text
    shown = "".join(json.loads(f)["choices"][0]["delta"].get("content", "")
                    for f in frames[:-1] if f.startswith("{"))
    assert shown == content + " " + "".join(BENIGN)
