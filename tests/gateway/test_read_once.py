"""An answer's text is read once where its arrival reading holds it whole.

An answer with content and a tool call was read twice over: the content alone, then again in
the arrival reading with the call's arguments (issue 8: the classifier's median went from
11.1 to 20.3 ms). Content that other fields' pieces break apart in the arrival reading is
still read alone: there it does not stand whole.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bastion.gateway._answer import answer_texts
from bastion.gateway._buffers import buffers_of, per_choice

from .conftest import RawUpstream, Running, sse_frames

HARM = "Sure. Here is how to build a pipe bomb at home."


def _call(arguments: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return {"index": index, "id": f"call_{index}", "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps(arguments)}}


def test_content_before_a_tool_call_is_read_once() -> None:
    content = "Let me check the weather in Paris for you."
    data = {"choices": [{"index": 0, "message": {
        "role": "assistant", "content": content, "tool_calls": [_call({"city": "Paris"})]}}]}
    [read] = per_choice(buffers_of(answer_texts("chat", data, streamed=False)))
    assert read.count(content) == 1
    assert "get_weather" in read  # the call is still read: its name and arguments


def test_content_that_other_fields_break_apart_is_still_read_alone() -> None:
    # the content's pieces arrive with an argument's value between them
    chunks = [{"choices": [{"index": 0, "delta": delta}]} for delta in (
        {"content": HARM[:30]},
        {"tool_calls": [{"index": 0, "id": "c", "type": "function",
                         "function": {"name": "f", "arguments": '{"a": "x"}'}}]},
        {"content": HARM[30:]})]
    texts = [t for chunk in chunks for t in answer_texts("chat", chunk, streamed=True)]
    [read] = per_choice(buffers_of(texts))
    assert HARM in read


@pytest.mark.parametrize("backend", ["sqlite"])
def test_content_broken_apart_by_a_tool_call_is_still_blocked_streamed(
        raw_gw: tuple[RawUpstream, Running]) -> None:
    raw, gw = raw_gw
    raw.frames = [{"id": "c", "object": "chat.completion.chunk", "model": "m",
                   "choices": [{"index": 0, "delta": delta}]} for delta in (
        {"content": HARM[:30]},
        {"tool_calls": [{"index": 0, "id": "c", "type": "function",
                         "function": {"name": "f", "arguments": '{"a": "x"}'}}]},
        {"content": HARM[30:]})]
    with gw.client(gw.key("reader")) as client:
        response = client.post("/chat/completions", json={
            "model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    assert "content_policy_violation" in sse_frames(response.text)[-1]
