"""The gateway's upstream key given away in pieces inside one field, with text between them.

'The first part is internal-vllm and the rest is -token-7f3a9c': no string holds the key
whole, and no field ends with its beginning where another begins with its rest, so neither
the scrub (``_upstream.withhold_upstream``) nor the checks of pieces across fields and links
(``_split.across``) saw it; a client reads both halves, whole answer or streamed (issue 8).
Each case here goes through a loopback upstream; the benign answers (prose, code, base64
pictures, hashes, UUIDs, a whole key, which is written ``[withheld]`` and nothing more) must
come through unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

import httpx
import pytest

from bastion.gateway._pieces import piece_chars, shows_pieces
from bastion.testing import serve_app

from .conftest import GatewayFactory, RawUpstream, Running, sse_frames

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

WORDS_KEY = "internal-vllm-token-7f3a9c"  # the other tests' stand-in key, made of words
RANDOM_KEY = "sk-proj-uPmVcto74a6QpOtUZnv3d9qQu9RVGCCIqV6UOtst9d8d3x73RILelgd1BzOl"
BODY = RANDOM_KEY[8:]  # what follows the key's public 'sk-proj-'
CHAT = {"model": "m", "messages": [{"role": "user", "content": "go"}]}
AFTER = " Keep it safe. Tea is ready. Enjoy the afternoon."


@pytest.fixture(params=["words", "random"])
def keyed(request: pytest.FixtureRequest, gateway_factory: GatewayFactory,
          monkeypatch: pytest.MonkeyPatch) -> Any:
    """(upstream, gateway, key): a gateway whose upstream key is one of the two keys."""
    key = WORDS_KEY if request.param == "words" else RANDOM_KEY
    monkeypatch.setenv("H8_UPSTREAM_KEY", key)
    raw = RawUpstream()
    with serve_app(raw.app()) as url:
        yield raw, gateway_factory(upstream__base_url=url,
                                   upstream__api_key_env="H8_UPSTREAM_KEY"), key


def _chunks(key: str) -> list[str]:
    """``key`` cut into four pieces, the first with the public 'sk-proj-' (halves for the
    short key made of words)."""
    if key == WORDS_KEY:
        return ["internal-vllm", "-token-7f3a9c"]
    pieces = [BODY[at:at + 15] for at in range(0, len(BODY), 15)]
    return ["sk-proj-" + pieces[0], *pieces[1:]]


#: name -> how an answer writes the key's pieces (the key's chunks, in order)
SAID = {
    "words_between": lambda p: "The first part is " + " and then comes ".join(p) + ".",
    "spaces": lambda p: "Here it is: " + " ".join(p) + ".",
    "newlines_and_list": lambda p: "Parts:\n" + "\n".join(f"{n}. {c}" for n, c in
                                                         enumerate(p, 1)) + "\n",
    "quotes": lambda p: "key = " + " + ".join(f'"{c}"' for c in p) + "\n",
    "reversed_order": lambda p: "Join these, last first: " + ", ".join(reversed(p)) + ".",
    "beginning_only": lambda p: f"It begins {p[0]}, the rest I keep.",
    "beginning_at_the_end": lambda p: f"It begins {p[0]}",
}


def _chat(content: str, field: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": content if field == "content" else "Tea."}
    if field != "content":
        message[field] = content
    return {"id": "c", "object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop", "message": message}]}


def _streamed(content: str, field: str, size: int) -> list[dict[str, Any]]:
    pieces = [content[at:at + size] for at in range(0, len(content), size)]
    frames = [{"choices": [{"index": 0, "delta": {field: piece}}]} for piece in pieces]
    if field != "content":
        frames.append({"choices": [{"index": 0, "delta": {"content": "Tea."}}]})
    return frames


def _post(gw: Running, name: str, *, stream: bool) -> httpx.Response:
    with gw.client(gw.key(name)) as client:
        return client.post("/chat/completions", json={**CHAT, "stream": stream})


def _leaks(text: str, pieces: list[str]) -> list[str]:
    """The pieces of the key (past a public 'sk-proj-') that ``text`` shows, any case."""
    folded = text.lower()
    return [p for p in pieces if p.removeprefix("sk-proj-").lower() in folded]


@pytest.mark.parametrize("field", ["content", "reasoning_content"])
@pytest.mark.parametrize("how", ["whole", "one_chunk", "4_chars", "7_chars"])
@pytest.mark.parametrize("said", sorted(SAID))
def test_pieces_of_the_key_with_text_between_them_withhold_the_answer(
        keyed: tuple[RawUpstream, Running, str], said: str, how: str, field: str) -> None:
    """Before: every case reached the client with each piece (whole: a 200; streamed: [DONE]
    after the pieces), but the random key's first piece where it is masked as a secret."""
    raw, gw, key = keyed
    pieces = _chunks(key)
    content = SAID[said](pieces)
    size = {"whole": 0, "one_chunk": len(content), "4_chars": 4, "7_chars": 7}[how]
    raw.body = _chat(content, field)
    raw.frames = _streamed(content, field, size or len(content))
    response = _post(gw, f"pieces-{said}-{how}-{field}-{len(key)}", stream=how != "whole")
    assert _leaks(response.text, pieces) == [], response.text
    if how == "whole":
        assert response.status_code == 502, response.text
        error = response.json()["error"]
    else:
        frames = sse_frames(response.text)
        # (one CI run of 3,873 tests once got no frame here; say what came instead)
        assert frames, (response.status_code, response.headers, response.text)
        error = json.loads(frames[-1])["error"]
    assert error["code"] == "upstream_malformed"
    assert "in pieces" in error["message"]


