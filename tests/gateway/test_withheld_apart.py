"""The gateway's upstream key in pieces that no field holds whole, nor at one field's end and
another's head: the halves in two citations' links or titles, in two markdown pictures, or
the key's base64 cut between the reasoning and the content.

A client that lists an answer's sources shows both links, and one that fetches them (a link
preview, a markdown picture) sends each half to the host; a client that shows the reasoning,
then the content, shows the encoded run whole. The last session's note (issue 8) left both
open; each is withheld here as a key cut between two fields is (``test_withheld``), whole
and streamed, through a loopback upstream.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from bastion.gateway._runs import junctions
from bastion.gateway._split import across, link_pieces, touches_key

from . import test_withheld_forms as forms
from .conftest import RawUpstream, Running, sse_frames

keyed_gw = forms.keyed_gw  # the fixture: a gateway whose upstream key is TOKEN
TOKEN, CHAT, BENIGN = forms.TOKEN, forms.CHAT, forms.BENIGN

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

B64 = base64.b64encode(TOKEN.encode()).decode()  # aW50ZXJuYWwtdmxsbS10b2tlbi03ZjNhOWM=


def _delta(**delta: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta}]}


def _cite(url: str, title: str = "Source") -> dict[str, Any]:
    return {"type": "url_citation", "url_citation": {"url": url, "title": title,
                                                     "start_index": 0, "end_index": 4}}


def _whole(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer the streamed ``frames`` give, whole (each field's pieces joined, lists
    appended)."""
    message: dict[str, Any] = {"role": "assistant"}
    for frame in frames:
        for name, value in frame["choices"][0]["delta"].items():
            message[name] = message.get(name, [] if isinstance(value, list) else "") + value
    return {"id": "c", "object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop", "message": message}]}


def _after(*frames: dict[str, Any]) -> list[dict[str, Any]]:
    """``frames`` between a first sentence and benign ones."""
    return [_delta(content="Tea. "), *frames, *(_delta(content=text) for text in BENIGN)]


#: name -> streamed deltas whose pieces of the key no field holds (and what of it to look for)
APART = {
    "citation_paths": _after(_delta(annotations=[_cite("https://a.example/internal-vllm")]),
                             _delta(annotations=[_cite("https://a.example/-token-7f3a9c")])),
    "citation_queries": _after(
        _delta(annotations=[_cite("https://a.example/s?q=internal-vllm")]),
        _delta(annotations=[_cite("https://a.example/s?q=-token-7f3a9c")])),
    "citation_titles": _after(
        _delta(annotations=[_cite("https://a.example/1", "internal-vllm")]),
        _delta(annotations=[_cite("https://a.example/2", "-token-7f3a9c")])),
    "markdown_pictures": _after(
        _delta(content="Look: ![a](https://a.example/internal-vllm) "),
        *(_delta(content=text) for text in BENIGN),
        _delta(content="and ![b](https://a.example/-token-7f3a9c). ")),
    "base64_reasoning_then_content": [
        _delta(reasoning_content="Here: " + B64[:16]),
        _delta(content=B64[16:] + " and that is all. "), *(_delta(content=t) for t in BENIGN)],
    "base64_content_then_reasoning": [
        _delta(content="Here: " + B64[:16]),
        _delta(reasoning_content=B64[16:] + " and that is all. "),
        *(_delta(reasoning_content=text) for text in BENIGN)],
}
#: What of the key a client must never get: its halves, plain and encoded.
PIECES = ("internal-vllm", "-token-7f3a9c", "7f3a9c", B64[:16], B64[16:])


def _post(gw: Running, name: str, *, stream: bool) -> httpx.Response:
    with gw.client(gw.key(name)) as client:
        return client.post("/chat/completions", json={**CHAT, "stream": stream})


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("case", sorted(APART))
def test_a_key_in_pieces_no_field_holds_withholds_the_answer(
        keyed_gw: tuple[RawUpstream, Running], case: str, stream: bool) -> None:
    """Before: every case but a whole answer's titles reached the client, each piece of the
    key in its frame or its string; streamed, the answer ended with ``[DONE]``."""
    raw, gw = keyed_gw
    raw.frames = APART[case]
    raw.body = _whole(APART[case])
    response = _post(gw, f"apart-{case}-{stream}", stream=stream)
    for piece in PIECES:
        assert piece not in response.text, response.text
    if stream:
        error = json.loads(sse_frames(response.text)[-1])["error"]
    else:
        assert response.status_code == 502, response.text
        error = response.json()["error"]
    assert error["code"] == "upstream_malformed"


