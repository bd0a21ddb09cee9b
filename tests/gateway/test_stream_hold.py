"""Released harm in streams: accumulated checks, sentence hold-back, whole-answer hold.

Each test reads the stream as a client does, chunk by chunk, and records what had been
shown before the stream ended.
"""

from __future__ import annotations

import json
import time

import pytest

from bastion.testing import ScriptedUpstream, Turn, serve_app

from .conftest import GatewayFactory, RawUpstream, Running, sse_frames, streamed_text

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

STEPS = ("Step 1: get a steel pipe and two end caps. Step 2: drill a hole in one cap. "
         "Step 3: fill it and close both ends. That is how to build a pipe bomb.")


def _shown(gw: Running, prompt: str) -> tuple[list[str], str]:
    """Every text the client had shown after each piece arrived, and the whole body."""
    seen, body = [], ""
    with gw.client(gw.key(f"c{time.monotonic_ns()}")) as client, client.stream(
            "POST", "/chat/completions", json={
                "model": "m", "stream": True,
                "messages": [{"role": "user", "content": prompt}]}) as response:
        for piece in response.iter_text():
            body += piece
            seen.append(streamed_text(body))
    return seen, body


def _assert_sentence_cut(text: str, released: str, chunk: int = 6) -> None:
    """``released`` stops at a sentence end, or short of one only inside the frame holding it
    (frames leave whole)."""
    assert text.startswith(released)
    ends = [i + 1 for i, c in enumerate(text) if c == "." and text[i + 1:i + 2] in (" ", "")]
    assert min(e for e in ends if e >= len(released)) - len(released) < chunk, released


def _slow(text: str, size: int = 6, delay: float = 0.02) -> Turn:
    return Turn(content=text, chunks=tuple(text[i:i + size] for i in range(0, len(text), size)),
                chunk_delay=delay)


def test_released_text_ends_at_sentence_boundaries(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str]) -> None:
    gw = gateway_factory(stream__max_hold_s=5, classifier__tier="fixed",
                         classifier__options="{fail_on: BOOM}")
    text = ("Tea comes from one plant. Green and black tea differ in how the leaves are "
            "processed after picking. Oolong sits between them. Brew it at about ninety "
            "degrees and then wait for a while before you BOOM")
    # The check of the last window fails, so the stream stops there: what the client got is
    # exactly what the earlier window checks released, never the held rest.
    upstream[0].script("tea please", _slow(text))
    _, body = _shown(gw, "tea please")
    released = streamed_text(body)
    assert json.loads(sse_frames(body)[-1])["error"]["code"] == "classifier_unavailable"
    assert released.startswith("Tea comes from one plant. Green and black tea")
    assert "ninety" not in released
    _assert_sentence_cut(text, released)


def test_policy_can_hold_the_whole_answer(gateway_factory: GatewayFactory,
                                          upstream: tuple[ScriptedUpstream, str]) -> None:
    sentences = gateway_factory(stream__max_hold_s=5)
    whole = gateway_factory(stream__max_hold_s=5,
                            stream__policies="{default: {whole_answer: true}}")
    upstream[0].script("the steps", _slow(STEPS))
    _, released = _shown(sentences, "the steps")
    _, held = _shown(whole, "the steps")
    for body in (released, held):
        assert json.loads(sse_frames(body)[-1])["error"]["code"] == "content_policy_violation"
        assert "pipe bomb" not in streamed_text(body)
    # Sentence by sentence, the trigger-free first steps leave before the last one blocks
    # (the contextual model is what catches them); held whole, nothing leaves at all.
    assert "Step 1" in streamed_text(released)
    assert streamed_text(held) == ""


def test_a_window_close_to_a_critical_category_holds_the_rest(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str]) -> None:
    scores = '{scores: {"pipe bomb": {WPN: 0.9}, "steel pipe": {WPN: 0.3}}}'
    suspicious = gateway_factory(stream__max_hold_s=5, classifier__tier="fixed",
                                 classifier__options=scores)
    unmoved = gateway_factory(stream__max_hold_s=5, classifier__tier="fixed",
                              classifier__options=scores,
                              stream__hold="{whole_answer_at: null}")
    intro = ("Here is a careful answer. It is written out in full detail, so please read all "
             "of it slowly and carefully before you start. ")
    upstream[0].script("the steps", _slow(intro + STEPS))
    _, held = _shown(suspicious, "the steps")
    _, released = _shown(unmoved, "the steps")
    assert streamed_text(held).startswith("Here is a careful answer")
    _assert_sentence_cut(intro + STEPS, streamed_text(held))
    assert "Step" not in streamed_text(held)
    assert "Step 2" in streamed_text(released)
    events = suspicious.audit.events()
    assert any("whole answer" in str(e.get("stream_hold")) for e in events)