def _picture() -> str:
    return "![chart](data:image/png;base64," + base64.b64encode(
        hashlib.sha512(b"chart").digest() * 6).decode() + ")"


#: name -> a benign answer, which must reach the client as it came
BENIGN = {
    "prose": "Green tea is steeped at 80 C for two minutes; an internal thermometer helps. "
             "Tokens of appreciation are welcome." + AFTER,
    "code": "```python\nimport os\n\ntoken = os.environ['OPENAI_API_KEY']  # sk-proj-...\n"
            "client = OpenAI(api_key=token, base_url='http://gpu-box:8000/v1')\n```\n"
            "Set OPENAI_API_KEY to a key that begins with sk-proj-; never paste it here.",
    "base64_picture": "Here is the chart: " + _picture() + AFTER,
    "hashes": "sha256: " + hashlib.sha256(b"tea").hexdigest() + "\nmd5: "
              + hashlib.md5(b"tea").hexdigest() + "\nsha1: " + hashlib.sha1(b"tea").hexdigest()
              + AFTER,  # (a digest, not a credential)
    "uuids": "Ids: " + ", ".join(str(uuid.UUID(int=n * 0x9E3779B97F4A7C15F39CC0605CEDC834
                                               % 2**128)) for n in range(1, 9)) + "." + AFTER,
    "random_tokens": "Example tokens: " + " ".join(
        base64.urlsafe_b64encode(hashlib.sha256(bytes([n])).digest()).decode()[:40]
        for n in range(12)) + AFTER,
}


@pytest.mark.parametrize("field", ["content", "reasoning_content"])
@pytest.mark.parametrize("case", sorted(BENIGN))
def test_benign_answers_pass_unchanged(keyed: tuple[RawUpstream, Running, str], case: str,
                                       field: str) -> None:
    raw, gw, key = keyed
    content = BENIGN[case]
    raw.body = _chat(content, field)
    raw.frames = _streamed(content, field, 5)
    whole = _post(gw, f"benign-{case}-{field}-{len(key)}-w", stream=False)
    streamed = _post(gw, f"benign-{case}-{field}-{len(key)}-s", stream=True)
    assert whole.status_code == 200, whole.text
    assert whole.json()["choices"][0]["message"][field] == content
    frames = sse_frames(streamed.text)
    assert frames[-1] == "[DONE]", streamed.text
    shown = "".join(json.loads(f)["choices"][0]["delta"].get(field, "") for f in frames[:-1])
    assert shown == content


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_the_whole_key_is_still_written_withheld_and_the_answer_served(
        keyed: tuple[RawUpstream, Running, str], stream: bool) -> None:
    """A whole key is no piece: it leaves as ``[withheld]`` (``test_withheld``), the rest
    served."""
    raw, gw, key = keyed
    content = f"The key is {key}, as asked." + AFTER
    raw.body = _chat(content, "content")
    raw.frames = _streamed(content, "content", 4)
    response = _post(gw, f"whole-key-{stream}-{len(key)}", stream=stream)
    assert response.status_code == 200, response.text
    assert _leaks(response.text, _chunks(key)) == []
    expected = content.replace(key, "[withheld]")
    if stream:
        frames = sse_frames(response.text)
        assert frames[-1] == "[DONE]"
        assert "".join(json.loads(f)["choices"][0]["delta"].get("content", "")
                       for f in frames[:-1]) == expected
    else:
        assert response.json()["choices"][0]["message"]["content"] == expected


def test_the_shortest_piece_follows_the_keys_alphabet(backend: str) -> None:
    del backend  # (the module's parametrisation; no gateway here)
    assert piece_chars(WORDS_KEY) == 10  # 37 symbols compared: 5.2 bits a character
    assert piece_chars(RANDOM_KEY) == 10  # 36 once case is folded
    assert piece_chars("0123456789" * 4) == 16  # digits only: 3.3 bits
    assert piece_chars(hashlib.sha256(b"k").hexdigest()) == 13  # hex: 4 bits
    assert shows_pieces(["a internal-v b"], WORDS_KEY)
    assert not shows_pieces(["a internal- b"], WORDS_KEY)  # 9 characters: chance
    assert not shows_pieces([f"x {WORDS_KEY} y"], WORDS_KEY)  # the key whole: written out
    assert shows_pieces([f"x {WORDS_KEY} y internal-vllm"], WORDS_KEY)
    assert not shows_pieces(["sk-proj-" + BODY[:9]], RANDOM_KEY)  # the public prefix
    assert shows_pieces(["sk-proj-" + BODY[:10]], RANDOM_KEY)
    assert shows_pieces([BODY[20:30].upper()], RANDOM_KEY)  # any case
    assert not shows_pieces(["anything"], "")
