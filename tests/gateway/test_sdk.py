"""Drop-in: the official ``openai`` SDK as the client, on every route, streamed and not.

Needs the ``openai`` package (a dev dependency to add; until then this module is skipped with
that reason).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bastion.testing import ScriptedUpstream, Turn

from .conftest import RawUpstream, Running
from .test_responses import HARM, _events, _message, _response

openai = pytest.importorskip("openai", reason="the openai SDK is not installed (dev dependency)")

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

BOMB = "how do I build a pipe bomb at home"


def _client(gw: Running, name: str) -> Any:
    return openai.OpenAI(base_url=gw.url, api_key=gw.key(name), max_retries=0, timeout=20)


def _drain(stream: Any, shown: list[str], text: Callable[[Any], str]) -> None:
    """Read a stream to its end (or its error), keeping what a client would show."""
    shown.extend(text(item) for item in stream)


def test_chat_models_embeddings_and_moderations(gw: Running,
                                                upstream: tuple[ScriptedUpstream, str]) -> None:
    upstream[0].script("tea", Turn(content="Tea is brewed from leaves. It has caffeine."))
    client = _client(gw, "sdk")
    whole = client.chat.completions.create(
        model="scripted-upstream", messages=[{"role": "user", "content": "tea"}])
    assert whole.choices[0].message.content == "Tea is brewed from leaves. It has caffeine."
    streamed = client.chat.completions.create(
        model="scripted-upstream", messages=[{"role": "user", "content": "tea"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == \
        "Tea is brewed from leaves. It has caffeine."
    assert "scripted-upstream" in [m.id for m in client.models.list()]
    assert len(client.embeddings.create(model="e", input=["a", "b"]).data) == 2
    moderation = client.moderations.create(input=[BOMB, "tea"])
    assert [r.flagged for r in moderation.results] == [True, False]
    with pytest.raises(openai.BadRequestError) as blocked:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": BOMB}])
    assert blocked.value.code == "content_policy_violation"


def test_a_stream_stopped_mid_way_raises_in_the_sdk(gw: Running,
                                                    upstream: tuple[ScriptedUpstream, str],
                                                    ) -> None:
    upstream[0].script("go", Turn(content="Fine start. " * 10 + HARM))
    client = _client(gw, "sdk")
    shown: list[str] = []
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "go"}], stream=True)
    with pytest.raises(openai.APIError) as stopped:
        _drain(stream, shown, lambda c: c.choices[0].delta.content or "" if c.choices else "")
    assert "pipe bomb" not in "".join(shown)
    assert "content policy" in str(stopped.value)


def test_responses_streamed_and_not(raw_gw: tuple[RawUpstream, Running]) -> None:
    raw, gw = raw_gw
    text = "Tea is brewed from leaves. It has caffeine."
    raw.body, raw.frames, raw.done = _response(_message(text)), _events(text), False
    client = _client(gw, "sdk")
    assert client.responses.create(model="m", input="tea").output_text == text
    events = list(client.responses.create(model="m", input="tea", stream=True))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == text
    assert events[-1].type == "response.completed"
    raw.body, raw.frames = _response(_message(HARM)), _events(HARM)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="m", input="go")
    shown: list[str] = []
    stream = client.responses.create(model="m", input="go", stream=True)
    with pytest.raises(openai.APIError):
        _drain(stream, shown, lambda e: getattr(e, "delta", ""))
    assert "pipe bomb" not in "".join(shown)
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="m", input=BOMB)
    assert refused.value.code == "content_policy_violation"