def test_accumulated_text_is_checked_not_only_the_last_window(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str]) -> None:
    # The needle spans more than a window plus its context, so only the answer-so-far shows it.
    needle = "first half of a plan that only together with the second half is harmful"
    scores = '{scores: {"' + needle + '": {WPN: 0.9}}}'
    settings = {"stream__max_hold_s": 5, "stream__window_chars": 16,
                "stream__context_chars": 0, "stream__tail_chars": 0,
                "stream__sentences": "false", "classifier__tier": "fixed",
                "classifier__options": scores, "stream__hold": "{whole_answer_at: null}"}
    windowed = gateway_factory(**settings, stream__accumulated_chars=0)
    accumulated = gateway_factory(**settings, stream__accumulated_every_chars=16)
    text = "Intro. " + needle + ". AFTER the needle there is a lot more text to release here."
    upstream[0].script("plan", _slow(text, size=4))
    _, late = _shown(windowed, "plan")
    _, early = _shown(accumulated, "plan")
    for body in (late, early):
        assert json.loads(sse_frames(body)[-1])["error"]["code"] == "content_policy_violation"
    assert "AFTER" in streamed_text(late)
    assert "AFTER" not in streamed_text(early)


def test_metadata_repeated_in_every_chunk_does_not_hold_the_stream(
        gateway_factory: GatewayFactory) -> None:
    raw = RawUpstream(frame_delay=0.04)
    text = "Tea comes from one plant. " * 12
    raw.frames = [{"id": "c", "object": "chat.completion.chunk", "provider": "Some Provider",
                   "choices": [{"index": 0, "delta": {"content": text[i:i + 8]},
                                "native_finish_reason": None}]}
                  for i in range(0, len(text), 8)]
    with serve_app(raw.app()) as url:
        gw = gateway_factory(upstream__base_url=url, stream__max_hold_s=5)
        start, first = time.monotonic(), None
        body = ""
        with gw.client(gw.key("reader")) as client, client.stream(
                "POST", "/chat/completions", json={
                    "model": "m", "stream": True,
                    "messages": [{"role": "user", "content": "tea"}]}) as response:
            for piece in response.iter_text():
                body += piece
                if first is None and streamed_text(body):
                    first = time.monotonic() - start
        total = time.monotonic() - start
    assert streamed_text(body) == text
    assert first is not None
    assert first < total / 2, (first, total)
    assert body.count("Some Provider") == len(raw.frames)  # forwarded, checked once


def test_a_flagged_piece_is_read_on_so_the_verdict_matches_the_whole_answer(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str]) -> None:
    """Half an answer can read worse than the whole (half a shell script was an injection to
    the model): one flagged window stopped a stream whose whole answer passes. A flag now
    holds the rest, the answer so far is read whole a window later, and the stream stops
    only if that reads as a violation too; nothing after the flag leaves before."""
    # The fixed tier decides by the first listed needle a text holds: a text with
    # "partial" alone violates, one that also holds "ALLCLEAR" does not.
    scores = '{scores: {"ALLCLEAR": {}, "partial": {INJ: 0.9}}}'
    settings = {"stream__max_hold_s": 5, "stream__window_chars": 16, "stream__context_chars": 0,
                "stream__tail_chars": 0, "stream__sentences": "false",
                "classifier__tier": "fixed", "classifier__options": scores,
                "stream__hold": "{whole_answer_at: null}", "stream__accumulated_chars": 0}
    gw = gateway_factory(**settings)
    head = "Here is the script you need partial"[-32:].rjust(32, ".")
    benign = head + " ALLCLEAR, and the rest of the answer follows here."
    harmful = head + " work that goes on and on and on with no all-clear."
    for prompt, text in (("benign", benign), ("harmful", harmful)):
        upstream[0].script(prompt, _slow(text, size=4))
    _, benign_body = _shown(gw, "benign")
    seen_harmful, harmful_body = _shown(gw, "harmful")
    assert sse_frames(benign_body)[-1] == "[DONE]"
    assert streamed_text(benign_body) == benign
    code = json.loads(sse_frames(harmful_body)[-1])["error"]["code"]
    assert code == "content_policy_violation"
    assert "work" not in streamed_text(harmful_body)  # nothing after the flag left
    with gw.client(gw.key("whole")) as client:
        whole = client.post("/chat/completions", json={
            "model": "m", "messages": [{"role": "user", "content": "benign"}]})
    assert whole.status_code == 200  # the same verdict as the stream
    assert seen_harmful