def _annotated(index: int, url: str, title: str) -> dict[str, Any]:
    """A Responses stream's citation event."""
    return {"type": "response.output_text.annotation.added", "item_id": "m1",
            "output_index": 0, "content_index": 0, "annotation_index": index,
            "annotation": {"type": "url_citation", "url": url, "title": title,
                           "start_index": 0, "end_index": 4}}


def _said(text: str) -> dict[str, Any]:
    return {"type": "response.output_text.delta", "item_id": "m1", "output_index": 0,
            "content_index": 0, "delta": text}


@pytest.mark.parametrize(("first", "second"), [
    (("https://a.example/internal-vllm", "S"), ("https://a.example/-token-7f3a9c", "S")),
    (("https://a.example/1", "internal-vllm"), ("https://a.example/2", "-token-7f3a9c"))],
    ids=["links", "titles"])
def test_a_key_in_two_citations_of_a_responses_stream_stops_it(
        keyed_gw: tuple[RawUpstream, Running], first: tuple[str, str],
        second: tuple[str, str]) -> None:
    """Before: the titles reached the client (an annotation event's strings are in no list)."""
    raw, gw = keyed_gw
    raw.frames = [_said("Tea. "), _annotated(0, *first), _annotated(1, *second),
                  *(_said(text) for text in BENIGN)]
    with gw.client(gw.key(f"responses-{first[1]}")) as client:
        response = client.post("/responses", json={"model": "m", "input": "go", "stream": True})
    for piece in PIECES:
        assert piece not in response.text, response.text
    assert json.loads(sse_frames(response.text)[-1])["error"]["code"] == "upstream_malformed"


#: name -> streamed deltas that touch neither the key nor its encoding
BENIGN_APART = {
    "citations": _after(
        _delta(annotations=[_cite("https://en.wikipedia.org/wiki/Tea", "Tea - Wikipedia")]),
        _delta(annotations=[_cite("https://a.example/token?id=internal", "Green tea")])),
    "pictures": _after(_delta(content="Look: ![a](https://a.example/tea.png) ")),
    "base64_reasoning_then_content": [
        _delta(reasoning_content="Decoded: " + base64.b64encode(b"the tea is ready").decode()),
        _delta(content=base64.b64encode(b" at five").decode() + " it says. "),
        *(_delta(content=text) for text in BENIGN)],
}


@pytest.mark.parametrize("case", sorted(BENIGN_APART))
def test_links_and_encoded_text_that_hold_no_key_pass(
        keyed_gw: tuple[RawUpstream, Running], case: str) -> None:
    raw, gw = keyed_gw
    raw.frames = BENIGN_APART[case]
    raw.body = _whole(BENIGN_APART[case])
    whole, streamed = (_post(gw, f"benign-{case}-{s}", stream=s) for s in (False, True))
    assert whole.status_code == 200, whole.text
    assert sse_frames(streamed.text)[-1] == "[DONE]", streamed.text
    assert "withheld" not in whole.text + streamed.text


def test_link_pieces_and_junctions_find_the_key_apart(backend: str) -> None:
    del backend  # (the module's parametrisation; no gateway here)
    first, rest = (link_pieces(f"https://a.example/s?q={half}#top")
                   for half in ("internal-vllm", "-token-7f3a9c"))
    assert across([*first, *rest], TOKEN)
    assert "-token-7f3a9c" in link_pieces("https://a.example/%252Dtoken-7f3a9c")  # twice
    assert not across(link_pieces("https://a.example/internal-vllm/-token-7f3a9d"), TOKEN)
    assert touches_key("docs/internal-vllm", TOKEN)
    assert touches_key("-token-7f3", TOKEN)
    assert not touches_key("tea", TOKEN)
    assert not touches_key("Enjoy it", TOKEN)
    assert not touches_key("7f3a9c", "")
    # three of the key's first or last characters are few enough (KEY_END_SHOWN)
    assert not touches_key("peppermint", TOKEN)
    assert not touches_key("a9c-tea", TOKEN)
    assert list(junctions(["Here: aW50", "ZXJu and more", "plain words"], 8)) == \
        ["aW50ZXJu"]
    assert not list(junctions(["Here: aW50", "ZXJu and more"], 9))  # too short to be the key
